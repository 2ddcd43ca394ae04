"""Counsellors' time: weekly templates, exceptions, the academic calendar, and the slots made
from them one local week at a time.

Rules:
- A template is a weekly window of one counsellor in the institution's zone; two templates of one
  counsellor may not overlap on the same weekday while both are valid. A window must hold at least
  one session, and a template whose validity is over is refused.
- An exception (leave, a holiday, a training) takes whole days, or a window of each day, out of
  one counsellor's templates; an academic break (term break, public holiday) takes whole days
  out of every counsellor's. Both are dates of the institution's calendar.
- `open_week` makes the bookable `Slot` rows of one local week: what the templates offer, minus
  exceptions and breaks, minus anything already begun. A second run adds nothing (the unique
  (counsellor, starts_at) index is the last word). It also withdraws the week's open slots an
  exception or break added later now covers; a covered slot someone booked is never withdrawn
  silently: the counsellor is told, once a day while it stays so.
- Adding an exception, break or template removal withdraws the covered slots at once (the same
  rule); removing an exception or break reopens the withdrawn slots a template still makes and
  nothing else covers.

Every public write checks first (`check_*` raises `AvailabilityError`, writes nothing), then
writes, audits and commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from appointments import booking
from appointments.models import LIVE_STATES
from appointments.models import AcademicBreak
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import AvailabilityException
from appointments.models import AvailabilityTemplate
from appointments.models import CounsellorProfile
from appointments.models import ExceptionReason
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from appointments.permissions import COUNSELLOR_ROLES
from appointments.permissions import DUTY_ROLES
from campus import audit
from campus import clock
from campus import notifications
from campus.i18n import N_
from campus.i18n import Message
from campus.local_time import Day
from campus.models import Institution
from campus.models import RoleAssignment
from campus.models import User
from campus.outcomes import Refused
from campus.submissions import Once
from campus.submissions import stored_once

# The note of booked sessions in a counsellor's time away leads to her page's list of them; of
# sessions on days the centre is closed, to the centre's list of appointments to rearrange.
MY_AVAILABILITY_LINK = "/appointments/availability/#clashes"
TO_REARRANGE_LINK = "/appointments/changes/to-rearrange"
# Bounds a counsellor would recognise as typing mistakes rather than a way of working.
SESSION_MINUTES = (15, 240)
BREAK_MINUTES = (0, 120)
GROUP_CAPACITY = (2, 30)
LONGEST_EXCEPTION_DAYS = 366
LONGEST_BREAK_DAYS = 200
WEEK = timedelta(days=7)


class AvailabilityError(Refused):
    """A change of someone's time that cannot be made; `message` says why, in words a counsellor
    can act on."""


def _refuse(text: str, **params: object) -> AvailabilityError:
    return AvailabilityError(Message(text, **params))


def local_today(institution: Institution, now: datetime) -> date:
    """The institution's calendar date at `now`."""
    return clock.local_date(now, clock.institution_zone(institution))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --------------------------------------------------------------------------------------------------
# Reading: whose time, which templates, what is coming
# --------------------------------------------------------------------------------------------------


def counsellors(session: Session, institution_id: int) -> list[User]:
    """The institution's school counsellors (working role), by name."""
    return list(
        session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.role.in_(COUNSELLOR_ROLES),
                RoleAssignment.institution_id == institution_id,
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
            .distinct()
        )
    )


def templates_of(session: Session, counsellor_ids: Iterable[int]) -> list[AvailabilityTemplate]:
    ids = list(counsellor_ids)
    return list(
        session.scalars(
            select(AvailabilityTemplate)
            .where(AvailabilityTemplate.counsellor_id.in_(ids))
            .order_by(
                AvailabilityTemplate.counsellor_id,
                AvailabilityTemplate.weekday,
                AvailabilityTemplate.starts,
                AvailabilityTemplate.valid_from,
            )
        )
    )


def exceptions_of(session: Session, counsellor_id: int, today: date) -> list[AvailabilityException]:
    """The counsellor's exceptions not yet over, soonest first."""
    return exceptions_of_many(session, [counsellor_id], today).get(counsellor_id, [])


def exceptions_of_many(
    session: Session, counsellor_ids: Iterable[int], today: date
) -> dict[int, list[AvailabilityException]]:
    """Counsellor id -> their exceptions not yet over, soonest first; one query."""
    found: dict[int, list[AvailabilityException]] = {}
    for row in session.scalars(
        select(AvailabilityException)
        .where(
            AvailabilityException.counsellor_id.in_(list(counsellor_ids)),
            AvailabilityException.last_day >= today,
        )
        .order_by(AvailabilityException.first_day, AvailabilityException.id)
    ):
        found.setdefault(row.counsellor_id, []).append(row)
    return found


