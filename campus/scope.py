"""Who may see which students, and which of their fields: the one place that answers it.

Every query of student data filters through `student_filter(user, capability)`, so a page or
export cannot show more than the viewer's scope even if a template forgets to check. Capabilities
follow the product's minimum-necessary table:

- ROSTER: name, number, class, room (class and dorm tiers, department, school, administrators);
- WARNING: warning level, signal summaries, follow-up log, guardian contact (department and school);
- CLINICAL: answers, scores, notes, referrals (school counsellors for their caseload or under
  break-glass; centre director).
"""

from __future__ import annotations

import enum
from datetime import timedelta

from flask import abort
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.models import ROLE_SCOPE
from campus.models import BreakGlassGrant
from campus.models import Caseload
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import ScopeKind
from campus.models import Student
from campus.models import User


class Capability(enum.IntEnum):
    ROSTER = 1
    WARNING = 2
    CLINICAL = 3


# The strongest capability each role gives over students in its scope.
ROLE_CAPABILITY: dict[Role, Capability | None] = {
    Role.STUDENT: None,  # a student sees only themselves, through their own pages
    Role.DORM_INFORMANT: Capability.ROSTER,
    Role.CLASS_COMMITTEE: Capability.ROSTER,
    Role.DEPT_COUNSELLOR: Capability.WARNING,
    Role.DEPT_LEADER: Capability.WARNING,
    Role.SCHOOL_COUNSELLOR: Capability.WARNING,  # CLINICAL on caseload / break-glass
    Role.DIRECTOR: Capability.CLINICAL,
    Role.ADMIN: Capability.WARNING,
    Role.HOSPITAL_LIAISON: None,  # sees referrals, never the roster
    Role.PROVINCE_AUDITOR: None,  # aggregates only
}


# The student's column that must match the assignment's, by the scope its role is held over
# (`ROLE_SCOPE`); a role held over any other scope reaches the whole institution.
_SCOPE_COLUMNS = {
    ScopeKind.ROOM: (Student.room_id, "room_id"),
    ScopeKind.CLASS: (Student.class_id, "class_id"),
    ScopeKind.DEPARTMENT: (Student.department_id, "department_id"),
}
# Roles that also see answers and scores of the students on their caseload or under break-glass.
CASELOAD_ROLES = frozenset({Role.SCHOOL_COUNSELLOR})


def _assignment_clause(role: Role, assignment: RoleAssignment) -> ColumnElement[bool]:
    institution = Student.institution_id == assignment.institution_id
    unit = _SCOPE_COLUMNS.get(ROLE_SCOPE[role])
    if unit is None:
        return institution
    column, attribute = unit
    return and_(institution, column == getattr(assignment, attribute))


def student_filter(user: User, need: Capability = Capability.ROSTER) -> ColumnElement[bool]:
    """A WHERE clause on `Student` admitting exactly the students `user` may see at `need`."""
    clauses: list[ColumnElement[bool]] = []
    for assignment in user.roles:
        granted = ROLE_CAPABILITY.get(assignment.role)
        if granted is not None and granted >= need:
            clauses.append(_assignment_clause(assignment.role, assignment))
    if need is Capability.CLINICAL and user.has_role(*CASELOAD_ROLES):
        clauses.append(Student.id.in_(_caseload_and_grants(user)))
    if not clauses:
        return false()
    return or_(*clauses) if len(clauses) > 1 else clauses[0]


def _caseload_and_grants(user: User) -> Select[tuple[int]]:
    institution_ids = [a.institution_id for a in user.assignments(*CASELOAD_ROLES)]
    caseload = select(Caseload.student_id).where(Caseload.counsellor_id == user.id)
    grants = select(BreakGlassGrant.student_id).where(
        BreakGlassGrant.user_id == user.id, BreakGlassGrant.expires_at > clock.now()
    )
    return select(Student.id).where(
        Student.institution_id.in_(institution_ids),
        or_(Student.id.in_(caseload), Student.id.in_(grants)),
    )


def capability_for(session: Session, user: User, student: Student) -> Capability | None:
    """The strongest capability `user` holds over `student`, or None."""
    for need in (Capability.CLINICAL, Capability.WARNING, Capability.ROSTER):
        found = session.scalar(
            select(Student.id).where(Student.id == student.id, student_filter(user, need))
        )
        if found is not None:
            return need
    return None


def get_student(
    session: Session,
    user: User,
    student_id: int,
    need: Capability,
    *,
    action: str = "read",
    record_type: str = "student",
) -> Student:
    """Load a student the viewer may see at `need`, auditing the read; 404 otherwise.

    A forged or out-of-scope id gives the same 404 as a missing one, so ids cannot be probed, and
    the denied attempt is audited too.
    """
    student = session.scalar(
        select(Student).where(Student.id == student_id, student_filter(user, need))
    )
    if student is None:
        audit.record_denied(session, user, action, record_type, student_id)
        abort(404)
    if need >= Capability.WARNING:
        audit.record_read_on(session, student, actor=user, action=action, record_type=record_type)
    return student


def grant_break_glass(
    session: Session, user: User, student: Student, reason: str, minutes: int
) -> BreakGlassGrant:
    """Open a student's full record outside the caseload for a while, with a logged reason."""
    if not user.has_role(Role.SCHOOL_COUNSELLOR) or not any(
        a.institution_id == student.institution_id for a in user.roles
    ):
        abort(403)
    reason = reason.strip()
    if len(reason) < 10:
        raise ValueError("A break-glass reason must say why (at least 10 characters).")
    grant = BreakGlassGrant(
        user_id=user.id,
        student_id=student.id,
        reason=reason,
        granted_at=clock.now(),
        expires_at=clock.now() + timedelta(minutes=minutes),
    )
    session.add(grant)
    audit.record_on(
        session, student, actor=user, action="break_glass", record_type="student", reason=reason
    )
    session.commit()
    return grant


def institution_ids(user: User, *roles: Role) -> list[int]:
    """Institutions where `user` holds any of `roles` (all roles when none given)."""
    wanted = set(roles) or set(Role)
    return sorted({a.institution_id for a in user.roles if a.role in wanted})
