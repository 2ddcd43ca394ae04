"""Who owns a case: the school counsellor who takes up a red or yellow warning has its student on
their caseload, so the full record and a referral are one click away, not a break-glass.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.models import Caseload
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from warning import permissions
from warning.models import EarlyWarning
from warning.models import WarningStatus


def join(session: Session, counsellor: User, student: Student, now: datetime) -> bool:
    """Put `student` on `counsellor`'s caseload in this unit of work; False if already there."""
    exists = session.scalar(
        select(Caseload.id).where(
            Caseload.counsellor_id == counsellor.id, Caseload.student_id == student.id
        )
    )
    if exists is not None:
        return False
    session.add(Caseload(counsellor_id=counsellor.id, student_id=student.id, since=now))
    return True


def take_on(session: Session, actor: User, warning: EarlyWarning, now: datetime) -> None:
    """When `actor` acts on `warning` as its school counsellor (see `permissions.joins_caseload`),
    make them its assigned counsellor if it has none and put the student on their caseload; the
    caseload change is audited, since it opens the student's clinical record to them."""
    if not permissions.joins_caseload(actor, warning):
        return
    if warning.assigned_counsellor_id is None:
        warning.assigned_counsellor_id = actor.id
    _join_audited(session, actor, actor, warning, now)


def centre_counsellors(session: Session, institution_id: int) -> list[User]:
    """The institution's school counsellors with working accounts, by name: whom a case may be
    given to."""
    return list(session.scalars(_centre_counsellors(institution_id)))


def with_open_cases(session: Session, institution_id: int) -> list[tuple[User, int]]:
    """The centre's counsellors (as `centre_counsellors`), each with their number of open cases,
    in one query: what the director weighs when sharing out new ones."""
    cases = (
        select(EarlyWarning.assigned_counsellor_id, func.count(EarlyWarning.id).label("cases"))
        .where(
            EarlyWarning.institution_id == institution_id,
            EarlyWarning.status == WarningStatus.OPEN,
        )
        .group_by(EarlyWarning.assigned_counsellor_id)
        .subquery()
    )
    query = (
        _centre_counsellors(institution_id)
        .add_columns(func.coalesce(cases.c.cases, 0))
        .outerjoin(cases, cases.c.assigned_counsellor_id == User.id)
    )
    return [(user, int(number)) for user, number in session.execute(query).tuples()]


def _centre_counsellors(institution_id: int):
    return (
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
        .distinct()
    )


def assign(
    session: Session, actor: User, warning: EarlyWarning, counsellor: User, now: datetime
) -> None:
    """Make `counsellor` the case's counsellor and put the student on their caseload, in the
    caller's unit of work."""
    warning.assigned_counsellor_id = counsellor.id
    _join_audited(session, actor, counsellor, warning, now)


def _join_audited(
    session: Session, actor: User, counsellor: User, warning: EarlyWarning, now: datetime
) -> None:
    """Put the warning's student on `counsellor`'s caseload; audited, since it opens the
    student's clinical record to them."""
    if join(session, counsellor, warning.student, now):
        audit.record_on(
            session, warning, actor=actor, action="caseload_joined", record_type="warning"
        )
