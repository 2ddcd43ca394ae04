"""A notification records when it last went out by mail and channels, so a standing note (a red
left unacknowledged at school leadership) is raised again in the inbox every hour but mailed
again only at the reminder interval

Revision ID: 0036_notification_sent_at
Revises: 0035_activation_slips
Create Date: 2026-12-08 10:00:00

Existing notes have none (NULL): their creation time stands in for it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0036_notification_sent_at"
down_revision = "0035_activation_slips"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("sent_at")
