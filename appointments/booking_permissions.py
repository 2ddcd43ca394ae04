"""Who may book a counselling appointment for a student, and who reads a pre-appointment check.

The booking pages and `appointments.booking` ask here; none keeps its own list of roles. The
predicates are WHERE clauses, so a forged student id outside the actor's reach finds nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import PreCheck
from campus import scope
from campus.models import Role
from campus.models import Student
from campus.models import User

# Staff who book on a student's behalf: the centre (school counsellors, the director) for any
# student of their institution; a department counsellor (辅导员), the first responder who often
# walks a student to the centre, for the students of their own department. Department leaders
# oversee and do not book.
BOOK_FOR_ROLES = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR, Role.DEPT_COUNSELLOR})
_DEPARTMENT_BOUND = frozenset({Role.DEPT_COUNSELLOR})


def book_for_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Student`: the students `user` may book an appointment for."""
    clauses: list[ColumnElement[bool]] = []
    for assignment in user.assignments(*BOOK_FOR_ROLES):
        institution = Student.institution_id == assignment.institution_id
        if assignment.role in _DEPARTMENT_BOUND:
            clauses.append(and_(institution, Student.department_id == assignment.department_id))
        else:
            clauses.append(institution)
    if not clauses:
        return false()
    return or_(*clauses)


def may_book_for_anyone(user: User) -> bool:
    """Whether `user` holds a role that books for students at all (to show the link)."""
    return user.has_role(*BOOK_FOR_ROLES)


def is_own(user: User, student: Student) -> bool:
    """Whether `user` is `student` booking for themself."""
    return student.user_id is not None and student.user_id == user.id


def precheck_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `PreCheck`: the checks `user` may read — those of the appointments they
    hold as the counsellor, and those of students whose answers and scores they may see at the
    scope screening results use (caseload, break-glass, the director)."""
    own_sessions = select(Appointment.id).where(Appointment.counsellor_id == user.id)
    clinical = select(Student.id).where(scope.student_filter(user, scope.Capability.CLINICAL))
    return or_(PreCheck.appointment_id.in_(own_sessions), PreCheck.student_id.in_(clinical))
