"""Who may see and move referrals: the role sets and the scope clauses named for each decision.

Views and services ask here; none keeps its own list of roles.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy.orm import Session

from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import capability_for
from campus.scope import student_filter
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.states import Actor

# Who reads referrals and leaves: the school counsellors (their clinical scope) and the director.
CLINICAL_READERS = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
# Who reads, at a hospital, the referrals sent there: only the fields the counsellor disclosed.
HOSPITAL_ROLES = frozenset({Role.HOSPITAL_LIAISON})


def can_refer(user: User) -> bool:
    """Whether `user` may write referrals at all (school counsellors; the student must also be in
    their clinical scope, see `referable_clause`)."""
    return user.has_role(Role.SCHOOL_COUNSELLOR)


def counsellor_clause(user: User) -> ColumnElement[bool]:
    """Referrals whose student `user` may see clinically (join Referral to Student first)."""
    return student_filter(user, Capability.CLINICAL)


def referable_clause(user: User) -> ColumnElement[bool]:
    """Warnings `user` may refer from (join Warning to Student first): a school counsellor's,
    for students in their clinical scope."""
    return counsellor_clause(user) if can_refer(user) else false()


def may_refer_student(session: Session, user: User, student: Student) -> bool:
    """Whether `user` may refer `student` in one click: a school counsellor with the student in
    their clinical scope (their caseload, e.g. from taking up the warning, or a break-glass)."""
    return can_refer(user) and capability_for(session, user, student) is Capability.CLINICAL


def liaison_clause(user: User) -> ColumnElement[bool]:
    """Referrals sent to a hospital `user` is liaison for; drafts never reach the hospital."""
    hospital_ids = [a.hospital_id for a in user.assignments(*HOSPITAL_ROLES) if a.hospital_id]
    institution_ids = [a.institution_id for a in user.assignments(*HOSPITAL_ROLES)]
    return and_(
        Referral.hospital_id.in_(hospital_ids),
        Referral.institution_id.in_(institution_ids),
        Referral.status != ReferralStatus.DRAFT,
    )


def actor_for(session: Session, user: User, referral: Referral) -> Actor | None:
    """The role in which `user` may move `referral`, or None."""
    if may_refer_student(session, user, referral.student):
        return Actor.COUNSELLOR
    if referral.status != ReferralStatus.DRAFT and any(
        a.hospital_id == referral.hospital_id and a.institution_id == referral.institution_id
        for a in user.assignments(*HOSPITAL_ROLES)
    ):
        return Actor.LIAISON
    return None
