"""A counsellor's judgement keeps its form's one-time token, so a form sent twice is one signal

Revision ID: 0033_judgement_submission
Revises: 0032_one_open_leave
Create Date: 2026-12-06 10:10:00

A judgement is a `signal` row with an explicit level. A double submit of the judgement form
recorded two such signals on the student's timeline. Existing signals have no token (NULL, which
the unique constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_judgement_submission"
down_revision = "0032_one_open_leave"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_signal_submission"), ["submission"])


def downgrade():
    with op.batch_alter_table("signal", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_signal_submission"), type_="unique")
        batch_op.drop_column("submission")
