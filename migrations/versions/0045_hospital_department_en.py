"""hospital: the department's name in English (optional)

Revision ID: 0045_hospital_department_en
Revises: 0044_student_removed_in_error
Create Date: 2026-12-07 20:00:00

A hospital's English name was entered beside its Chinese one, but its department (心理科) had
only the Chinese: the English referral form printed "Hunan Brain Hospital · 心理科". The
administrator may now enter the department in English too; English documents print it, and
print the Chinese when none was entered.
"""

import sqlalchemy as sa
from alembic import op

revision = "0045_hospital_department_en"
down_revision = "0044_student_removed_in_error"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("hospital", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_en", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("hospital", schema=None) as batch_op:
        batch_op.drop_column("department_en")
