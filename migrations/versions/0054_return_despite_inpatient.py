"""leave_of_absence: why a return was approved while a referral recorded no discharge

Revision ID: 0054_return_despite_inpatient
Revises: 0053_plan_item_withdrawn
Create Date: 2026-12-07 22:40:00

A return was approved the same day for a student whose referral was still "in treatment"
as an inpatient. Approving it now names the referral and asks for an explicit confirmation
with a reason, kept with the leave (encrypted, as the assessment note).
"""

import sqlalchemy as sa
from alembic import op

revision = "0054_return_despite_inpatient"
down_revision = "0053_plan_item_withdrawn"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("leave_of_absence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_inpatient_note", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("leave_of_absence", schema=None) as batch_op:
        batch_op.drop_column("return_inpatient_note")
