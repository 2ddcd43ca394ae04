"""The duty roster (值班表): who of the counselling centre is on duty for walk-ins and crises when.

The director plans shifts (a person, from–to in the institution's local time, a phone and a
note); the crisis pages and the staff's workbench show who is on duty now, and a new red warning
notifies them in its own transaction (`warning.response.plan_response` asks `on_duty_user_ids`).
Shifts of different people may overlap (a second person as back-up); one person's may not. A
shift is at most a day long; a past shift is the record of who was on duty and is not removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from appointments.models import DutyShift
from appointments.permissions import duty_candidates
from campus import audit
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.local_time import Moment
from campus.models import Institution
from campus.models import User
from campus.outcomes import Refused
from campus.submissions import stored_once

LONGEST_SHIFT = timedelta(hours=24)


class RosterError(Refused):
    """A shift that cannot be planned or removed; `message` says why."""


def on_duty(session: Session, institution_id: int, now: datetime) -> list[DutyShift]:
    """The shifts running at `now` in the institution, earliest first, with their people."""
    return list(
        session.scalars(
            select(DutyShift)
            .options(joinedload(DutyShift.user))
            .where(
                DutyShift.institution_id == institution_id,
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
            )
            .order_by(DutyShift.starts_at, DutyShift.id)
        )
    )


def on_duty_user_ids(session: Session, institution_id: int, now: datetime) -> list[int]:
    """Who is on duty at `now` (active accounts), for the red warning's recipients."""
    return list(
        session.scalars(
            select(DutyShift.user_id)
            .join(User, User.id == DutyShift.user_id)
            .where(
                DutyShift.institution_id == institution_id,
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
                User.active.is_(True),
            )
            .distinct()
        )
    )


def week_of(session: Session, institution: Institution, week_start: date) -> list[DutyShift]:
    """The shifts touching the local week that begins on `week_start`, in order."""
    zone = clock.institution_zone(institution)
    lower = clock.to_utc(datetime.combine(week_start, datetime.min.time()), zone)
    upper = lower + timedelta(days=7)
    return list(
        session.scalars(
            select(DutyShift)
            .options(joinedload(DutyShift.user))
            .where(
                DutyShift.institution_id == institution.id,
                DutyShift.starts_at < upper,
                DutyShift.ends_at > lower,
            )
            .order_by(DutyShift.starts_at, DutyShift.id)
        )
    )


def candidates(session: Session, institution_id: int) -> list[User]:
    """Who may be put on duty: the centre's counsellors and director, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), duty_candidates(institution_id))
            .order_by(User.name, User.id)
        )
    )


@dataclass(frozen=True)
class ShiftInput:
    user_id: int
    starts_at: datetime  # naive UTC
    ends_at: datetime  # naive UTC
    phone: str = ""
    note: str = ""


def check_shift(
    session: Session, institution: Institution, data: ShiftInput, now: datetime
) -> User:
    """Refuse a shift that cannot be kept; returns the person on duty. Writes nothing."""
    person = session.scalar(
        select(User).where(
            User.id == data.user_id, User.active.is_(True), duty_candidates(institution.id)
        )
    )
    if person is None:
        raise RosterError(Message(N_("Choose someone of the counselling centre.")))
    if data.ends_at <= data.starts_at:
        raise RosterError(Message(N_("The shift must end after it starts.")))
    if data.ends_at - data.starts_at > LONGEST_SHIFT:
        raise RosterError(
            Message(N_("A shift lasts at most 24 hours: plan longer duty as several shifts."))
        )
    if data.ends_at <= now:
        raise RosterError(Message(N_("This shift is over already.")))
    clash = session.scalar(
        select(DutyShift).where(
            DutyShift.user_id == person.id,
            DutyShift.starts_at < data.ends_at,
            DutyShift.ends_at > data.starts_at,
        )
    )
    if clash is not None:
        zone = clock.institution_zone(institution)
        raise RosterError(
            Message(
                N_("%(name)s is already on duty from %(start)s to %(end)s."),
                name=person.name,
                start=Moment(clash.starts_at, zone),
                end=Moment(clash.ends_at, zone),
            )
        )
    return person


def add_shift(
    session: Session,
    actor: User,
    institution: Institution,
    data: ShiftInput,
    now: datetime,
    submission: str | None = None,
) -> DutyShift:
    """Check, then plan the shift with its audit row; commits. The same form sent again
    (`submission`, its one-time token) returns the shift it planned: two requests of one double
    tap would otherwise both pass the overlap check."""

    def plan() -> DutyShift:
        person = check_shift(session, institution, data, now)
        shift = DutyShift(
            institution_id=institution.id,
            user_id=person.id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            phone=data.phone.strip()[:40],
            note=data.note.strip()[:200],
            created_by_id=actor.id,
            created_at=now,
            submission=submission,
        )
        session.add(shift)
        session.flush()
        audit.record_on(
            session, shift, actor=actor, action="duty_shift_add", record_type="duty_roster"
        )
        return shift

    mine = DutyShift.institution_id == institution.id
    return stored_once(session, DutyShift, submission, mine, plan).record


def remove_shift(session: Session, actor: User, shift: DutyShift, now: datetime) -> None:
    """Remove a shift that has not ended (a past one is the record); audited, commits."""
    if shift.ends_at <= now:
        raise RosterError(Message(N_("A past shift is the record of who was on duty: it stays.")))
    audit.record_on(
        session, shift, actor=actor, action="duty_shift_remove", record_type="duty_roster"
    )
    session.delete(shift)
    session.commit()


def find_shift(session: Session, institution_id: int, shift_id: int) -> DutyShift | None:
    """The shift if it is `institution_id`'s; None for a foreign or missing id."""
    return session.scalar(
        select(DutyShift).where(
            DutyShift.id == shift_id, DutyShift.institution_id == institution_id
        )
    )
