"""When a school counsellor's role ends, her open cases go back to the centre and her caseload ends.

Accounts are never deleted and a role ends by date, by an administrator or in the access review
(`campus.admin`); the sweep here finds the open warnings whose case counsellor no longer holds a
working school-counsellor role at the warning's institution (or whose account was switched off),
clears the counsellor, writes the timeline line and tells the director and the centre's
counsellors, so the case shows among those with no counsellor yet instead of resting with someone
who has gone.

Her caseload (`warning.caseload`: whose full record she opens without break-glass) ends by the
same test in a sibling sweep: it covers every student she ever took on, closed cases included,
not only the open warnings, and the rows would otherwise open those records to her again the day
a school-counsellor role is given back to her.

A review she set when closing a warning (`warning.review`) and has not done goes, by the same
test, to the centre: a closed warning is on no list of open cases, so the review, addressed to
her alone, would otherwise wait unseen past its day. It is addressed to no one person, so that
every director of the centre sees it on their task list, says whose review it was, and puts a
line on the warning's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus import network
from campus.holdings import Holding
from campus.i18n import N_
from campus.models import WITH_ENDED_ROLES
from campus.models import Caseload
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify_digest
from warning import review
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningEvent
from warning.models import WarningStatus

CASES_RETURNED_TEXT = N_("Cases came back to the centre: their counsellor's role has ended")
CASE_RETURNED_ITEM = N_("%(student)s: was %(counsellor)s's case")
# The warnings list, showing only the open cases no counsellor of the centre has yet.
UNASSIGNED_LINK = "/warnings/?unassigned=1"
REVIEWS_RETURNED_TEXT = N_(
    "Reviews of closed warnings came to the centre: their counsellor's role has ended"
)
REVIEW_RETURNED_ITEM = N_("%(student)s: review due %(day)s, was %(counsellor)s's")
TASKS_LINK = "/tasks"

RowTuple = TypeVar("RowTuple", bound=tuple[Any, ...])


def _gone_from_centre(institution_id, now: datetime):
    """SQL: the joined `User` no longer works at the centre of `institution_id` at `now`: the
    account is switched off, or holds no working school-counsellor role there."""
    holds_role = (
        select(RoleAssignment.id)
        .where(
            RoleAssignment.user_id == User.id,
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
            RoleAssignment.working_at(now),
        )
        .exists()
    )
    return or_(User.active.is_(False), ~holds_role)


def _counsellor_gone(
    stmt: Select[RowTuple], counsellor_id, institution_id, now: datetime
) -> Select[RowTuple]:
    """`stmt` kept to the rows whose counsellor (the user `counsellor_id` names, joined as
    `User`) is gone from the centre of `institution_id` at `now` (`_gone_from_centre`): the one
    test of the three sweeps. It reads ended roles (`WITH_ENDED_ROLES`), so that the criterion
    decides at the sweep's `now`, not at the clock's."""
    return (
        stmt.join(User, User.id == counsellor_id)
        .where(_gone_from_centre(institution_id, now))
        .execution_options(**{WITH_ENDED_ROLES: True})
    )


def return_cases_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: every open warning whose case counsellor's school-counsellor role
    at its institution has ended (or whose account is off) loses its counsellor, with a timeline
    line and an audit row; the director and the centre's counsellors get one note each per
    institution and day listing the cases. Idempotent: a returned case has no counsellor, so a
    second run finds nothing. Commits; how many cases came back."""
    rows = session.execute(
        _counsellor_gone(
            select(EarlyWarning, User).where(EarlyWarning.status == WarningStatus.OPEN),
            EarlyWarning.assigned_counsellor_id,
            EarlyWarning.institution_id,
            now,
        ).order_by(EarlyWarning.institution_id, EarlyWarning.id)
    ).tuples()
    returned: dict[int, list[dict[str, object]]] = {}
    for warning, counsellor in rows:
        warning.assigned_counsellor_id = None
        session.add(
            WarningEvent.of(warning, None, "case_returned", now, outcome=counsellor.name[:200])
        )
        audit.record_on(
            session,
            warning,
            actor=None,
            action="warning.case_returned",
            record_type="warning",
            detail=f"counsellor={counsellor.id}",
        )
        returned.setdefault(warning.institution_id, []).append(
            {
                "text": CASE_RETURNED_ITEM,
                "params": {"student": warning.student.name, "counsellor": counsellor.name},
            }
        )
    for institution_id, items in returned.items():
        _tell_the_centre(session, institution_id, items, now)
    session.commit()
    return sum(len(items) for items in returned.values())


