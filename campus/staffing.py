"""The register of mental-health teachers (心理健康教育教师): who holds a full-time or part-time
post, from when to when.

The national requirement counts full-time teachers per student (专职, at least one per 4,000
students and two per school); the oversight KPI reads this register for it. An entry is never
deleted: a teacher who leaves gets an end date, so a past period still counts who was in post.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import StaffingEntry
from campus.models import StaffPost
from campus.models import User
from campus.outcomes import Refused
from campus.submissions import stored_once

# The national requirement (专项行动计划 2023—2025): full-time mental-health teachers at no less
# than 1 : 4000 of students, and at least two in every school. A national rule, not a school's
# setting; the oversight KPI computes with these and its definition quotes them.
STUDENTS_PER_TEACHER = 4000
MINIMUM_TEACHERS = 2


class StaffingError(Refused):
    """An entry the administrator asked for that cannot be written; `message` says why."""


def entries(session: Session, institution: Institution) -> list[StaffingEntry]:
    """The institution's register: those still in post first, full-time before part-time, then
    by start date, newest first."""
    return list(
        session.scalars(
            select(StaffingEntry)
            .where(StaffingEntry.institution_id == institution.id)
            .order_by(
                StaffingEntry.ends_on.is_not(None),
                StaffingEntry.post,
                StaffingEntry.starts_on.desc(),
                StaffingEntry.id.desc(),
            )
        )
    )


def find_entry(session: Session, institution: Institution, entry_id: int) -> StaffingEntry | None:
    """The entry if it belongs to `institution`; None for a foreign or missing id."""
    return session.scalar(
        select(StaffingEntry).where(
            StaffingEntry.id == entry_id, StaffingEntry.institution_id == institution.id
        )
    )


def add_entry(
    session: Session,
    actor: User,
    institution: Institution,
    *,
    person_name: str,
    user: User | None,
    post: StaffPost,
    starts_on: date | None,
    ends_on: date | None = None,
    submission: str | None = None,
) -> StaffingEntry:
    """Check, then add the entry with its audit row; commits. A linked account must be one of the
    institution's, and gives the name when none is typed. The same form sent again
    (`submission`, its one-time token) returns the entry it added: a teacher counted twice would
    inflate the staffing ratio."""
    if user is not None and user.institution_id != institution.id:
        raise StaffingError(Message(N_("Choose an account of this institution.")))
    name = (person_name or "").strip() or (user.name if user else "")
    if not name:
        raise StaffingError(Message(N_("Give the teacher's name or link their account.")))
    if starts_on is None:
        raise StaffingError(Message(N_("Give the first day in post.")))
    _check_dates(starts_on, ends_on)

    def add() -> StaffingEntry:
        entry = StaffingEntry(
            institution_id=institution.id,
            user_id=user.id if user else None,
            person_name=name[:100],
            post=post,
            starts_on=starts_on,
            ends_on=ends_on,
            submission=submission,
        )
        session.add(entry)
        session.flush()
        _audit(session, actor, "staffing_added", entry)
        return entry

    mine = StaffingEntry.institution_id == institution.id
    return stored_once(session, StaffingEntry, submission, mine, add).record


def end_entry(session: Session, actor: User, entry: StaffingEntry, ends_on: date | None) -> None:
    """Record the last day in post; commits. An entry already ended keeps its end date."""
    if entry.ends_on is not None:
        raise StaffingError(Message(N_("This post has already ended.")))
    if ends_on is None:
        raise StaffingError(Message(N_("Give the last day in post.")))
    _check_dates(entry.starts_on, ends_on)
    entry.ends_on = ends_on
    _audit(session, actor, "staffing_ended", entry)
    session.commit()


def _check_dates(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise StaffingError(Message(N_("The last day in post cannot be before the first.")))


def full_time_on(day: date) -> ColumnElement[bool]:
    """Entries of a full-time teacher in post on `day` (first and last day included)."""
    return and_(
        StaffingEntry.post == StaffPost.FULL_TIME,
        StaffingEntry.starts_on <= day,
        or_(StaffingEntry.ends_on.is_(None), StaffingEntry.ends_on >= day),
    )


class Unregistered(NamedTuple):
    """A school counsellor the register does not count: their account, and the day their role
    was given (the first day in post the register's form offers)."""

    user: User
    since: datetime


def unregistered_counsellors(
    session: Session, institution: Institution, day: date
) -> list[Unregistered]:
    """The institution's school counsellors (心理中心专职教师: a working role, an active account)
    that no entry of the register has in post on `day`, by name: the staffing KPI does not count
    them, though the role page says they are the centre's full-time teachers. An entry counts as
    theirs when it is linked to their account, or has no account and their name."""
    in_post = (
        select(StaffingEntry.id)
        .where(
            StaffingEntry.institution_id == institution.id,
            StaffingEntry.starts_on <= day,
            or_(StaffingEntry.ends_on.is_(None), StaffingEntry.ends_on >= day),
            or_(
                StaffingEntry.user_id == User.id,
                and_(StaffingEntry.user_id.is_(None), StaffingEntry.person_name == User.name),
            ),
        )
        .exists()
    )
    rows = session.execute(
        select(User, func.min(RoleAssignment.since))
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
            RoleAssignment.institution_id == institution.id,
            User.active.is_(True),
            ~in_post,
        )
        .group_by(User.id)
        .order_by(User.name, User.id)
    ).tuples()
    return [Unregistered(user, since) for user, since in rows]


def _audit(session: Session, actor: User, action: str, entry: StaffingEntry) -> None:
    audit.record_on(
        session,
        entry,
        actor=actor,
        action=action,
        record_type="staffing_entry",
        detail=entry.post.value,
    )
