"""The counselling centre's appointment figures for one term, on the centre's dashboard.

A term is `oversight.periods.term`'s (autumn September–January, spring February–July, August with
the spring term), counted in the institution's own calendar days; the calendar helper may later
give institutions configured term dates, and `term_window` is the one place that would read them.

Definitions (each also written on the page):
- **Wait to first appointment**: for every student whose first appointment ever (the earliest by
  start among appointments that were not cancelled) starts in the term, the days from booking it
  (`booked_at`) to its start (`starts_at`); median and 90th percentile (nearest rank: the value at
  position ⌈0.9·n⌉ of the sorted waits).
- **Slots offered**: open (not withdrawn) slots starting in the term; **booked**: those holding a
  live appointment; **used**: those where at least one student came (attended).
- **No-show rate**: no-shows ÷ (attended + no-shows) of appointments starting in the term;
  cancellations count in neither.
- **Sessions per student**: attended appointments ÷ distinct students with at least one.
- **Clinical load** (in the spirit of the Center for Collegiate Mental Health's Clinical Load
  Index, CCMH Annual Report 2019 onwards): distinct students who attended at least one session
  in the term ÷ the full-time equivalents (`CounsellorProfile.fte`) of the counsellors who hold
  one. Per counsellor: the students they saw ÷ their FTE. How ours differs from the CLI: the CLI
  counts a whole academic year's clients per 1.0 *clinical* FTE (clinical hours only) and
  standardises it across centres; ours is per term, divides by the contract FTE the centre
  records (teaching and outreach hours are not taken out), and is not standardised, so compare it
  with itself from term to term, not with CCMH's published ranges.

No figure names a student. Counts are the institution's own, shown to its director and
administrator as the other dashboard KPIs are (no small-group suppression there; the province view,
which suppresses, does not show these).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import LIVE_STATES
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import Slot
from appointments.models import SlotState
from campus import clock
from campus.models import Institution
from campus.models import User
from oversight import periods


@dataclass(frozen=True)
class Window:
    """A term as naive UTC instants [starts, ends) of the institution's local calendar."""

    first_day: date
    end_day: date  # the day after the last
    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class CounsellorLoad:
    counsellor_id: int
    name: str
    fte: float
    students_seen: int

    @property
    def load(self) -> float | None:
        return round(self.students_seen / self.fte, 1) if self.fte > 0 else None


@dataclass(frozen=True)
class Figures:
    first_appointments: int = 0
    wait_median_days: float | None = None
    wait_p90_days: float | None = None
    slots_offered: int = 0
    slots_booked: int = 0
    slots_used: int = 0
    attended: int = 0
    no_shows: int = 0
    students_seen: int = 0
    total_fte: float = 0.0
    counsellors: list[CounsellorLoad] = field(default_factory=list)

    @property
    def no_show_rate(self) -> float | None:
        held = self.attended + self.no_shows
        return round(100 * self.no_shows / held, 1) if held else None

    @property
    def sessions_per_student(self) -> float | None:
        return round(self.attended / self.students_seen, 2) if self.students_seen else None

    @property
    def clinical_load(self) -> float | None:
        return round(self.students_seen / self.total_fte, 1) if self.total_fte > 0 else None


def term_window(institution: Institution, term: periods.Period) -> Window:
    """The term's local days as UTC instants (see the module docstring on configured dates)."""
    zone = clock.institution_zone(institution)
    first, end = term.first, periods.shift(term.last, 1)
    return Window(
        first,
        end,
        clock.to_utc(datetime.combine(first, time()), zone),
        clock.to_utc(datetime.combine(end, time()), zone),
    )


