"""return_plan_item: withdrawn, with who, when and why

Revision ID: 0053_plan_item_withdrawn
Revises: 0052_guardian_corrected
Create Date: 2026-12-07 22:30:00

A mistaken return-plan item could only be marked done or handed on: it printed on the return
opinion and gated the closure. The counsellor now withdraws it with a reason; it stays in the
record, marked withdrawn, and its owner's task is closed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0053_plan_item_withdrawn"
down_revision = "0052_guardian_corrected"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("return_plan_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_return_plan_item_withdrawn_by_id_user_account"),
            "user_account",
            ["withdrawn_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("return_plan_item", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_return_plan_item_withdrawn_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
