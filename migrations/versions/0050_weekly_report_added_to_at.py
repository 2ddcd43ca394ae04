"""weekly_report: when it was last added to (a note after an "all is well", a concern report)

Revision ID: 0050_weekly_report_added_to_at
Revises: 0049_interview_caseload
Create Date: 2026-12-07 22:40:00

The department's list showed a class's report at the time of its first "all is well" (05:42)
though its reporter added a note at 05:47 and a concern at 05:48. `added_to_at` records the
latest addition; existing rows take their latest concern report filed after them (a note's
time was not kept).
"""

import sqlalchemy as sa
from alembic import op

revision = "0050_weekly_report_added_to_at"
down_revision = "0049_interview_caseload"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("weekly_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_to_at", sa.DateTime(), nullable=True))
    op.execute(
        """
        UPDATE weekly_report SET added_to_at = (
            SELECT max(concern_report.filed_at) FROM concern_report
            WHERE concern_report.weekly_report_id = weekly_report.id
              AND concern_report.filed_at > weekly_report.filed_at
        )
        """
    )


def downgrade():
    with op.batch_alter_table("weekly_report", schema=None) as batch_op:
        batch_op.drop_column("added_to_at")
