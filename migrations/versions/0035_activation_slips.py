"""An activation batch keeps its issuing form's one-time token, so reloading the print page
issues nothing new, and may be one student's (a lost slip)

Revision ID: 0035_activation_slips
Revises: 0034_family_contact_submission
Create Date: 2026-12-06 18:40:00

The print page answers the issuing POST; a reload sent the form again and issued a second batch,
which replaced every code on the slips just printed. Existing batches have no token (NULL, which
the unique constraint allows any number of). A lost slip could be replaced only by issuing its
whole class again, which voided every classmate's unused slip; `student_id` names the one student
a batch was for.
"""

import sqlalchemy as sa
from alembic import op

revision = "0035_activation_slips"
down_revision = "0034_family_contact_submission"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activation_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_activation_batch_submission"), ["submission"]
        )
        batch_op.add_column(sa.Column("student_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_activation_batch_student_id_student"), "student", ["student_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("activation_batch", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activation_batch_student_id_student"), type_="foreignkey"
        )
        batch_op.drop_column("student_id")
        batch_op.drop_constraint(batch_op.f("uq_activation_batch_submission"), type_="unique")
        batch_op.drop_column("submission")
