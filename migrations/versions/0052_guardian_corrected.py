"""student: who corrected the guardian on file, and when

Revision ID: 0052_guardian_corrected
Revises: 0051_appointment_visit_kind
Create Date: 2026-12-07 22:45:00

The guardian's name and number came only from the roster import. Whoever calls the family (the
department's counsellor, the school centre) may now correct them on the student file; the
student row records who did and when, so the file says so and a later roster import keeps the
correction against a file that still carries the old number.
"""

import sqlalchemy as sa
from alembic import op

revision = "0052_guardian_corrected"
down_revision = "0051_appointment_visit_kind"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guardian_corrected_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("guardian_corrected_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_student_guardian_corrected_by_id_user_account"),
            "user_account",
            ["guardian_corrected_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_student_guardian_corrected_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("guardian_corrected_at")
        batch_op.drop_column("guardian_corrected_by_id")
