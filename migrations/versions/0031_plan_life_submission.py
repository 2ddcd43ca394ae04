"""A life event and a return-plan item keep their form's one-time token, so a form sent twice is
one record

Revision ID: 0031_plan_life_submission
Revises: 0030_referral_submission
Create Date: 2026-12-06 08:10:00

A double submit recorded a life event twice (two signals on the student's timeline) or added a
plan item twice (two tasks for its owner). Existing rows have no token (NULL, which the unique
constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_plan_life_submission"
down_revision = "0030_referral_submission"
branch_labels = None
depends_on = None

TABLES = ("life_event", "return_plan_item")


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
