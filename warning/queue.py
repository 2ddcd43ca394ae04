"""The counsellor's queue and a student's timeline, always through the viewer's WARNING scope."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import Department
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import institution_ids
from campus.scope import student_filter
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import WarningStatus
from warning.policy import Level

PAGE_SIZE = 25
# The total is counted exactly up to this many warnings (or up to the page shown, if further);
# beyond it the page says "more than N". Counting a million warnings of a whole school's history
# to print one number cost a second a page and told a counsellor nothing the word "more" does not.
COUNT_CAP = 1000
# Allow-listed sort keys: the query never sorts by a column named in the request.
# "level" lists open warnings before closed ones when both are shown: the stored status names sort
# 'OPEN' after 'CLOSED', so descending puts them first, in the order of `ix_warning_queue`. Under
# "level" the open reds nobody has acknowledged come before all of it (see `queue`).
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
    unacknowledged: bool = False
    mine: bool = False  # only the viewer's own cases (`EarlyWarning.assigned_counsellor_id`)
    unassigned: bool = False  # only cases no counsellor of the centre has yet
    sort: str = "level"
    page: int = 1


@dataclass(frozen=True)
class NextDue:
    due_at: datetime
    kind: str
    tier: int


@dataclass
class QueuePage:
    rows: list[tuple[EarlyWarning, Student, str, bool]] = field(default_factory=list)
    total: int = 0
    more: bool = False  # there are more than `total` warnings: the count stopped at its cap
    # Warning id -> its next deadline: the row says which step is owed, by whom and by when.
    next_due: dict[int, NextDue] = field(default_factory=dict)
    # Warning id -> (when its earliest missed deadline was due, its kind), for the overdue
    # warnings whose missed deadline went up a tier with a fresh window: their next deadline is
    # not overdue, and the row says which step was missed and when instead of marking the new one.
    escalated: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    counsellors: dict[int, str] = field(default_factory=dict)  # warning id -> its case counsellor


def missed(now: datetime):
    """A deadline that passed and whose work is still not done. An escalated deadline stays
    missed until the work is done; a superseded one (level changed, warning closed) never is."""
    return and_(Deadline.due_at < now, Deadline.met_at.is_(None), Deadline.superseded_at.is_(None))


def _overdue(now: datetime):
    return exists().where(Deadline.warning_id == EarlyWarning.id, missed(now))


def _unacknowledged_red():
    """An open red warning no one has acknowledged: the case a counsellor must see first."""
    return and_(
        EarlyWarning.status == WarningStatus.OPEN,
        EarlyWarning.level == Level.RED,
        EarlyWarning.acknowledged_at.is_(None),
    )


def queue(session: Session, user: User, flt: QueueFilter, now: datetime) -> QueuePage:
    """One page of warnings the viewer may see, red first by default; each row says why.

    By default the unacknowledged open reds lead, newest first (the one that arrived a minute
    ago is the one whose hour is running), then everything else by level, oldest first.

    Cost stays flat at a million warnings: the total is a count over the narrow filtered join
    (no display columns) that stops at its cap, each part of the page is read in the order of
    `ix_warning_queue`, and "overdue" and the next deadline are looked up for the page's rows only.
    """
    cap = max(COUNT_CAP, flt.page * PAGE_SIZE)
    narrow = filtered(select(EarlyWarning.id), user, flt, now).limit(cap + 1)
    total = session.scalar(select(func.count()).select_from(narrow.subquery())) or 0
    rows = _page_rows(session, user, flt, now)
    ids = [warning.id for warning, _, _ in rows]
    late = _missed_among(session, ids, now)
    shown = [(w, s, d, w.id in late) for w, s, d in rows]
    next_due = _next_due(session, ids)
    return QueuePage(
        shown,
        min(total, cap),
        more=total > cap,
        next_due=next_due,
        escalated={
            warning_id: first
            for warning_id, first in late.items()
            if (after := next_due.get(warning_id)) is None or after.due_at >= now
        },
        counsellors=_counsellors(session, [warning for warning, _, _ in rows]),
    )


def _page_rows(session: Session, user: User, flt: QueueFilter, now: datetime) -> list:
    """The page's (warning, student, department name) rows: under "level", the unacknowledged
    reds first and then the rest, each part walked in index order (no sort of every warning)."""
    offset = (flt.page - 1) * PAGE_SIZE
    if flt.sort not in SORTS or flt.sort == "level":
        first = _display(user, flt, now).where(_unacknowledged_red())
        leading = (
            session.scalar(
                select(func.count()).select_from(
                    first.with_only_columns(EarlyWarning.id).limit(offset + PAGE_SIZE).subquery()
                )
            )
            or 0
        )
        rows = list(
            session.execute(
                first.order_by(EarlyWarning.opened_at.desc(), EarlyWarning.id.desc())
                .limit(PAGE_SIZE)
                .offset(offset)
            ).all()
        )
        rest = _display(user, flt, now).where(not_(_unacknowledged_red()))
        return rows + _ordered(session, rest, SORTS["level"], max(offset - leading, 0), len(rows))
    return _ordered(session, _display(user, flt, now), SORTS[flt.sort], offset, 0)


def _display(user: User, flt: QueueFilter, now: datetime):
    return filtered(select(EarlyWarning, Student, Department.name), user, flt, now).join(
        Department, Department.id == EarlyWarning.department_id
    )


def _ordered(session: Session, query, order: tuple, offset: int, taken: int) -> list:
    """What is left of the page after `taken` rows, from `query` in `order` from `offset`."""
    if taken >= PAGE_SIZE:
        return []
    return list(
        session.execute(
            query.order_by(*order, EarlyWarning.id).limit(PAGE_SIZE - taken).offset(offset)
        ).all()
    )


def filtered(query, user: User, flt: QueueFilter, now: datetime):
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
    if flt.unacknowledged:
        query = query.where(EarlyWarning.acknowledged_at.is_(None))
    if flt.mine:
        query = query.where(EarlyWarning.assigned_counsellor_id == user.id)
    if flt.unassigned:
        query = query.where(EarlyWarning.assigned_counsellor_id.is_(None))
    return query


def _missed_among(
    session: Session, warning_ids: list[int], now: datetime
) -> dict[int, tuple[datetime, str]]:
    """Which of these warnings have a missed deadline (see `missed`), each with the earliest's
    time and kind (of several due at that moment, the first written)."""
    if not warning_ids:
        return {}
    earliest = (
        select(Deadline.warning_id, func.min(Deadline.due_at).label("due_at"))
        .where(Deadline.warning_id.in_(warning_ids), missed(now))
        .group_by(Deadline.warning_id)
        .subquery()
    )
    rows = session.execute(
        select(Deadline.warning_id, Deadline.due_at, Deadline.kind)
        .join(
            earliest,
            and_(
                Deadline.warning_id == earliest.c.warning_id, Deadline.due_at == earliest.c.due_at
            ),
        )
        .where(missed(now))
        .order_by(Deadline.id)
    )
    first: dict[int, tuple[datetime, str]] = {}
    for warning_id, due, kind in rows:
        first.setdefault(warning_id, (due, kind))
    return first


def _next_due(session: Session, warning_ids: list[int]) -> dict[int, NextDue]:
    """Each warning's soonest deadline still owed (met, escalated or superseded ones are done
    with): when, which step and whose, in one query over the page's rows."""
    if not warning_ids:
        return {}
    soonest: dict[int, NextDue] = {}
    for warning_id, due, kind, tier in session.execute(
        select(Deadline.warning_id, Deadline.due_at, Deadline.kind, Deadline.tier)
        .where(Deadline.warning_id.in_(warning_ids), Deadline.still_owed())
        .order_by(Deadline.due_at, Deadline.id)
    ):
        soonest.setdefault(warning_id, NextDue(due, kind, tier))
    return soonest


def _counsellors(session: Session, warnings: list[EarlyWarning]) -> dict[int, str]:
    """Each warning's case counsellor by name, in one query over the page's rows."""
    ids = {w.assigned_counsellor_id for w in warnings if w.assigned_counsellor_id is not None}
    if not ids:
        return {}
    names = {
        user_id: name
        for user_id, name in session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    }
    return {
        w.id: names[w.assigned_counsellor_id] for w in warnings if w.assigned_counsellor_id in names
    }


def departments(session: Session, user: User) -> list[Department]:
    """Departments the viewer has warnings in scope for (for the filter)."""
    ids = select(Student.department_id).where(student_filter(user, Capability.WARNING))
    return list(
        session.scalars(select(Department).where(Department.id.in_(ids)).order_by(Department.name))
    )


def warnings_of(session: Session, student: Student) -> list[EarlyWarning]:
    return list(
        session.scalars(
            select(EarlyWarning)
            .where(EarlyWarning.student_id == student.id)
            .order_by(EarlyWarning.opened_at)
        )
    )
