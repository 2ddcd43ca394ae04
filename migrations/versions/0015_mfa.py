"""Two-factor sign-in: totp_enrolment (a user's authenticator app, its secret encrypted),
recovery_code (single-use codes, argon2 hashes) and mfa_policy (an institution's own choice of
the roles that must use it; without a row, MFA_REQUIRED_ROLES applies)

Revision ID: 0015_mfa
Revises: 0014_activation
Create Date: 2026-12-05 01:00:00

No institution gets a row: each starts on the configured default (school counsellors, the
director and administrators), so those people set an app up at their next sign-in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_mfa"
down_revision = "0014_activation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "totp_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_totp_enrolment_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_enrolment")),
        sa.UniqueConstraint("user_id", name=op.f("uq_totp_enrolment_user_id")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_recovery_code_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"], unique=False)
    op.create_table(
        "mfa_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("required_roles", sa.String(length=400), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institution.id"], name=op.f("fk_mfa_policy_institution_id_institution")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user_account.id"], name=op.f("fk_mfa_policy_updated_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_policy")),
        sa.UniqueConstraint("institution_id", name=op.f("uq_mfa_policy_institution_id")),
    )


def downgrade():
    op.drop_table("mfa_policy")
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_table("totp_enrolment")