def breaks_of(session: Session, institution_id: int, today: date) -> list[AcademicBreak]:
    """The institution's academic breaks not yet over, soonest first."""
    return list(
        session.scalars(
            select(AcademicBreak)
            .where(AcademicBreak.institution_id == institution_id, AcademicBreak.last_day >= today)
            .order_by(AcademicBreak.first_day, AcademicBreak.id)
        )
    )


def profile_of(session: Session, counsellor: User) -> CounsellorProfile | None:
    return profiles_of(session, [counsellor.id]).get(counsellor.id)


def profiles_of(session: Session, user_ids: Iterable[int]) -> dict[int, CounsellorProfile]:
    """User id -> profile (with its supervisor), for those who have one; one query."""
    return {
        p.user_id: p
        for p in session.scalars(
            select(CounsellorProfile)
            .options(joinedload(CounsellorProfile.supervisor))
            .where(CounsellorProfile.user_id.in_(list(user_ids)))
        )
    }


@dataclass(frozen=True)
class ComingSlot:
    slot: Slot
    booked: int  # live appointments holding a seat
    # What the session is: the slot's kind, or, for a first-visit time booked by a student who
    # came before, a follow-up (`booking.visit_kind`).
    kind: SessionKind


def coming_slots(
    session: Session, counsellor_id: int, now: datetime, days: int = 14
) -> list[ComingSlot]:
    """The counsellor's slots from now for `days` days, open or withdrawn, with how many seats
    are booked and what kind of session each is for whoever booked it: three queries."""
    slots = list(
        session.scalars(
            select(Slot)
            .where(
                Slot.counsellor_id == counsellor_id,
                Slot.starts_at >= now,
                Slot.starts_at < now + timedelta(days=days),
            )
            .order_by(Slot.starts_at)
        )
    )
    booked = _booked_students(session, [s.id for s in slots])
    since = booking.returning_since(session, {i for ids in booked.values() for i in ids})
    return [
        ComingSlot(s, len(booked.get(s.id, [])), _coming_kind(s, booked.get(s.id, []), since))
        for s in slots
    ]


def _coming_kind(slot: Slot, students: list[int], since: dict[int, datetime]) -> SessionKind:
    """A first-visit time booked by one returning student is a follow-up; a group session, an
    open time or a time of several students keeps the kind the slot offers."""
    if len(students) != 1:
        return slot.kind
    return booking.visit_kind(slot.kind, slot.starts_at, since.get(students[0]))


def _booked_students(session: Session, slot_ids: list[int]) -> dict[int, list[int]]:
    """The students holding a live seat of each slot."""
    if not slot_ids:
        return {}
    students: dict[int, list[int]] = {}
    for slot_id, student_id in session.execute(
        select(Appointment.slot_id, Appointment.student_id).where(
            Appointment.slot_id.in_(slot_ids), Appointment.state.in_(LIVE_STATES)
        )
    ).tuples():
        students.setdefault(slot_id, []).append(student_id)
    return students


def _booked_counts(session: Session, slot_ids: list[int]) -> dict[int, int]:
    if not slot_ids:
        return {}
    counts: dict[int, int] = {}
    for slot_id in session.scalars(
        select(Appointment.slot_id).where(
            Appointment.slot_id.in_(slot_ids), Appointment.state.in_(LIVE_STATES)
        )
    ):
        counts[slot_id] = counts.get(slot_id, 0) + 1
    return counts


# --------------------------------------------------------------------------------------------------
# What covers a time: exceptions and breaks
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    """Days, or a window of each day, taken out: one counsellor's (an exception) or everyone's
    (a break, `counsellor_id` None)."""

    first_day: date
    last_day: date
    counsellor_id: int | None = None
    starts: time | None = None
    ends: time | None = None

    def covers(self, counsellor_id: int, local_start: datetime, local_end: datetime) -> bool:
        """Whether this takes out a session of `counsellor_id` from `local_start` to
        `local_end` (local wall-clock times of one day)."""
        if self.counsellor_id is not None and self.counsellor_id != counsellor_id:
            return False
        if not self.first_day <= local_start.date() <= self.last_day:
            return False
        if self.starts is None or self.ends is None:
            return True
        return local_start.time() < self.ends and self.starts < local_end.time()


def _exception_cover(row: AvailabilityException) -> Cover:
    return Cover(row.first_day, row.last_day, row.counsellor_id, row.starts, row.ends)


def _break_cover(row: AcademicBreak) -> Cover:
    return Cover(row.first_day, row.last_day)


def _covers(session: Session, institution_id: int, first: date, last: date) -> list[Cover]:
    """Every exception and break of the institution touching the days `first`..`last`."""
    exceptions = session.scalars(
        select(AvailabilityException).where(
            AvailabilityException.institution_id == institution_id,
            AvailabilityException.first_day <= last,
            AvailabilityException.last_day >= first,
        )
    )
    breaks = session.scalars(
        select(AcademicBreak).where(
            AcademicBreak.institution_id == institution_id,
            AcademicBreak.first_day <= last,
            AcademicBreak.last_day >= first,
        )
    )
    return [*map(_exception_cover, exceptions), *map(_break_cover, breaks)]


