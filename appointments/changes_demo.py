"""Demo data of the changes: a student whose two no-shows leave booking to the centre (so the
director's "booking by the centre" list has a name), and a student waiting for a group session
(so the waitlist is seen). Called from the domain's demo after the bookings."""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from appointments.session_demo import recorded_outcome
from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User


def seed_changes(session: Session, uni: Institution) -> None:
    """Two missed first visits of one student, and one waiting entry of another; commits."""
    now = clock.now()
    counsellor = session.scalar(
        select(User)
        .join(User.roles)
        .where(
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR, RoleAssignment.institution_id == uni.id
        )
        .order_by(User.login)
        .limit(1)
    )
    students = list(
        session.scalars(
            select(Student)
            .where(Student.institution_id == uni.id, Student.user_id.is_not(None))
            .order_by(Student.student_number)
            .offset(20)
            .limit(2)
        )
    )
    if counsellor is None or len(students) < 2:
        return
    missing, waiting = students
    zone = clock.institution_zone(uni)
    for days_ago in (40, 12):
        day = clock.local_date(now, zone) - timedelta(days=days_ago)
        starts = clock.to_utc(datetime.combine(day, time(15)), zone)
        slot = Slot(
            institution_id=uni.id,
            counsellor_id=counsellor.id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=50),
            room="心理中心 201",
            kind=SessionKind.FIRST_VISIT,
            capacity=1,
        )
        session.add(slot)
        session.flush()
        missed = Appointment(
            institution_id=uni.id,
            slot_id=slot.id,
            student_id=missing.id,
            counsellor_id=counsellor.id,
            starts_at=starts,
            kind=SessionKind.FIRST_VISIT,
            state=AppointmentState.NO_SHOW,
            booked_by_id=missing.user_id or counsellor.id,
            booked_at=starts - timedelta(days=4),
        )
        session.add(missed)
        session.flush()
        session.add(recorded_outcome(missed))
    session.add(
        WaitlistEntry(
            institution_id=uni.id,
            student_id=waiting.id,
            kind=SessionKind.GROUP,
            state=WaitlistState.WAITING,
            joined_at=now - timedelta(days=2),
            queued_at=now - timedelta(days=2),
        )
    )
    session.commit()
