"""A weekly availability template and a duty shift keep their form's one-time token, so a form
sent twice is one record

Revision ID: 0034_roster_send_once
Revises: 0033_send_once_tokens
Create Date: 2026-12-06 11:40:00

Both refuse an overlap, but two requests of one double tap both passed that check and stored two
templates (whose slots then collided) or two identical shifts. Existing rows have no token (NULL,
which the unique constraint allows any number of).
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_roster_send_once"
down_revision = "0033_send_once_tokens"
branch_labels = None
depends_on = None

TABLES = ("availability_template", "duty_shift")


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
