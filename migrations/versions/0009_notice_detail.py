"""notification: detail, the in-app particulars of a notice (student, level, what is due) for a
reader whose scope covers the student; the mail keeps only the neutral text

Revision ID: 0009_notice_detail
Revises: 0008_notification_channels
Create Date: 2026-12-04 19:40:00

Existing notes keep no detail and read as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_notice_detail"
down_revision = "0008_notification_channels"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("detail")
