"""A family contact's follow-up outlives its author's role: it goes to who now answers for the
student.

Logging a family contact with a follow-up date gives its author a task (`family_contacts
.FOLLOW_UP_KIND`), addressed to her alone. When none of her roles reaches the student any more
(her department-counsellor role ended or moved to another department, her school-counsellor or
director role ended, her account is switched off, or the student moved department), the sweep
here hands the task on, as `warning.handover.return_reviews_sweep` does a review: to the
student's department, whose counsellors see and do it, when it has a working department
counsellor, else to the centre (addressed to no one, its directors'). The task's text then says
whose follow-up it was, the new addressees get one note a day listing what came to them, and an
audit row records each hand-over. Before the role ends, `holding` tells the administrator.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus import network
from campus.holdings import Holding
from campus.i18n import N_
from campus.i18n import Message
from campus.models import WITH_ENDED_ROLES
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify_digest
from casework.family_contacts import FOLLOW_UP_KIND
from casework.file_permissions import FAMILY_WRITERS
from warning.models import Task

HANDED_TASK_TEXT = N_(
    "Follow up with the family of %(name)s (agreed in a family contact; it was %(author)s's "
    "follow-up, who no longer answers for the student)"
)
HANDED_NOTE_TEXT = N_(
    "Family follow-ups came to you: who agreed them no longer answers for the student"
)
HANDED_ITEM = N_("%(student)s: family follow-up due %(day)s, was %(author)s's")
TASKS_LINK = "/tasks"
# The roles held over the whole institution (the others here are held over a department).
_SCHOOL_WRITERS = tuple(sorted(role for role in FAMILY_WRITERS if role != Role.DEPT_COUNSELLOR))


def _reaches(user_id, now: datetime, *, other_than: int | None = None):
    """SQL: the user `user_id` (a column or a value) holds, at `now`, a working role that lets
    them log the joined `Student`'s family contacts (`file_permissions.can_log_family_contact`):
    a department counsellor of the student's department, a school counsellor or the director of
    the student's institution; the assignment `other_than` left out."""
    role = select(RoleAssignment.id).where(
        RoleAssignment.user_id == user_id,
        RoleAssignment.institution_id == Student.institution_id,
        RoleAssignment.working_at(now),
        or_(
            RoleAssignment.role.in_(_SCHOOL_WRITERS),
            and_(
                RoleAssignment.role == Role.DEPT_COUNSELLOR,
                RoleAssignment.department_id == Student.department_id,
            ),
        ),
    )
    if other_than is not None:
        role = role.where(RoleAssignment.id != other_than)
    return role.exists()


def handover_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: every family follow-up not yet done whose addressee no longer
    answers for its student (account off, or no role `_reaches` it) goes to the student's
    department when it has a working department counsellor, else to the centre's directors;
    its text says whose it was, an audit row records it, and the new addressees get one note
    each per department (or institution) and day listing them. Idempotent: a task handed on
    has no one person as its addressee, so a second run finds nothing. Commits; how many went
    on."""
    rows = session.execute(
        select(Task, User, Student)
        .join(User, User.id == Task.assignee_user_id)
        .join(Student, Student.id == Task.student_id)
        .where(
            Task.kind == FOLLOW_UP_KIND,
            Task.done_at.is_(None),
            or_(User.active.is_(False), ~_reaches(Task.assignee_user_id, now)),
        )
        .order_by(Task.institution_id, Task.id)
        # The criterion above decides at the sweep's `now`, not at the clock's.
        .execution_options(**{WITH_ENDED_ROLES: True})
    ).tuples()
    handed: dict[tuple[int, int | None], list[dict[str, object]]] = {}
    for task, author, student in rows:
        counsellors = network.holders(
            session,
            student.institution_id,
            Role.DEPT_COUNSELLOR,
            now,
            department_id=student.department_id,
        )
        department = student.department_id if counsellors else None
        worded = Message(HANDED_TASK_TEXT, name=student.name, author=author.name)
        task.text, task.text_key, task.text_params = worded[:500], worded.key, worded.params
        task.assignee_user_id = None
        task.assignee_department_id = department
        audit.record_on(
            session,
            task,
            actor=None,
            action="family_follow_up_handed_over",
            record_type="task",
            detail=f"author={author.id} department={department or '-'}",
        )
        zone = clock.institution_zone(session.get(Institution, student.institution_id))
        handed.setdefault((student.institution_id, department), []).append(
            {
                "text": HANDED_ITEM,
                "params": {
                    "student": student.name,
                    "day": clock.local_date(task.due_at, zone).isoformat(),
                    "author": author.name,
                },
            }
        )
    today = clock.local_date(now, clock.institution_zone(None)).isoformat()
    for (institution_id, department_id), items in handed.items():
        if department_id is not None:
            to = network.holders(
                session, institution_id, Role.DEPT_COUNSELLOR, now, department_id=department_id
            )
            key = f"family_follow_ups_handed:department:{department_id}:{today}"
        else:
            to = network.holders(session, institution_id, Role.DIRECTOR, now)
            key = f"family_follow_ups_handed:institution:{institution_id}:{today}"
        notify_digest(session, to, key, HANDED_NOTE_TEXT, TASKS_LINK, items)
    session.commit()
    return sum(len(items) for items in handed.values())


def holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The family follow-ups not yet done that ending `assignment` hands on (`campus.holdings`;
    `handover_sweep`): those about students it reaches and no other working role of its holder
    does."""
    if assignment.role not in FAMILY_WRITERS:
        return None
    in_reach = (
        Student.department_id == assignment.department_id
        if assignment.role == Role.DEPT_COUNSELLOR
        else Student.institution_id == assignment.institution_id
    )
    follow_ups = int(
        session.scalar(
            select(func.count(Task.id))
            .join(Student, Student.id == Task.student_id)
            .where(
                Task.assignee_user_id == assignment.user_id,
                Task.kind == FOLLOW_UP_KIND,
                Task.done_at.is_(None),
                Student.institution_id == assignment.institution_id,
                in_reach,
                ~_reaches(assignment.user_id, now, other_than=assignment.id),
            )
            .execution_options(**{WITH_ENDED_ROLES: True})
        )
        or 0
    )
    return Holding(
        follow_ups,
        ngettext(
            "%(num)d family follow-up not yet done",
            "%(num)d family follow-ups not yet done",
            follow_ups,
        ),
        _(
            "the family follow-ups go to the student's department counsellors, or the centre's "
            "director where the department has none"
        ),
    )