def return_reviews_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: every review not yet done (`warning.review`) whose counsellor no
    longer holds a working school-counsellor role at its institution (or whose account is off)
    goes to the centre (`review.hand_to_centre`), with a line on its warning's timeline and an
    audit row; the centre's directors get one note each per institution and day listing them.
    Idempotent: a review handed over has no one person as its addressee, so a second run finds
    nothing. Commits; how many reviews went to the centre."""
    rows = session.execute(
        _counsellor_gone(
            select(Task, User).where(Task.kind == review.REVIEW_KIND, Task.done_at.is_(None)),
            Task.assignee_user_id,
            Task.institution_id,
            now,
        ).order_by(Task.institution_id, Task.id)
    ).tuples()
    returned: dict[int, list[dict[str, object]]] = {}
    for task, counsellor in rows:
        review.hand_to_centre(session, task, counsellor)
        warning = session.get(EarlyWarning, task.warning_id) if task.warning_id else None
        if warning is not None:
            session.add(
                WarningEvent.of(
                    warning, None, "review_returned", now, outcome=counsellor.name[:200]
                )
            )
        audit.record_on(
            session,
            task,
            actor=None,
            action="warning.review_returned",
            record_type="task",
            detail=f"counsellor={counsellor.id}",
        )
        params = task.text_params or {}
        returned.setdefault(task.institution_id, []).append(
            {
                "text": REVIEW_RETURNED_ITEM,
                "params": {
                    "student": params.get("name", ""),
                    "day": params.get("day", ""),
                    "counsellor": counsellor.name,
                },
            }
        )
    today = clock.local_date(now, clock.institution_zone(None))
    for institution_id, items in returned.items():
        notify_digest(
            session,
            network.holders(session, institution_id, Role.DIRECTOR, now),
            f"reviews_returned:institution:{institution_id}:{today.isoformat()}",
            REVIEWS_RETURNED_TEXT,
            TASKS_LINK,
            items,
        )
    session.commit()
    return sum(len(items) for items in returned.values())


def end_caseloads_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: every caseload row whose counsellor no longer holds a working
    school-counsellor role at the student's institution (or whose account is off) is removed,
    so a role given back later starts with an empty caseload. One audit row per student, filed
    under the student with the counsellor as its record: "who could open this student's full
    record, from when to when" is read student by student, and there it sits beside the
    `caseload_joined` row that opened the access. Idempotent: a removed row is not found again.
    Commits; how many rows ended."""
    rows = session.execute(
        _counsellor_gone(
            select(Caseload.id, Caseload.counsellor_id, Student.id, Student.institution_id).join(
                Student, Student.id == Caseload.student_id
            ),
            Caseload.counsellor_id,
            Student.institution_id,
            now,
        ).order_by(Caseload.id)
    ).all()
    if not rows:
        return 0
    for _row, counsellor_id, student_id, institution_id in rows:
        audit.record(
            session,
            actor=None,
            action="caseload_ended",
            record_type="counsellor",
            record_id=counsellor_id,
            student_id=student_id,
            institution_id=institution_id,
            flush=False,
        )
    session.execute(delete(Caseload).where(Caseload.id.in_([row[0] for row in rows])))
    session.commit()
    return len(rows)


def _tell_the_centre(
    session: Session, institution_id: int, items: list[dict[str, object]], now: datetime
) -> None:
    """One note per director and working counsellor of the centre and day, listing the cases."""
    centre = session.scalars(
        select(RoleAssignment.user_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.role.in_((Role.DIRECTOR, Role.SCHOOL_COUNSELLOR)),
            RoleAssignment.working_at(now),
            User.active.is_(True),
        )
        .execution_options(**{WITH_ENDED_ROLES: True})
    )
    today = clock.local_date(now, clock.institution_zone(None))
    key = f"cases_returned:institution:{institution_id}:{today.isoformat()}"
    notify_digest(session, set(centre), key, CASES_RETURNED_TEXT, UNASSIGNED_LINK, items)


def holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The open cases ending a school-counsellor role hands back (`campus.holdings`)."""
    if assignment.role is not Role.SCHOOL_COUNSELLOR:
        return None
    cases = int(
        session.scalar(
            select(func.count(EarlyWarning.id)).where(
                EarlyWarning.assigned_counsellor_id == assignment.user_id,
                EarlyWarning.institution_id == assignment.institution_id,
                EarlyWarning.status == WarningStatus.OPEN,
            )
        )
        or 0
    )
    return Holding(
        cases,
        ngettext("%(num)d open warning case", "%(num)d open warning cases", cases),
        _("the cases go back to the centre to be assigned"),
    )


def review_holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The reviews of closed warnings not yet done that ending a school-counsellor role hands to
    the centre (`campus.holdings`; `return_reviews_sweep`)."""
    if assignment.role is not Role.SCHOOL_COUNSELLOR:
        return None
    reviews = int(
        session.scalar(
            select(func.count(Task.id)).where(
                Task.assignee_user_id == assignment.user_id,
                Task.institution_id == assignment.institution_id,
                Task.kind == review.REVIEW_KIND,
                Task.done_at.is_(None),
            )
        )
        or 0
    )
    return Holding(
        reviews,
        ngettext(
            "%(num)d review of a closed warning not yet done",
            "%(num)d reviews of closed warnings not yet done",
            reviews,
        ),
        _("the reviews go to the centre's director"),
    )


def caseload_holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The students on the caseload of the holder of a school-counsellor role at its institution,
    whose full records ending it closes to them (`campus.holdings`; `end_caseloads_sweep`)."""
    if assignment.role is not Role.SCHOOL_COUNSELLOR:
        return None
    students = int(
        session.scalar(
            select(func.count(Caseload.id))
            .join(Student, Student.id == Caseload.student_id)
            .where(
                Caseload.counsellor_id == assignment.user_id,
                Student.institution_id == assignment.institution_id,
            )
        )
        or 0
    )
    return Holding(
        students,
        ngettext(
            "%(num)d student on their caseload", "%(num)d students on their caseload", students
        ),
        _("their access to those students' full records ends"),
    )
