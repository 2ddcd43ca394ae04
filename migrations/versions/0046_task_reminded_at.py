"""task: when its assignee was reminded of it (a closed warning's review)

Revision ID: 0046_task_reminded_at
Revises: 0045_hospital_department_en
Create Date: 2026-12-07 20:30:00

A school counsellor closing a warning sets a review date; it was stored and shown nowhere.
Closing now gives her a review task due that day, and the scheduler reminds her on its
morning, once: `reminded_at` records that it did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0046_task_reminded_at"
down_revision = "0045_hospital_department_en"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
