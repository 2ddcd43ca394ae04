"""activation_batch and activation_code: one-time codes printed on slips for a first sign-in
where the campus has no central sign-on

Revision ID: 0014_activation
Revises: 0013_sign_on
Create Date: 2026-12-05 00:30:00

Codes are stored only as argon2 hashes; nothing existing changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_activation"
down_revision = "0013_sign_on"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "activation_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("issued_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["class_id"], ["class_group.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["issued_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activation_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activation_batch_institution_id"), ["institution_id"], unique=False
        )
    op.create_table(
        "activation_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("replaced_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["activation_batch.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activation_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activation_code_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activation_code_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("activation_code")
    op.drop_table("activation_batch")
