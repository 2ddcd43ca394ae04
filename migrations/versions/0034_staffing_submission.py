"""A staffing register entry keeps its form's one-time token, so a form sent twice is one post

Revision ID: 0034_staffing_submission
Revises: 0033_judgement_submission
Create Date: 2026-12-06 11:05:00

A double submit of the staffing register form added the same teacher's post twice, and the
staffing ratio (full-time teachers per students) counted them twice. Existing entries have no
token (NULL, which the unique constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_staffing_submission"
down_revision = "0033_judgement_submission"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staffing_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_staffing_entry_submission"), ["submission"]
        )


def downgrade():
    with op.batch_alter_table("staffing_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staffing_entry_submission"), type_="unique")
        batch_op.drop_column("submission")
