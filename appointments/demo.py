"""Demo data of the counselling appointments: every part's, called by `flask campus seed-demo`."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from campus.models import User


def seed(session: Session, institution: Institution) -> None:
    """Every appointments part's demo data for the demo university."""
    from appointments.booking_demo import seed_bookings
    from appointments.changes_demo import seed_changes
    from appointments.session_demo import seed_sessions

    seed_calendar(session, institution)
    seed_bookings(session, institution)
    seed_changes(session, institution)
    seed_sessions(session, institution)


# ==================================================================================================
# Counsellors' time and the duty roster
# ==================================================================================================

# (login, weekday, from, until, kind, room, session minutes, break minutes, capacity)
DEMO_TEMPLATES = (
    ("sc01", 1, time(14), time(17), "first_visit", "心理中心 302", 50, 10, 1),
    ("sc01", 3, time(9), time(12), "follow_up", "心理中心 302", 50, 10, 1),
    ("sc02", 0, time(14), time(17), "first_visit", "心理中心 305", 50, 10, 1),
    ("sc02", 2, time(9), time(12), "follow_up", "心理中心 305", 50, 10, 1),
    ("sc02", 4, time(15), time(16, 30), "group", "团体辅导室", 90, 0, 8),
)


def seed_calendar(session: Session, institution: Institution) -> None:
    """Profiles of the demo school counsellors (sc01, sc02), their weekly times, New Year's Day
    on the academic calendar, a duty roster for this week and next (days 08:00–20:00 in the duty
    room and nights on call by phone, the two counsellors by turns, the director at weekends) and
    the slots of this week and next, so the booking pages have something to book. Skipped once
    templates exist."""
    from appointments import availability
    from appointments.models import AcademicBreak
    from appointments.models import AvailabilityTemplate
    from appointments.models import CounsellorProfile
    from appointments.models import DutyShift
    from appointments.models import SessionKind

    if session.scalar(
        select(AvailabilityTemplate.id).where(AvailabilityTemplate.institution_id == institution.id)
    ):
        return
    staff = {
        u.login: u
        for u in session.scalars(
            select(User).where(
                User.institution_id == institution.id,
                User.login.in_(("sc01", "sc02", "director")),
            )
        )
    }
    if not {"sc01", "sc02", "director"} <= staff.keys():
        return
    director, first, second = staff["director"], staff["sc01"], staff["sc02"]
    now = clock.now()
    zone = clock.institution_zone(institution)
    today = clock.local_date(now, zone)
    monday = today - timedelta(days=today.weekday())
    session.add_all(
        [
            CounsellorProfile(user_id=first.id, institution_id=institution.id, gender="F", fte=1.0),
            CounsellorProfile(
                user_id=second.id,
                institution_id=institution.id,
                gender="M",
                fte=0.8,
                is_trainee=True,
                supervisor_id=first.id,
            ),
        ]
    )
    for login, weekday, starts, ends, kind, room, minutes, pause, capacity in DEMO_TEMPLATES:
        session.add(
            AvailabilityTemplate(
                institution_id=institution.id,
                counsellor_id=staff[login].id,
                weekday=weekday,
                starts=starts,
                ends=ends,
                session_minutes=minutes,
                break_minutes=pause,
                room=room,
                kind=SessionKind(kind),
                capacity=capacity,
                valid_from=monday,
                created_by_id=director.id,
            )
        )
    new_year = date(today.year + 1, 1, 1)
    session.add(
        AcademicBreak(
            institution_id=institution.id,
            name="元旦",
            name_en="New Year's Day",
            first_day=new_year,
            last_day=new_year + timedelta(days=2),
            created_by_id=director.id,
        )
    )
    phone = institution.on_duty_phone or ""
    for n in range(-1, 14):  # from the Sunday before: its night runs into Monday morning
        day = monday + timedelta(days=n)
        person = director if day.weekday() >= 5 else (first, second)[n % 2]
        # The day in the duty room, the night on call by phone (the other counsellor, the
        # director at weekends): a red raised at midnight still has someone to tell.
        night = director if day.weekday() >= 5 else (second, first)[n % 2]
        morning, evening = datetime.combine(day, time(8)), datetime.combine(day, time(20))
        shifts = (
            (person, morning, evening, "心理中心 301 值班室"),
            (night, evening, morning + timedelta(days=1), "夜间电话值班"),
        )
        for who, shift_start, shift_end, note in shifts:
            session.add(
                DutyShift(
                    institution_id=institution.id,
                    user_id=who.id,
                    starts_at=clock.to_utc(shift_start, zone),
                    ends_at=clock.to_utc(shift_end, zone),
                    phone=phone,
                    note=note,
                    created_by_id=director.id,
                )
            )
    session.flush()
    for week in (monday, monday + timedelta(days=7)):
        availability.open_week(session, institution, week, now)
