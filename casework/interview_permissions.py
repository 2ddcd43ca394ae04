"""Who may see and work the post-screening interview list: predicates named for each decision.

School counsellors and the centre director see every entry of their institution; a department
counsellor sees only the entries assigned to them in their own department; nobody else sees any.
The data scope is also `campus.scope.student_filter` at the warning tier, as for every student
record.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_

from campus.models import Role
from campus.models import User
from campus.scope import CASELOAD_ROLES
from campus.scope import Capability
from campus.scope import institution_ids
from campus.scope import student_filter
from casework.models import InterviewEntry

SCHOOL_ROLES = (Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
LIST_ROLES = (Role.SCHOOL_COUNSELLOR, Role.DIRECTOR, Role.DEPT_COUNSELLOR)
# Who hands entries to interviewers: the director, or a school counsellor.
ASSIGN_ROLES = SCHOOL_ROLES


def _departments(user: User) -> list[int]:
    return [
        a.department_id
        for a in user.assignments(Role.DEPT_COUNSELLOR)
        if a.department_id is not None
    ]


def entry_scope(user: User) -> ColumnElement[bool]:
    """The entries `user` may read, as a clause on `InterviewEntry` and `Student`."""
    school = institution_ids(user, *SCHOOL_ROLES)
    departments = _departments(user)
    own = (
        and_(
            InterviewEntry.interviewer_id == user.id, InterviewEntry.department_id.in_(departments)
        )
        if departments
        else false()
    )
    visible = or_(InterviewEntry.institution_id.in_(school), own) if school else own
    return and_(visible, student_filter(user, Capability.WARNING))


def can_assign(user: User, institution_id: int) -> bool:
    return institution_id in institution_ids(user, *ASSIGN_ROLES)


def can_conduct(user: User, entry: InterviewEntry) -> bool:
    """Schedule and record the outcome: the interviewer, or the centre director."""
    if entry.interviewer_id == user.id:
        return True
    return entry.institution_id in institution_ids(user, Role.DIRECTOR)


def may_interview(user: User, entry: InterviewEntry) -> bool:
    """Whether `user` may be handed `entry`: a school counsellor of its institution, or, for an
    entry whose every reason is department tier, a counsellor of the student's department."""
    for assignment in user.roles:
        if assignment.institution_id != entry.institution_id:
            continue
        if assignment.role == Role.SCHOOL_COUNSELLOR:
            return True
        if (
            assignment.role == Role.DEPT_COUNSELLOR
            and entry.tier == "department"
            and assignment.department_id == entry.department_id
        ):
            return True
    return False


def joins_caseload(interviewer: User, entry: InterviewEntry) -> bool:
    """Whether being handed `entry` puts its student on `interviewer`'s caseload: a school
    counsellor of its institution holds the interview as she would the case, and needs the
    screening scores behind it without a break-glass (a department counsellor has no caseload)."""
    return any(
        a.institution_id == entry.institution_id and a.role in CASELOAD_ROLES
        for a in interviewer.roles
    )
