"""One open leave per student, kept by a partial unique index

Revision ID: 0032_one_open_leave
Revises: 0031_plan_life_submission
Create Date: 2026-12-06 09:00:00

`check_start_leave` refused a second open leave, but two requests at once (a double submit of the
leave form) both passed it. As the warning's one-open-case index (0002), the predicate names the
enum member as stored (non-native enums store the name).
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_one_open_leave"
down_revision = "0031_plan_life_submission"
branch_labels = None
depends_on = None

OPEN = sa.text("status != 'CLOSED'")


def upgrade():
    with op.batch_alter_table("leave_of_absence", schema=None) as batch_op:
        batch_op.create_index(
            "uq_leave_one_open_per_student",
            ["student_id"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade():
    with op.batch_alter_table("leave_of_absence", schema=None) as batch_op:
        batch_op.drop_index("uq_leave_one_open_per_student", sqlite_where=OPEN, postgresql_where=OPEN)