def nearest_rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the value at position ⌈share·n⌉ of the sorted values."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def compute(session: Session, institution_id: int, window: Window) -> Figures:
    """Every figure of the module docstring for one institution and term (a few queries)."""
    in_term = (
        Appointment.institution_id == institution_id,
        Appointment.starts_at >= window.starts,
        Appointment.starts_at < window.ends,
    )
    waits = _first_appointment_waits(session, institution_id, window)
    slots = _slots(session, institution_id, window)
    states: dict[AppointmentState, int] = dict(
        list(
            session.execute(
                select(Appointment.state, func.count())
                .where(
                    *in_term,
                    Appointment.state.in_([AppointmentState.ATTENDED, AppointmentState.NO_SHOW]),
                )
                .group_by(Appointment.state)
            ).tuples()
        )
    )
    seen = list(
        session.execute(
            select(Appointment.counsellor_id, func.count(func.distinct(Appointment.student_id)))
            .where(*in_term, Appointment.state == AppointmentState.ATTENDED)
            .group_by(Appointment.counsellor_id)
        ).tuples()
    )
    students_seen = (
        session.scalar(
            select(func.count(func.distinct(Appointment.student_id))).where(
                *in_term, Appointment.state == AppointmentState.ATTENDED
            )
        )
        or 0
    )
    return Figures(
        first_appointments=len(waits),
        wait_median_days=round(statistics.median(waits), 1) if waits else None,
        wait_p90_days=round(nearest_rank(waits, 0.9), 1) if waits else None,
        slots_offered=slots[0],
        slots_booked=slots[1],
        slots_used=slots[2],
        attended=states.get(AppointmentState.ATTENDED, 0),
        no_shows=states.get(AppointmentState.NO_SHOW, 0),
        students_seen=students_seen,
        total_fte=_total_fte(session, institution_id),
        counsellors=_loads(session, institution_id, dict(seen)),
    )


def _first_appointment_waits(session: Session, institution_id: int, window: Window) -> list[float]:
    """Days from booking to start of each student's first appointment starting in the term."""
    live = (Appointment.institution_id == institution_id, Appointment.state.in_(LIVE_STATES))
    first = (
        select(Appointment.student_id, func.min(Appointment.starts_at).label("first"))
        .where(*live)
        .group_by(Appointment.student_id)
        .subquery()
    )
    rows = session.execute(
        select(Appointment.student_id, Appointment.booked_at, Appointment.starts_at)
        .join(
            first,
            (first.c.student_id == Appointment.student_id)
            & (first.c.first == Appointment.starts_at),
        )
        .where(*live, first.c.first >= window.starts, first.c.first < window.ends)
        .order_by(Appointment.student_id, Appointment.id)
    ).tuples()
    waits: dict[int, float] = {}
    for student_id, booked_at, starts_at in rows:
        # Two live appointments at the same first minute (a group slot's two seats): count once.
        waits.setdefault(student_id, max(0.0, (starts_at - booked_at).total_seconds() / 86400))
    return list(waits.values())


def _slots(session: Session, institution_id: int, window: Window) -> tuple[int, int, int]:
    """(offered, booked, used) slots starting in the term."""
    offered = (
        Slot.institution_id == institution_id,
        Slot.state == SlotState.OPEN,
        Slot.starts_at >= window.starts,
        Slot.starts_at < window.ends,
    )

    def holding(*states: AppointmentState) -> int:
        return (
            session.scalar(
                select(func.count(func.distinct(Slot.id)))
                .join(Appointment, Appointment.slot_id == Slot.id)
                .where(*offered, Appointment.state.in_(states))
            )
            or 0
        )

    total = session.scalar(select(func.count(Slot.id)).where(*offered)) or 0
    return total, holding(*LIVE_STATES), holding(AppointmentState.ATTENDED)


def _total_fte(session: Session, institution_id: int) -> float:
    total = session.scalar(
        select(func.sum(CounsellorProfile.fte)).where(
            CounsellorProfile.institution_id == institution_id, CounsellorProfile.fte > 0
        )
    )
    return round(float(total or 0), 2)


def _loads(session: Session, institution_id: int, seen: dict[int, int]) -> list[CounsellorLoad]:
    """One line per counsellor with a profile or a student seen, busiest load first."""
    profiles = {
        user_id: (name, fte)
        for user_id, name, fte in session.execute(
            select(CounsellorProfile.user_id, User.name, CounsellorProfile.fte)
            .join(User, User.id == CounsellorProfile.user_id)
            .where(CounsellorProfile.institution_id == institution_id)
        ).tuples()
    }
    missing = set(seen) - set(profiles)
    if missing:
        for user_id, name in session.execute(
            select(User.id, User.name).where(User.id.in_(missing))
        ).tuples():
            profiles[user_id] = (name, 0.0)
    loads = [
        CounsellorLoad(user_id, name, float(fte), seen.get(user_id, 0))
        for user_id, (name, fte) in profiles.items()
    ]
    return sorted(loads, key=lambda c: (-(c.load or 0), -c.students_seen, c.name))