def _covered(covers: list[Cover], counsellor_id: int, start: datetime, end: datetime) -> bool:
    return any(c.covers(counsellor_id, start, end) for c in covers)


# --------------------------------------------------------------------------------------------------
# What the templates make
# --------------------------------------------------------------------------------------------------


def session_times(template: AvailabilityTemplate, day: date) -> Iterator[tuple[datetime, datetime]]:
    """The local start and end of each session `template` offers on `day` (any weekday: the
    caller picks the days)."""
    length = timedelta(minutes=template.session_minutes)
    step = length + timedelta(minutes=template.break_minutes)
    start = datetime.combine(day, template.starts)
    limit = datetime.combine(day, template.ends)
    while start + length <= limit:
        yield start, start + length
        start += step


def _valid_on(template: AvailabilityTemplate, day: date) -> bool:
    return (
        day.weekday() == template.weekday
        and template.valid_from <= day
        and (template.valid_until is None or day <= template.valid_until)
    )


@dataclass(frozen=True)
class Offered:
    """One session a template offers: who, when (local and UTC), where, which kind."""

    template: AvailabilityTemplate
    local_start: datetime
    local_end: datetime
    starts_at: datetime
    ends_at: datetime


def _offered(
    session: Session,
    institution: Institution,
    first: date,
    last: date,
    counsellor_id: int | None = None,
) -> list[Offered]:
    """Every session the templates valid in `first`..`last` offer on those days, ignoring
    exceptions and breaks: only counsellors who still hold their role offer anything."""
    zone = clock.institution_zone(institution)
    query = select(AvailabilityTemplate).where(
        AvailabilityTemplate.institution_id == institution.id,
        AvailabilityTemplate.valid_from <= last,
        or_(AvailabilityTemplate.valid_until.is_(None), AvailabilityTemplate.valid_until >= first),
        AvailabilityTemplate.counsellor_id.in_(
            select(RoleAssignment.user_id).where(
                RoleAssignment.role.in_(COUNSELLOR_ROLES),
                RoleAssignment.institution_id == institution.id,
            )
        ),
    )
    if counsellor_id is not None:
        query = query.where(AvailabilityTemplate.counsellor_id == counsellor_id)
    offered = []
    for template in session.scalars(query):
        day = first
        while day <= last:
            if _valid_on(template, day):
                for start, end in session_times(template, day):
                    offered.append(
                        Offered(
                            template, start, end, clock.to_utc(start, zone), clock.to_utc(end, zone)
                        )
                    )
            day += timedelta(days=1)
    return offered


def _utc_day_bounds(institution: Institution, first: date, last: date) -> tuple[datetime, datetime]:
    zone = clock.institution_zone(institution)
    return (
        clock.to_utc(datetime.combine(first, time()), zone),
        clock.to_utc(datetime.combine(last + timedelta(days=1), time()), zone),
    )


# --------------------------------------------------------------------------------------------------
# Withdrawing what a cover takes out, reopening what it gave back
# --------------------------------------------------------------------------------------------------


@dataclass
class Changed:
    """What a change did to the slots: how many were made, withdrawn or reopened, and the booked
    slots a new exception or break now covers (the counsellor was told)."""

    created: int = 0
    withdrawn: int = 0
    reopened: int = 0
    booked_under_cover: list[Slot] = field(default_factory=list)


def _withdraw_covered(
    session: Session,
    institution: Institution,
    covers: list[Cover],
    first: date,
    last: date,
    now: datetime,
    changed: Changed,
) -> None:
    """Withdraw the open, unbooked future slots of `first`..`last` that `covers` take out; list
    the booked ones in `changed` and tell their counsellors (of a closure: that the centre
    rearranges them)."""
    if not covers:
        return
    zone = clock.institution_zone(institution)
    lower, upper = _utc_day_bounds(institution, first, last)
    counsellor_ids = {c.counsellor_id for c in covers}
    query = select(Slot).where(
        Slot.institution_id == institution.id,
        Slot.state == SlotState.OPEN,
        Slot.starts_at >= max(lower, now),
        Slot.starts_at < upper,
    )
    if None not in counsellor_ids:
        query = query.where(Slot.counsellor_id.in_(counsellor_ids))
    slots = list(session.scalars(query))
    booked = _booked_counts(session, [s.id for s in slots])
    closures = [c for c in covers if c.counsellor_id is None]
    away: list[Slot] = []
    closed: list[Slot] = []
    for slot in slots:
        start, end = clock.to_local(slot.starts_at, zone), clock.to_local(slot.ends_at, zone)
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        if not _covered(covers, slot.counsellor_id, start, end):
            continue
        if booked.get(slot.id):
            changed.booked_under_cover.append(slot)
            (closed if _covered(closures, slot.counsellor_id, start, end) else away).append(slot)
        else:
            slot.state = SlotState.WITHDRAWN
            changed.withdrawn += 1
    _tell_counsellors(session, institution, away, now)
    _tell_counsellors(session, institution, closed, now, CLOSED_NOTE)


