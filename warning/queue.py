"""The counsellor's queue and a student's timeline, always through the viewer's WARNING scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from campus.models import Department, Student, User
from campus.scope import Capability, institution_ids, student_filter
from warning.models import Deadline, EarlyWarning, Signal, WarningEvent, WarningStatus

PAGE_SIZE = 25
# The total is counted exactly up to this many warnings (or up to the page shown, if further);
# beyond it the page says "more than N". Counting a million warnings of a whole school's history
# to print one number cost a second a page and told a counsellor nothing the word "more" does not.
COUNT_CAP = 1000
# Allow-listed sort keys: the query never sorts by a column named in the request.
# "level" lists open warnings before closed ones when both are shown: the stored status names sort
# 'OPEN' after 'CLOSED', so descending puts them first, in the order of `ix_warning_queue`.
SORTS = {
    "level": (EarlyWarning.status.desc(), EarlyWarning.level.desc(), EarlyWarning.opened_at.asc()),
    "opened": (EarlyWarning.opened_at.desc(),),
    "oldest": (EarlyWarning.opened_at.asc(),),
    "name": (Student.name.asc(),),
}


@dataclass(frozen=True)
class QueueFilter:
    level: int | None = None
    department_id: int | None = None
    status: str = WarningStatus.OPEN.value
    overdue: bool = False
    sort: str = "level"
    page: int = 1


@dataclass
class QueuePage:
    rows: list[tuple[EarlyWarning, Student, str, bool]] = field(default_factory=list)
    total: int = 0
    more: bool = False  # there are more than `total` warnings: the count stopped at its cap


def _missed(now: datetime):
    """A deadline that passed and whose work is still not done. An escalated deadline stays
    missed until the work is done; a superseded one (level changed, warning closed) never is."""
    return and_(Deadline.due_at < now, Deadline.met_at.is_(None), Deadline.superseded_at.is_(None))


def _overdue(now: datetime):
    return exists().where(Deadline.warning_id == EarlyWarning.id, _missed(now))


def queue(session: Session, user: User, flt: QueueFilter, now: datetime) -> QueuePage:
    """One page of warnings the viewer may see, red first by default; each row says why.

    Cost stays flat at a million warnings: the total is a count over the narrow filtered join
    (no display columns) that stops at its cap, the page is read in the order of
    `ix_warning_queue`, and "overdue" is looked up for the page's rows only.
    """
    cap = max(COUNT_CAP, flt.page * PAGE_SIZE)
    narrow = _filtered(select(EarlyWarning.id), user, flt, now).limit(cap + 1)
    total = session.scalar(select(func.count()).select_from(narrow.subquery())) or 0
    order = SORTS.get(flt.sort, SORTS["level"])
    rows = session.execute(
        _filtered(select(EarlyWarning, Student, Department.name), user, flt, now)
        .join(Department, Department.id == EarlyWarning.department_id)
        .order_by(*order, EarlyWarning.id)
        .limit(PAGE_SIZE)
        .offset((flt.page - 1) * PAGE_SIZE)
    ).all()
    overdue = _overdue_among(session, [warning.id for warning, _, _ in rows], now)
    shown = [(w, s, d, w.id in overdue) for w, s, d in rows]
    return QueuePage(shown, min(total, cap), more=total > cap)


def _filtered(query, user: User, flt: QueueFilter, now: datetime):
    """`query` joined to the student and narrowed to the viewer's scope and the filter."""
    query = query.join(Student, Student.id == EarlyWarning.student_id).where(
        student_filter(user, Capability.WARNING),
        # Implied by the scope (a warning is in its student's institution); stated on the
        # warning too so the planner can walk ix_warning_queue in the page's order.
        EarlyWarning.institution_id.in_(institution_ids(user)),
    )
    if flt.status in (WarningStatus.OPEN.value, WarningStatus.CLOSED.value):
        query = query.where(EarlyWarning.status == flt.status)
    if flt.level is not None:
        query = query.where(EarlyWarning.level == flt.level)
    if flt.department_id is not None:
        query = query.where(EarlyWarning.department_id == flt.department_id)
    if flt.overdue:
        query = query.where(_overdue(now))
    return query


def _overdue_among(session: Session, warning_ids: list[int], now: datetime) -> set[int]:
    """Which of these warnings have a missed deadline (see `_missed`)."""
    if not warning_ids:
        return set()
    return set(
        session.scalars(
            select(Deadline.warning_id)
            .where(
                Deadline.warning_id.in_(warning_ids),
                _missed(now),
            )
            .distinct()
        )
    )


def departments(session: Session, user: User) -> list[Department]:
    """Departments the viewer has warnings in scope for (for the filter)."""
    ids = select(Student.department_id).where(student_filter(user, Capability.WARNING))
    return list(
        session.scalars(select(Department).where(Department.id.in_(ids)).order_by(Department.name))
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "signal" or a WarningEvent kind
    signal: Signal | None = None
    event: WarningEvent | None = None


def timeline(session: Session, student: Student) -> list[TimelineEntry]:
    """Signals and warning events of a student (already authorised), newest first."""
    signals = session.scalars(select(Signal).where(Signal.student_id == student.id)).all()
    events = session.scalars(
        select(WarningEvent)
        .join(EarlyWarning, EarlyWarning.id == WarningEvent.warning_id)
        .where(EarlyWarning.student_id == student.id, WarningEvent.kind != "signal_attached")
    ).all()
    entries = [TimelineEntry(s.observed_at, "signal", signal=s) for s in signals]
    entries += [TimelineEntry(e.at, e.kind, event=e) for e in events]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def warnings_of(session: Session, student: Student) -> list[EarlyWarning]:
    return list(
        session.scalars(
            select(EarlyWarning)
            .where(EarlyWarning.student_id == student.id)
            .order_by(EarlyWarning.opened_at)
        )
    )
