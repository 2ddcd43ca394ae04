"""concern_report: `weekly_report_id`, the week's report of the unit a concern was filed through

Revision ID: 0041_concern_weekly_report
Revises: 0040_interview_assessment
Create Date: 2026-12-07 16:30:00

A concern report filed in a week now counts as that week's report from its reporter for the unit
(`warning.reports.file_concern_report`): the unit has a `weekly_report` row for the week (made by
the concern when there was none) and the concern names it, so "all is well" is refused for a week
with a concern and the department's page reads the week as having one. Reports filed before this
revision are left as they were (no row is made for a past week: that would rewrite which reports
were missing then).
"""

import sqlalchemy as sa
from alembic import op

revision = "0041_concern_weekly_report"
down_revision = "0040_interview_assessment"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("concern_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weekly_report_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_concern_report_weekly_report_id_weekly_report"),
            "weekly_report",
            ["weekly_report_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_concern_report_weekly_report_id"), ["weekly_report_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("concern_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_report_weekly_report_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_concern_report_weekly_report_id_weekly_report"), type_="foreignkey"
        )
        batch_op.drop_column("weekly_report_id")
