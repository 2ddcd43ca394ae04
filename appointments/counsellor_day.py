"""A counsellor's day: today's sessions, earlier ones still without an outcome, notes left as
drafts and trainees' notes to co-sign.

The day page lists them and the home page counts them; both ask here, so the number on the home
page is the number of rows the page behind it shows. Every query is the counsellor's own
appointments within `session_permissions.appointment_clause`, the same reach as the day page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from appointments import session_permissions as permissions
from appointments.models import LIVE_STATES
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import NoteState
from appointments.models import SessionNote
from campus import clock
from campus.models import User

# The day page lists this many earlier sessions without an outcome; the home page counts them all.
UNRECORDED_SHOWN = 50


@dataclass(frozen=True)
class Day:
    """One local day as the UTC instants the database holds."""

    date: date
    start: datetime
    end: datetime


def day_of(now: datetime, zone: ZoneInfo) -> Day:
    """The local day `now` falls in."""
    today = clock.local_date(now, zone)
    return Day(
        today, clock.day_start(today, zone), clock.day_start(today + timedelta(days=1), zone)
    )


def _own(counsellor: User) -> ColumnElement[bool]:
    return (Appointment.counsellor_id == counsellor.id) & permissions.appointment_clause(counsellor)


def _unrecorded(day: Day) -> ColumnElement[bool]:
    """Before today and still only booked: nobody recorded whether the student came."""
    return (Appointment.state == AppointmentState.BOOKED) & (Appointment.starts_at < day.start)


def _draft(author: User) -> ColumnElement[bool]:
    """Not yet signed: neither the supervisor nor the director can read it."""
    return (SessionNote.author_id == author.id) & (SessionNote.state == NoteState.DRAFT)


def _to_co_sign(supervisor: User) -> ColumnElement[bool]:
    """A trainee's signed note naming `supervisor` for the co-sign."""
    return (SessionNote.state == NoteState.SIGNED) & (SessionNote.supervisor_id == supervisor.id)


def unrecorded(session: Session, counsellor: User, day: Day) -> list[Appointment]:
    """The oldest `UNRECORDED_SHOWN` earlier sessions without an outcome, with their students."""
    query = (
        select(Appointment)
        .where(_own(counsellor), _unrecorded(day))
        .options(selectinload(Appointment.student))
        .order_by(Appointment.starts_at)
        .limit(UNRECORDED_SHOWN)
    )
    return list(session.scalars(query))


def drafts(session: Session, author: User) -> list[SessionNote]:
    """The author's drafts with their appointments and students, the oldest session first."""
    query = (
        select(SessionNote)
        .where(_draft(author), permissions.note_clause(author))
        .join(SessionNote.appointment)
        .options(selectinload(SessionNote.appointment).selectinload(Appointment.student))
        .order_by(Appointment.starts_at)
    )
    return list(session.scalars(query))


def awaiting_co_sign(session: Session, supervisor: User) -> list[SessionNote]:
    """Trainees' notes waiting for `supervisor`'s co-sign, the oldest signature first."""
    query = (
        select(SessionNote)
        .where(_to_co_sign(supervisor), permissions.note_clause(supervisor))
        .order_by(SessionNote.signed_at, SessionNote.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Counts:
    """What the home page says of a counsellor's sessions."""

    today: int  # booked, held or missed today (not the cancelled ones)
    next_start: datetime | None  # the next of today's still to come
    unrecorded: int
    drafts: int
    to_co_sign: int


def counts(session: Session, counsellor: User, now: datetime, zone: ZoneInfo) -> Counts:
    """Two statements, whatever the caseload: one over the appointments, one over the notes."""
    day = day_of(now, zone)
    today = (
        Appointment.state.in_(LIVE_STATES)
        & (Appointment.starts_at >= day.start)
        & (Appointment.starts_at < day.end)
    )
    upcoming = (
        today & (Appointment.state == AppointmentState.BOOKED) & (Appointment.starts_at >= now)
    )
    appointments = session.execute(
        select(
            func.count(case((today, 1))),
            func.min(case((upcoming, Appointment.starts_at))),
            func.count(case((_unrecorded(day), 1))),
        ).where(_own(counsellor), Appointment.starts_at < day.end)
    ).one()
    notes = session.execute(
        select(
            func.count(case((_draft(counsellor), 1))),
            func.count(case((_to_co_sign(counsellor), 1))),
        ).where(permissions.note_clause(counsellor))
    ).one()
    return Counts(
        today=appointments[0],
        next_start=appointments[1],
        unrecorded=appointments[2],
        drafts=notes[0],
        to_co_sign=notes[1],
    )
