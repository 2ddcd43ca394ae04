"""student: a student number is unique among the students not removed as entered in error

Revision ID: 0044_student_removed_in_error
Revises: 0043_interview_due_moved
Create Date: 2026-12-07 19:15:00

A student added by mistake whom somebody looked at (the audit trail names her, and audit rows
are never rewritten) is removed by keeping her row as a tombstone, enrolment status REMOVED,
which no read sees but the audit trail. Her number, a typo or a duplicate, must then be free for
the student it really is: the unique constraint on (institution, number) becomes a unique index
over the students not removed. The tombstone keeps only her name and number: gender, birth date,
department and class may be empty, so the class a mistaken import created can still be removed. The status column is a plain string (no database enum or CHECK),
so the new status needs no change of its own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0044_student_removed_in_error"
down_revision = "0043_interview_due_moved"
branch_labels = None
depends_on = None

LIVE = "enrolment_status != 'REMOVED'"
TOMBSTONE_EMPTY = (
    ("gender", sa.String(length=10)),
    ("birth_date", sa.Date()),
    ("department_id", sa.Integer()),
    ("class_id", sa.Integer()),
)


def upgrade():
    with op.batch_alter_table("student", schema=None) as batch_op:
        for column, kind in TOMBSTONE_EMPTY:
            batch_op.alter_column(column, existing_type=kind, nullable=True)
        batch_op.drop_constraint("uq_student_institution_id_student_number", type_="unique")
        batch_op.create_index(
            "uq_student_number_live",
            ["institution_id", "student_number"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )


def downgrade():
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.drop_index("uq_student_number_live")
        batch_op.create_unique_constraint(
            "uq_student_institution_id_student_number", ["institution_id", "student_number"]
        )
        for column, kind in TOMBSTONE_EMPTY:
            batch_op.alter_column(column, existing_type=kind, nullable=False)
