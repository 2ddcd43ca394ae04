"""Who may do what with the counsellors' time and the duty roster: role sets and clauses named for
each decision. Views and services ask here; none keeps its own role list.

A school counsellor (心理中心专职教师) keeps their own availability; the centre director keeps any
school counsellor's of their institution and plans the duty roster; the administrator keeps the
academic calendar. A department counsellor (辅导员) is not a counselling-centre counsellor: they
have no availability here and cannot be put on duty, but they see who is on duty, as every staff
tier that might meet a student in crisis does.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select

from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User

# Whose availability exists at all: the counselling centre's counsellors.
COUNSELLOR_ROLES = frozenset({Role.SCHOOL_COUNSELLOR})
# Who opens the availability pages (the clause below decides whose).
AVAILABILITY_EDITORS = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
# Who sees every counsellor's availability and edits their profiles.
CENTRE_MANAGERS = frozenset({Role.DIRECTOR})
# Who keeps the academic calendar (term breaks, public holidays).
CALENDAR_KEEPERS = frozenset({Role.ADMIN})
# Who plans the duty roster, and who may be put on it.
ROSTER_PLANNERS = frozenset({Role.DIRECTOR})
DUTY_ROLES = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
# Who is shown who is on duty (the workbench, the crisis pages, the roster's week).
ON_DUTY_VIEWERS = frozenset(
    {Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}
)


def _holders(roles: frozenset[Role], institution_ids: list[int]) -> ColumnElement[bool]:
    """`User.id` among the working holders of `roles` in `institution_ids`."""
    return User.id.in_(
        select(RoleAssignment.user_id).where(
            RoleAssignment.role.in_(roles), RoleAssignment.institution_id.in_(institution_ids)
        )
    )


def editable_counsellors(user: User) -> ColumnElement[bool]:
    """A clause on `User`: the counsellors whose availability `user` may edit — themselves if
    they are a school counsellor, every school counsellor of an institution they direct."""
    own = [a.institution_id for a in user.assignments(*COUNSELLOR_ROLES)]
    directed = [a.institution_id for a in user.assignments(*CENTRE_MANAGERS)]
    clauses = []
    if own:
        clauses.append(and_(User.id == user.id, _holders(COUNSELLOR_ROLES, own)))
    if directed:
        clauses.append(_holders(COUNSELLOR_ROLES, directed))
    return or_(*clauses) if clauses else false()


def duty_candidates(institution_id: int) -> ColumnElement[bool]:
    """A clause on `User`: who may be put on duty in `institution_id`."""
    return _holders(DUTY_ROLES, [institution_id])


def manages_centre(user: User, institution_id: int) -> bool:
    """Whether `user` directs the centre of `institution_id` (all counsellors' time, profiles)."""
    return any(a.institution_id == institution_id for a in user.assignments(*CENTRE_MANAGERS))


def plans_roster(user: User, institution_id: int) -> bool:
    """Whether `user` plans the duty roster of `institution_id`."""
    return any(a.institution_id == institution_id for a in user.assignments(*ROSTER_PLANNERS))


def sees_on_duty(user: User) -> bool:
    """Whether `user` is shown who is on duty (staff who might meet a student in crisis)."""
    return user.has_role(*ON_DUTY_VIEWERS)
