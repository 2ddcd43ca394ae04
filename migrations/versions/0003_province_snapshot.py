"""oversight: province_snapshot, the province view's figures computed ahead by a sweep

Revision ID: 0003_province_snapshot
Revises: 0002_domains
Create Date: 2026-11-26 17:12:19.466148

"""

import sqlalchemy as sa
from alembic import op

revision = "0003_province_snapshot"
down_revision = "0002_domains"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "province_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=12), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("frames", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_snapshot")),
        sa.UniqueConstraint("by", "first_month", "last_month", name="uq_province_period"),
    )


def downgrade():
    op.drop_table("province_snapshot")
