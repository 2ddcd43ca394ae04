"""Demo bookings: so the student's "预约咨询" page has free times and the counsellor's list has
sessions. `seed_bookings` is called from the domain's demo; when the calendar has made no slots
for the coming two weeks it makes a plain weekday timetable for the two demo counsellors.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import booking
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.session_demo import recorded_outcome
from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User

# Local start times of the demo timetable, weekdays: two mornings, three afternoons.
HOURS = (time(9), time(10), time(14), time(15), time(16))
DAYS_AHEAD = 14
ROOMS = ("心理中心 201", "心理中心 202")


def seed_bookings(session: Session, uni: Institution) -> None:
    """Demo slots (if none), one earlier session the demo student attended (so "a counsellor
    you have seen before" has someone to offer), and a few booked appointments with their
    pre-checks; nothing else is changed. Commits as `booking.book` does."""
    now = clock.now()
    counsellors = list(
        session.scalars(
            select(User)
            .join(User.roles)
            .where(
                RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
                RoleAssignment.institution_id == uni.id,
            )
            .order_by(User.login)
            .limit(2)
        )
    )
    if not counsellors:
        return
    _profiles(session, uni, counsellors)
    if session.scalar(select(Slot.id).where(Slot.institution_id == uni.id).limit(1)) is None:
        _timetable(session, uni, counsellors, now)
    students = list(
        session.scalars(
            select(Student)
            .where(Student.institution_id == uni.id, Student.user_id.is_not(None))
            .order_by(Student.student_number.desc())
            .limit(4)
        )
    )
    if not students:
        return
    demo_student, others = students[0], students[1:]
    _attended(session, uni, demo_student, counsellors[0], now)
    session.commit()
    answers = booking.PreCheckAnswers(
        reason="最近睡不好，考试压力大", phq2={1: 1, 2: 1}, gad2={1: 2, 2: 1}, safety=0
    )
    for student in others:
        slot = booking.first_free(session, student, now=now)
        if slot is None or student.user is None:
            break
        try:
            booking.book(
                session,
                student=student,
                slot=slot,
                booked_by=student.user,
                kind=slot.kind,
                precheck=answers,
                now=now,
            )
        except booking.BookingError:
            continue


def _profiles(session: Session, uni: Institution, counsellors: list[User]) -> None:
    """A profile for each demo counsellor that has none: one woman, one man."""
    for user, gender in zip(counsellors, ("F", "M"), strict=False):
        if session.scalar(select(CounsellorProfile.id).where(CounsellorProfile.user_id == user.id)):
            continue
        session.add(CounsellorProfile(user_id=user.id, institution_id=uni.id, gender=gender))
    session.flush()


def _timetable(session: Session, uni: Institution, counsellors: list[User], now: datetime) -> None:
    zone = clock.institution_zone(uni)
    today = clock.local_date(now, zone)
    for offset in range(1, DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for n, counsellor in enumerate(counsellors):
            for hour in HOURS[n % 2 :: 1 if n == 0 else 2]:
                starts = clock.to_utc(datetime.combine(day, hour), zone)
                session.add(
                    Slot(
                        institution_id=uni.id,
                        counsellor_id=counsellor.id,
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=50),
                        room=ROOMS[n % len(ROOMS)],
                        kind=SessionKind.FIRST_VISIT,
                        capacity=1,
                    )
                )
    session.flush()


def _attended(
    session: Session, uni: Institution, student: Student, counsellor: User, now: datetime
) -> None:
    """An earlier first visit the demo student came to, in a slot of its own."""
    zone = clock.institution_zone(uni)
    day = clock.local_date(now, zone) - timedelta(days=10)
    starts = clock.to_utc(datetime.combine(day, time(11)), zone)
    slot = Slot(
        institution_id=uni.id,
        counsellor_id=counsellor.id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        room=ROOMS[0],
        kind=SessionKind.FIRST_VISIT,
        capacity=1,
    )
    session.add(slot)
    session.flush()
    attended = Appointment(
        institution_id=uni.id,
        slot_id=slot.id,
        seat=1,
        student_id=student.id,
        counsellor_id=counsellor.id,
        starts_at=starts,
        kind=SessionKind.FIRST_VISIT,
        state=AppointmentState.ATTENDED,
        booked_by_id=student.user_id or counsellor.id,
        booked_at=starts - timedelta(days=3),
    )
    session.add(attended)
    session.flush()
    session.add(recorded_outcome(attended))
    session.flush()
