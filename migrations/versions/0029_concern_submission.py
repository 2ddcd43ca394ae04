"""A concern report keeps its form's one-time token, so a report sent twice is stored once

Revision ID: 0029_concern_submission
Revises: 0028_assessment_notes
Create Date: 2026-12-06 07:40:00

Two concern reports within 30 days raise a student to yellow; a double tap on "send" must not be
two reports. Existing reports have no token (NULL, which the unique constraint allows any number
of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_concern_submission"
down_revision = "0028_assessment_notes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("concern_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_concern_report_submission"), ["submission"]
        )


def downgrade():
    with op.batch_alter_table("concern_report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_concern_report_submission"), type_="unique")
        batch_op.drop_column("submission")
