"""A notification channel keeps its form's one-time token, so a form sent twice is one channel

Revision ID: 0035_channel_submission
Revises: 0034_staffing_submission
Create Date: 2026-12-06 11:15:00

A double submit of the channel form added the same group robot twice, and every note for its
role was posted into the group twice. Existing channels have no token (NULL, which the unique
constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0035_channel_submission"
down_revision = "0034_staffing_submission"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification_channel", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_notification_channel_submission"), ["submission"]
        )


def downgrade():
    with op.batch_alter_table("notification_channel", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_notification_channel_submission"), type_="unique")
        batch_op.drop_column("submission")