@dataclass(frozen=True)
class BookedNote:
    """A counsellor's daily note of her booked sessions a change left in time away: its digest
    key, its line, each session's line and where it leads."""

    key: str
    text: str
    item: str
    link: str


AWAY_NOTE = BookedNote(
    "availability_booked_away",
    N_("Booked sessions fall in your time away: arrange them with the students."),
    N_("%(when)s: a booked session falls in your time away"),
    MY_AVAILABILITY_LINK,
)
# A closure is the centre's to arrange (the director's list), not one counsellor's.
CLOSED_NOTE = BookedNote(
    "availability_booked_closed",
    N_(
        "Booked sessions of yours fall on days the centre is closed: see the appointments to "
        "rearrange."
    ),
    N_("%(when)s: a booked session falls on a day the centre is closed"),
    TO_REARRANGE_LINK,
)


def _tell_counsellors(
    session: Session,
    institution: Institution,
    slots: list[Slot],
    now: datetime,
    note: BookedNote = AWAY_NOTE,
) -> None:
    """Tell each counsellor of their booked sessions that now fall in time away: one note a day
    (a digest), so a sweep running every minute repeats nothing. Each session's time is said
    when the note is read (today 14:00), `notifications.digest_line`."""
    today = local_today(institution, now)
    by_counsellor: dict[int, list[dict[str, object]]] = {}
    for slot in slots:
        by_counsellor.setdefault(slot.counsellor_id, []).append(
            {"text": note.item, "params": {}, "moments": {"when": slot.starts_at.isoformat()}}
        )
    for counsellor_id, items in by_counsellor.items():
        notifications.notify_digest(
            session,
            [counsellor_id],
            f"{note.key}:{counsellor_id}:{today}",
            note.text,
            note.link,
            items,
        )


# --------------------------------------------------------------------------------------------------
# Booked sessions left in a counsellor's time away
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clash:
    """A booked appointment still to come in time away: a day the whole centre is closed
    (`closure`, an academic break), else its counsellor's own time away (`away`)."""

    appointment: Appointment
    away: AvailabilityException | None = None
    closure: AcademicBreak | None = None


