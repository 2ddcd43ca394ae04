"""warning: ix_warning_queue orders open warnings first, so the queue's "all" page reads it too

Revision ID: 0004_queue_open_first
Revises: 0003_province_snapshot
Create Date: 2026-11-26 17:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004_queue_open_first"
down_revision = "0003_province_snapshot"
branch_labels = None
depends_on = None


def _recreate(status_column) -> None:
    # Autogenerate skips expression indexes: written by hand, as in 0002_domains.
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.drop_index("ix_warning_queue")
        batch_op.create_index(
            "ix_warning_queue",
            ["institution_id", status_column, sa.text("level DESC"), "opened_at", "id"],
            unique=False,
            postgresql_include=["student_id"],
        )


def upgrade():
    _recreate(sa.text("status DESC"))


def downgrade():
    _recreate("status")
