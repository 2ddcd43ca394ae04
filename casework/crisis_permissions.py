"""Who may read and write crisis records and who follows up the students a crisis touched: the
role sets and the scope clauses named for each decision. Views and services ask here.

A crisis record is read (and written) by the warning's clinical readers — a school counsellor with
the student on their caseload (or under break-glass) and the centre director — and by the
department counsellor (辅导员) of the student's department, who is on the scene in Chinese
practice. Never by the department leader's WARNING scope alone, nor by class or dorm tiers.
The contagion follow-up list is the school centre's (school counsellors and the director, the
whole institution) and each department counsellor's for the affected students of their department.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_

from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter

SCENE_ROLES = frozenset({Role.DEPT_COUNSELLOR})
CLINICAL_ROLES = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
# Everyone who may ever open a crisis record (the route guard); the clause decides which.
CRISIS_ROLES = CLINICAL_ROLES | SCENE_ROLES
# Who keeps the contagion follow-up list, and who decides the institution's crisis settings.
FOLLOW_UP_ROLES = CRISIS_ROLES
SETTINGS_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR})


def _scene_clause(user: User) -> ColumnElement[bool]:
    """Students of the departments `user` is a department counsellor of."""
    clauses = [
        and_(Student.institution_id == a.institution_id, Student.department_id == a.department_id)
        for a in user.assignments(*SCENE_ROLES)
    ]
    return or_(*clauses) if clauses else false()


def on_the_scene(user: User, student: Student) -> bool:
    """`_scene_clause` for one student: whether `user` is a department counsellor of the
    student's department (the student file's crisis section asks)."""
    return any(
        a.institution_id == student.institution_id and a.department_id == student.department_id
        for a in user.assignments(*SCENE_ROLES)
    )


def crisis_clause(user: User) -> ColumnElement[bool]:
    """Crisis records (and their warnings, documents) `user` may read and write: a clause on
    `Student`, so join the record's table to `Student` first."""
    return or_(student_filter(user, Capability.CLINICAL), _scene_clause(user))


def follow_up_clause(user: User) -> ColumnElement[bool]:
    """Affected students whose follow-up `user` keeps (join the follow-up to its `Student`):
    the institution's for the school centre, their department's for a department counsellor."""
    centre = [Student.institution_id == a.institution_id for a in user.assignments(*CLINICAL_ROLES)]
    return or_(*centre, _scene_clause(user))


def can_change_settings(user: User, institution_id: int) -> bool:
    """Whether `user` decides `institution_id`'s crisis settings (its administrator, director)."""
    return any(a.role in SETTINGS_ROLES and a.institution_id == institution_id for a in user.roles)
