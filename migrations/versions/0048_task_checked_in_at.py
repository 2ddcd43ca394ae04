"""task: a peer's last check-in on a peer watch that stays open until its end

Revision ID: 0048_task_checked_in_at
Revises: 0047_transition_appointment
Create Date: 2026-12-07 22:40:00

A dorm informant's one tap on "mark done" on a red's week-long peer watch ended it on its first
day, and the counsellor's timeline read the watch as done. A tap before the watch's last day now
records a check-in (on the warning's timeline) and keeps the watch open; `checked_in_at` is the
latest, which the peer's list shows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0048_task_checked_in_at"
down_revision = "0047_transition_appointment"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("checked_in_at")
