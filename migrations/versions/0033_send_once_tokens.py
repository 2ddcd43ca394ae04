"""A counsellor's judgement, a staffing register entry, a notification channel, a weekly
availability template and a duty shift keep their form's one-time token, so a form sent twice is
one record

Revision ID: 0033_send_once_tokens
Revises: 0032_one_open_leave
Create Date: 2026-12-06 11:30:00

A double submit recorded a judgement twice (two counsellor signals on the student's timeline),
added a teacher's post twice (the staffing ratio counted them twice) or a group robot twice
(every note posted into the group twice). A template and a shift refuse an overlap, but two
requests of one double tap both passed that check and stored two. Existing rows have no token
(NULL, which the unique constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_send_once_tokens"
down_revision = "0032_one_open_leave"
branch_labels = None
depends_on = None

TABLES = (
    "signal",
    "staffing_entry",
    "notification_channel",
    "availability_template",
    "duty_shift",
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_submission"), ["submission"])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_submission"), type_="unique")
            batch_op.drop_column("submission")
