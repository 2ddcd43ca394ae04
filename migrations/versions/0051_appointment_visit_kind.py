"""appointment.kind: what the session is for the student, not the kind of time it took

Revision ID: 0051_appointment_visit_kind
Revises: 0050_weekly_report_added_to_at
Create Date: 2026-12-07 22:40:00

Every page read a first-visit time booked by a student who had attended an individual session
before as her follow-up (and a follow-up time taken by a newcomer as her first visit), while the
appointment stored the slot's kind. Bookings now store what the session is for the student
(`booking.visit_kind`); this brings the appointments booked before into line. The slot keeps
the kind its counsellor published. Data only; the downgrade leaves the corrected kinds.
"""

from alembic import op

revision = "0051_appointment_visit_kind"
down_revision = "0050_weekly_report_added_to_at"
branch_labels = None
depends_on = None

# Enum columns store the member's name. An individual session attended before this one's start
# makes it a follow-up; none makes it a first visit. Group sessions are left as they are.
_CAME_BEFORE = """
    EXISTS (
        SELECT 1 FROM appointment AS earlier
        WHERE earlier.student_id = appointment.student_id
          AND earlier.state = 'ATTENDED'
          AND earlier.kind IN ('FIRST_VISIT', 'FOLLOW_UP')
          AND earlier.starts_at < appointment.starts_at
    )
"""


def upgrade():
    op.execute(f"UPDATE appointment SET kind = 'FOLLOW_UP' WHERE kind = 'FIRST_VISIT' AND {_CAME_BEFORE}")
    op.execute(
        f"UPDATE appointment SET kind = 'FIRST_VISIT' WHERE kind = 'FOLLOW_UP' AND NOT {_CAME_BEFORE}"
    )


def downgrade():
    pass
