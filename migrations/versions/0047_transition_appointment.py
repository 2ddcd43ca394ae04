"""referral_transition: the appointment time a booking set

Revision ID: 0047_transition_appointment
Revises: 0046_task_reminded_at
Create Date: 2026-12-07 20:20:00

A referral's history listed "appointment booked" twice when the appointment was moved, with no
time: each booking now keeps the time it set, so the history says the old and the new time.
Bookings made before have none and are listed as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0047_transition_appointment"
down_revision = "0046_task_reminded_at"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referral_transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appointment_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("referral_transition", schema=None) as batch_op:
        batch_op.drop_column("appointment_at")
