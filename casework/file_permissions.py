"""Who may open a student's file and who may log a contact with the family: the decisions, named.

The file is a WARNING-level read (`campus.scope`): class and dorm tiers see their roster and no
more, so they are never linked to a file and get the same 404 as a missing student if they try.
Each section of the file then asks for its own capability (`casework.student_file`).
"""

from __future__ import annotations

from campus.models import ROLE_SCOPE
from campus.models import Role
from campus.models import ScopeKind
from campus.models import Student
from campus.models import User
from campus.scope import ROLE_CAPABILITY
from campus.scope import Capability
from warning.permissions import GUARDIAN_ROLES

# Roles that may open a file at all (their capability reaches WARNING); the route's guard.
FILE_ROLES = frozenset(
    role
    for role, capability in ROLE_CAPABILITY.items()
    if capability is not None and capability >= Capability.WARNING
)
# Who logs contacts with a family: department counsellors for their department, the school's
# counsellors and the director for the school (issue #17 section 4). Department leaders read them.
# The same roles give a warning's guardian notice, which is such a contact: one list.
FAMILY_WRITERS = GUARDIAN_ROLES
# Whose workbench shows the month's family-contact figure.
FAMILY_FIGURE_ROLES = frozenset({Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.DIRECTOR})


def _reaches(user: User, student: Student, roles: frozenset[Role]) -> bool:
    """Whether one of `user`'s `roles` is held over a unit that contains `student`, read from
    the roles already loaded (no query: list pages ask this once per row)."""
    for assignment in user.roles:
        if assignment.role not in roles or assignment.institution_id != student.institution_id:
            continue
        kind = ROLE_SCOPE[assignment.role]
        if kind is ScopeKind.DEPARTMENT and assignment.department_id != student.department_id:
            continue
        if kind is ScopeKind.CLASS and assignment.class_id != student.class_id:
            continue
        if kind is ScopeKind.ROOM and assignment.room_id != student.room_id:
            continue
        return True
    return False


def may_open_file(user: User, student: Student) -> bool:
    """Whether `user` sees `student` at Capability.WARNING, i.e. may open the file (the same
    answer as `student_filter(user, WARNING)`, without a query)."""
    return _reaches(user, student, FILE_ROLES)


def can_log_family_contact(user: User, student: Student) -> bool:
    """Whether `user` may add an entry to `student`'s family-contact log."""
    return _reaches(user, student, FAMILY_WRITERS)
