"""sign_on (an institution's CAS server or OpenID provider), institution.local_passwords,
user_session.signed_in_with and sign_on_ticket (the CAS ticket a single logout names)

Revision ID: 0013_sign_on
Revises: 0012_digest
Create Date: 2026-12-05 00:30:00

Existing institutions keep their passwords; existing sessions were started with a password.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sign_on"
down_revision = "0012_digest"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_on",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column(
            "protocol",
            sa.Enum("CAS", "OIDC", name="signonprotocol", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("cas_version", sa.Integer(), nullable=True),
        sa.Column("identity_attribute", sa.String(length=100), nullable=True),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("client_secret_env", sa.String(length=100), nullable=True),
        sa.Column("idp_enforces_mfa", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institution.id"], name=op.f("fk_sign_on_institution_id_institution")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_on")),
        sa.UniqueConstraint("institution_id", name=op.f("uq_sign_on_institution_id")),
    )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("local_passwords", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.alter_column("local_passwords", existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "signed_in_with", sa.String(length=10), nullable=False, server_default="password"
            )
        )
        batch_op.add_column(sa.Column("sign_on_ticket", sa.String(length=256), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_user_session_sign_on_ticket"), ["sign_on_ticket"], unique=False
        )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.alter_column("signed_in_with", existing_type=sa.String(10), server_default=None)


def downgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_sign_on_ticket"))
        batch_op.drop_column("sign_on_ticket")
        batch_op.drop_column("signed_in_with")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_column("local_passwords")
    op.drop_table("sign_on")