def clashes(
    session: Session,
    institution_ids: Iterable[int],
    now: datetime,
    *,
    counsellor_id: int | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[Clash]:
    """The booked appointments still to come at `institution_ids` that time away covers, soonest
    first, with their students, slots and counsellors: two queries without time away, three
    with. `counsellor_id` narrows it to that counsellor's own time away (one query without
    any): a closure is the centre's to arrange, not hers. `where` is a further condition on
    the appointments.

    Entering time away never cancels or moves a booked session (a student is expecting it), so
    the counsellor and the centre see each one and change its time themselves (rescheduling
    tells the student)."""
    ids = list(institution_ids)
    # Whatever an institution's zone, its today is no earlier than UTC's yesterday.
    since = (now - timedelta(days=1)).date()
    away = select(AvailabilityException).where(
        AvailabilityException.institution_id.in_(ids), AvailabilityException.last_day >= since
    )
    if counsellor_id is not None:
        away = away.where(AvailabilityException.counsellor_id == counsellor_id)
    covers: list[tuple[Cover, AvailabilityException | AcademicBreak]] = [
        (_exception_cover(row), row) for row in session.scalars(away)
    ]
    if counsellor_id is None:
        covers += [
            (_break_cover(row), row)
            for row in session.scalars(
                select(AcademicBreak).where(
                    AcademicBreak.institution_id.in_(ids), AcademicBreak.last_day >= since
                )
            )
        ]
    if not covers:
        return []
    zones = {i: clock.institution_zone(session.get(Institution, i)) for i in ids}
    query = (
        select(Appointment)
        .where(
            Appointment.state == AppointmentState.BOOKED,
            Appointment.starts_at >= now,
            or_(*(_days_of(cover, row.institution_id, zones) for cover, row in covers)),
        )
        .options(
            joinedload(Appointment.student),
            joinedload(Appointment.slot),
            joinedload(Appointment.counsellor),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if where is not None:
        query = query.where(where)
    found = []
    for appointment in session.scalars(query):
        zone = zones[appointment.institution_id]
        start = clock.to_local(appointment.slot.starts_at, zone).replace(tzinfo=None)
        end = clock.to_local(appointment.slot.ends_at, zone).replace(tzinfo=None)
        hits = [
            row
            for cover, row in covers
            if row.institution_id == appointment.institution_id
            and cover.covers(appointment.counsellor_id, start, end)
        ]
        closure = next((r for r in hits if isinstance(r, AcademicBreak)), None)
        own = next((r for r in hits if isinstance(r, AvailabilityException)), None)
        if hits:
            found.append(Clash(appointment, None if closure else own, closure))
    return found


def _days_of(cover: Cover, institution_id: int, zones: dict[int, ZoneInfo]) -> ColumnElement[bool]:
    """The appointments on the cover's days (whole local days, in UTC): the database narrows
    them, the cover's own hours are checked after."""
    zone = zones[institution_id]
    days = and_(
        Appointment.institution_id == institution_id,
        Appointment.starts_at >= clock.to_utc(datetime.combine(cover.first_day, time()), zone),
        Appointment.starts_at
        < clock.to_utc(datetime.combine(cover.last_day + timedelta(days=1), time()), zone),
    )
    if cover.counsellor_id is None:
        return days
    return and_(days, Appointment.counsellor_id == cover.counsellor_id)


def clashing_with_time_away(session: Session, counsellor: User, now: datetime) -> list[Appointment]:
    """The counsellor's booked appointments still to come that her own time away covers (a
    closure is the centre's to arrange), soonest first: one query without time away, two with."""
    return [
        clash.appointment
        for clash in clashes(session, [counsellor.institution_id], now, counsellor_id=counsellor.id)
    ]


def _reopen(
    session: Session,
    institution: Institution,
    first: date,
    last: date,
    now: datetime,
    counsellor_id: int | None,
) -> int:
    """Reopen the withdrawn future slots of `first`..`last` that a template still makes and no
    remaining exception or break covers (after one was removed)."""
    made = {
        (o.template.counsellor_id, o.starts_at)
        for o in _offered(session, institution, first, last, counsellor_id)
    }
    covers = _covers(session, institution.id, first, last)
    zone = clock.institution_zone(institution)
    lower, upper = _utc_day_bounds(institution, first, last)
    query = select(Slot).where(
        Slot.institution_id == institution.id,
        Slot.state == SlotState.WITHDRAWN,
        Slot.starts_at >= max(lower, now),
        Slot.starts_at < upper,
    )
    if counsellor_id is not None:
        query = query.where(Slot.counsellor_id == counsellor_id)
    reopened = 0
    for slot in session.scalars(query):
        start = clock.to_local(slot.starts_at, zone).replace(tzinfo=None)
        end = clock.to_local(slot.ends_at, zone).replace(tzinfo=None)
        if (slot.counsellor_id, slot.starts_at) in made and not _covered(
            covers, slot.counsellor_id, start, end
        ):
            slot.state = SlotState.OPEN
            reopened += 1
    return reopened


# --------------------------------------------------------------------------------------------------
# Opening a week
# --------------------------------------------------------------------------------------------------


def open_week(
    session: Session, institution: Institution, week_start: date, now: datetime
) -> Changed:
    """Make the slots of the local week beginning Monday `week_start` (see the module's rules);
    commits. Safe to run again, and beside a concurrent run: a lost race is retried once."""
    if week_start.weekday() != 0:
        raise _refuse(
            N_("%(day)s is not a Monday: give the first day of the week."),
            day=Day(week_start.isoformat()),
        )
    for attempt in (1, 2):
        try:
            changed = _open_week(session, institution, week_start, now)
            session.commit()
            return changed
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable: the loop returns or raises")


def _open_week(
    session: Session, institution: Institution, week_start: date, now: datetime
) -> Changed:
    last = week_start + timedelta(days=6)
    covers = _covers(session, institution.id, week_start, last)
    lower, upper = _utc_day_bounds(institution, week_start, last)
    existing = set(
        session.execute(
            select(Slot.counsellor_id, Slot.starts_at).where(
                Slot.institution_id == institution.id,
                Slot.starts_at >= lower,
                Slot.starts_at < upper,
            )
        ).tuples()
    )
    changed = Changed()
    for offer in _offered(session, institution, week_start, last):
        template = offer.template
        key = (template.counsellor_id, offer.starts_at)
        if offer.starts_at <= now or key in existing:
            continue
        if _covered(covers, template.counsellor_id, offer.local_start, offer.local_end):
            continue
        existing.add(key)
        session.add(
            Slot(
                institution_id=institution.id,
                counsellor_id=template.counsellor_id,
                starts_at=offer.starts_at,
                ends_at=offer.ends_at,
                room=template.room,
                kind=template.kind,
                capacity=template.capacity,
                state=SlotState.OPEN,
                created_at=now,
            )
        )
        changed.created += 1
    session.flush()
    _withdraw_covered(session, institution, covers, week_start, last, now, changed)
    return changed


def open_weeks_ahead(session: Session, now: datetime, weeks_ahead: int) -> int:
    """The sweep: for every university, open this local week and each up to `weeks_ahead` weeks
    ahead (a missed day catches up; opened weeks add nothing). Returns the slots made."""
    made = 0
    for institution in session.scalars(
        select(Institution).where(Institution.kind == "university").order_by(Institution.id)
    ):
        monday = monday_of(local_today(institution, now))
        for n in range(weeks_ahead + 1):
            made += open_week(session, institution, monday + n * WEEK, now).created
    return made


# --------------------------------------------------------------------------------------------------
# Weekly templates
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInput:
    weekday: int
    starts: time
    ends: time
    session_minutes: int
    break_minutes: int
    room: str
    kind: SessionKind
    capacity: int
    valid_from: date
    valid_until: date | None


def check_template(session: Session, counsellor: User, data: TemplateInput, today: date) -> None:
    """Refuse a template that could not be kept (see the module's rules); writes nothing."""
    if not 0 <= data.weekday <= 6:
        raise _refuse(N_("Choose a day of the week."))
    if data.ends <= data.starts:
        raise _refuse(N_("The window must end after it starts."))
    low, high = SESSION_MINUTES
    if not low <= data.session_minutes <= high:
        raise _refuse(N_("A session lasts from %(low)s to %(high)s minutes."), low=low, high=high)
    low, high = BREAK_MINUTES
    if not low <= data.break_minutes <= high:
        raise _refuse(N_("A break lasts from %(low)s to %(high)s minutes."), low=low, high=high)
    window = datetime.combine(today, data.ends) - datetime.combine(today, data.starts)
    if timedelta(minutes=data.session_minutes) > window:
        raise _refuse(
            N_("A %(minutes)s-minute session does not fit in this window."),
            minutes=data.session_minutes,
        )
    if data.kind is SessionKind.GROUP:
        low, high = GROUP_CAPACITY
        if not low <= data.capacity <= high:
            raise _refuse(
                N_("A group takes from %(low)s to %(high)s students."), low=low, high=high
            )
    if data.valid_until is not None:
        if data.valid_until < data.valid_from:
            raise _refuse(N_("The last day must not be before the first day."))
        if data.valid_until < today:
            raise _refuse(N_("This template's last day has passed."))
    clash = session.scalar(
        select(AvailabilityTemplate).where(
            AvailabilityTemplate.counsellor_id == counsellor.id,
            AvailabilityTemplate.weekday == data.weekday,
            AvailabilityTemplate.starts < data.ends,
            AvailabilityTemplate.ends > data.starts,
            or_(
                AvailabilityTemplate.valid_until.is_(None),
                AvailabilityTemplate.valid_until >= data.valid_from,
            ),
            *(
                []
                if data.valid_until is None
                else [AvailabilityTemplate.valid_from <= data.valid_until]
            ),
        )
    )
    if clash is not None:
        raise _refuse(
            N_(
                "This overlaps the template %(start)s–%(end)s on the same day: "
                "change or remove that one first."
            ),
            start=clash.starts.strftime("%H:%M"),
            end=clash.ends.strftime("%H:%M"),
        )


def add_template(
    session: Session,
    actor: User,
    counsellor: User,
    data: TemplateInput,
    now: datetime,
    submission: str | None = None,
) -> Once[AvailabilityTemplate]:
    """Check, then add the template with its audit row; commits. Slots come when the week opens
    (the sweep, or at once for the weeks already open — see `open_open_weeks`).

    The same form sent again (`submission`, its one-time token) returns the template it added,
    with `created` False: two requests of one double tap would otherwise both
    pass the overlap check."""

    def add() -> AvailabilityTemplate:
        check_template(session, counsellor, data, local_today(counsellor.institution, now))
        template = AvailabilityTemplate(
            institution_id=counsellor.institution_id,
            counsellor_id=counsellor.id,
            weekday=data.weekday,
            starts=data.starts,
            ends=data.ends,
            session_minutes=data.session_minutes,
            break_minutes=data.break_minutes,
            room=data.room.strip()[:100],
            kind=data.kind,
            capacity=data.capacity if data.kind is SessionKind.GROUP else 1,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            created_by_id=actor.id,
            created_at=now,
            submission=submission,
        )
        session.add(template)
        session.flush()
        audit.record_on(
            session,
            template,
            actor=actor,
            action="availability_template_add",
            record_type="availability",
        )
        return template

    mine = AvailabilityTemplate.institution_id == counsellor.institution_id
    return stored_once(session, AvailabilityTemplate, submission, mine, add)


def open_open_weeks(
    session: Session, institution: Institution, now: datetime, weeks_ahead: int
) -> Changed:
    """After a template changes, open again the weeks booking has already opened (this week up to
    `weeks_ahead`), so a new template's sessions are bookable now rather than next week."""
    total = Changed()
    monday = monday_of(local_today(institution, now))
    for n in range(weeks_ahead + 1):
        changed = open_week(session, institution, monday + n * WEEK, now)
        total.created += changed.created
        total.withdrawn += changed.withdrawn
        total.booked_under_cover.extend(changed.booked_under_cover)
    return total


def remove_template(
    session: Session, actor: User, template: AvailabilityTemplate, now: datetime
) -> Changed:
    """Remove the template and withdraw the open, unbooked future slots it made; its booked ones
    stay (listed in the result, the counsellor told). Commits."""
    institution = template.counsellor.institution
    today = local_today(institution, now)
    last_slot = session.scalar(
        select(Slot.starts_at)
        .where(Slot.counsellor_id == template.counsellor_id, Slot.starts_at > now)
        .order_by(Slot.starts_at.desc())
        .limit(1)
    )
    changed = Changed()
    if last_slot is not None:
        last = clock.local_date(last_slot, clock.institution_zone(institution))
        # The template's own sessions, as a cover of exactly them.
        made = {
            o.starts_at
            for o in _offered(session, institution, today, last, template.counsellor_id)
            if o.template.id == template.id
        }
        slots = (
            list(
                session.scalars(
                    select(Slot).where(
                        Slot.counsellor_id == template.counsellor_id,
                        Slot.state == SlotState.OPEN,
                        Slot.starts_at > now,
                        Slot.starts_at.in_(made),
                    )
                )
            )
            if made
            else []
        )
        booked = _booked_counts(session, [s.id for s in slots])
        for slot in slots:
            if booked.get(slot.id):
                changed.booked_under_cover.append(slot)
            else:
                slot.state = SlotState.WITHDRAWN
                changed.withdrawn += 1
        _tell_counsellors(session, institution, changed.booked_under_cover, now)
    audit.record_on(
        session,
        template,
        actor=actor,
        action="availability_template_remove",
        record_type="availability",
        detail=f"withdrawn={changed.withdrawn} booked={len(changed.booked_under_cover)}",
    )
    session.delete(template)
    session.commit()
    return changed


# --------------------------------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExceptionInput:
    first_day: date
    last_day: date
    starts: time | None
    ends: time | None
    reason: ExceptionReason
    note: str = ""


def _same_time(column: Any, value: time | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def check_exception(data: ExceptionInput, today: date) -> None:
    """Refuse an exception that says nothing or is over; writes nothing."""
    if data.last_day < data.first_day:
        raise _refuse(N_("The last day must not be before the first day."))
    if data.last_day < today:
        raise _refuse(N_("These days have passed already."))
    if (data.last_day - data.first_day).days >= LONGEST_EXCEPTION_DAYS:
        raise _refuse(N_("An exception spans at most a year."))
    if (data.starts is None) != (data.ends is None):
        raise _refuse(N_("Give both times, or neither for whole days."))
    if data.starts is not None and data.ends is not None and data.ends <= data.starts:
        raise _refuse(N_("The time away must end after it starts."))


def add_exception(
    session: Session, actor: User, counsellor: User, data: ExceptionInput, now: datetime
) -> tuple[AvailabilityException, Changed]:
    """Check, then add the exception, withdraw the slots it covers and tell the counsellor of
    booked ones; audited, one commit."""
    institution = counsellor.institution
    check_exception(data, local_today(institution, now))
    same = session.scalar(
        select(AvailabilityException.id).where(
            AvailabilityException.counsellor_id == counsellor.id,
            AvailabilityException.first_day == data.first_day,
            AvailabilityException.last_day == data.last_day,
            _same_time(AvailabilityException.starts, data.starts),
            _same_time(AvailabilityException.ends, data.ends),
        )
    )
    if same is not None:  # a double submit, or the same days entered twice
        raise _refuse(N_("This time away is entered already."))
    row = AvailabilityException(
        institution_id=counsellor.institution_id,
        counsellor_id=counsellor.id,
        first_day=data.first_day,
        last_day=data.last_day,
        starts=data.starts,
        ends=data.ends,
        reason=data.reason,
        note=data.note.strip()[:200],
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    changed = Changed()
    _withdraw_covered(
        session, institution, [_exception_cover(row)], row.first_day, row.last_day, now, changed
    )
    audit.record_on(
        session,
        row,
        actor=actor,
        action="availability_exception_add",
        record_type="availability",
        detail=f"withdrawn={changed.withdrawn} booked={len(changed.booked_under_cover)}",
    )
    session.commit()
    return row, changed


def remove_exception(
    session: Session, actor: User, row: AvailabilityException, now: datetime
) -> int:
    """Remove the exception and reopen what it had withdrawn; commits. Returns slots reopened."""
    institution = row.counsellor.institution
    first, last, counsellor_id = row.first_day, row.last_day, row.counsellor_id
    audit.record_on(
        session,
        row,
        actor=actor,
        action="availability_exception_remove",
        record_type="availability",
    )
    session.delete(row)
    session.flush()
    reopened = _reopen(session, institution, first, last, now, counsellor_id)
    session.commit()
    return reopened


# --------------------------------------------------------------------------------------------------
# The academic calendar
# --------------------------------------------------------------------------------------------------


def check_break(name: str, first_day: date, last_day: date, today: date) -> None:
    if not name.strip():
        raise _refuse(N_("Give the break a name, e.g. 国庆节 or 寒假."))
    if last_day < first_day:
        raise _refuse(N_("The last day must not be before the first day."))
    if last_day < today:
        raise _refuse(N_("These days have passed already."))
    if (last_day - first_day).days >= LONGEST_BREAK_DAYS:
        raise _refuse(N_("A break spans at most %(days)s days."), days=LONGEST_BREAK_DAYS)


def add_break(
    session: Session,
    actor: User,
    institution: Institution,
    name: str,
    first_day: date,
    last_day: date,
    now: datetime,
    name_en: str = "",
) -> tuple[AcademicBreak, Changed]:
    """Check, then add the break and withdraw every counsellor's slots in it (booked ones are
    reported to their counsellors); audited, one commit."""
    check_break(name, first_day, last_day, local_today(institution, now))
    same = session.scalar(
        select(AcademicBreak.id).where(
            AcademicBreak.institution_id == institution.id,
            AcademicBreak.first_day == first_day,
            AcademicBreak.last_day == last_day,
        )
    )
    if same is not None:  # a double submit, or the same days entered twice
        raise _refuse(N_("These days are on the academic calendar already."))
    row = AcademicBreak(
        institution_id=institution.id,
        name=name.strip()[:100],
        name_en=name_en.strip()[:200] or None,
        first_day=first_day,
        last_day=last_day,
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    changed = Changed()
    _withdraw_covered(session, institution, [_break_cover(row)], first_day, last_day, now, changed)
    audit.record_on(
        session,
        row,
        actor=actor,
        action="academic_break_add",
        record_type="academic_calendar",
        detail=f"withdrawn={changed.withdrawn} booked={len(changed.booked_under_cover)}",
    )
    session.commit()
    return row, changed


def remove_break(session: Session, actor: User, row: AcademicBreak, now: datetime) -> int:
    """Remove the break and reopen what it had withdrawn; commits. Returns slots reopened."""
    institution = session.get_one(Institution, row.institution_id)
    first, last = row.first_day, row.last_day
    audit.record_on(
        session, row, actor=actor, action="academic_break_remove", record_type="academic_calendar"
    )
    session.delete(row)
    session.flush()
    reopened = _reopen(session, institution, first, last, now, None)
    session.commit()
    return reopened


def find_break(session: Session, institution: Institution, break_id: int) -> AcademicBreak | None:
    """The break if it is `institution`'s; None for a foreign or missing id."""
    return session.scalar(
        select(AcademicBreak).where(
            AcademicBreak.id == break_id, AcademicBreak.institution_id == institution.id
        )
    )


# --------------------------------------------------------------------------------------------------
# Counsellor profiles (the director's form)
# --------------------------------------------------------------------------------------------------

GENDERS = ("", "M", "F")


@dataclass(frozen=True)
class ProfileInput:
    gender: str
    is_trainee: bool
    supervisor_id: int | None
    fte: float


def check_profile(session: Session, counsellor: User, data: ProfileInput) -> User | None:
    """Refuse a profile that cannot be right; returns the supervisor. Writes nothing."""
    if data.gender not in GENDERS:
        raise _refuse(N_("Choose a gender from the list."))
    if not 0.1 <= data.fte <= 1.0:
        raise _refuse(N_("Working time is between 0.1 and 1.0 of full time."))
    if not data.is_trainee:
        return None
    if data.supervisor_id is None:
        raise _refuse(N_("A trainee needs a supervisor who co-signs their notes."))
    if data.supervisor_id == counsellor.id:
        raise _refuse(N_("A trainee cannot supervise themself."))
    supervisor = session.scalar(
        select(User).where(
            User.id == data.supervisor_id,
            User.id.in_(
                select(RoleAssignment.user_id).where(
                    RoleAssignment.role.in_(DUTY_ROLES),
                    RoleAssignment.institution_id == counsellor.institution_id,
                )
            ),
        )
    )
    if supervisor is None:
        raise _refuse(N_("Choose a supervisor from the centre's counsellors."))
    return supervisor


def save_profile(
    session: Session, actor: User, counsellor: User, data: ProfileInput
) -> CounsellorProfile:
    """Check, then create or update the counsellor's profile; audited, one commit."""
    supervisor = check_profile(session, counsellor, data)
    profile = profile_of(session, counsellor) or CounsellorProfile(
        user_id=counsellor.id, institution_id=counsellor.institution_id
    )
    profile.gender = data.gender
    profile.is_trainee = data.is_trainee
    profile.supervisor_id = supervisor.id if supervisor else None
    profile.fte = round(data.fte, 2)
    session.add(profile)
    session.flush()
    audit.record_on(
        session, profile, actor=actor, action="counsellor_profile_save", record_type="availability"
    )
    session.commit()
    return profile


def supervisors(session: Session, institution_id: int) -> list[User]:
    """Who may supervise a trainee: the centre's counsellors and director."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.id.in_(
                    select(RoleAssignment.user_id).where(
                        RoleAssignment.role.in_(DUTY_ROLES),
                        RoleAssignment.institution_id == institution_id,
                    )
                ),
            )
            .order_by(User.name, User.id)
        )
    )
