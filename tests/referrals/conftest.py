"""Referral fixtures: a campus with two partner hospitals, a warned student and the people around
them, and a helper that walks a referral to any state through the real transitions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campus.extensions import db
from campus.models import Caseload
from campus.models import Hospital
from campus.models import Role
from campus.models import Student
from campus.models import User
from referrals.models import AssessmentOutcome
from referrals.models import Referral
from referrals.models import ReferralStatus
from tests import factories
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.policy import Level


@dataclass
class World:
    institution: object
    department: object
    student: Student
    warning: EarlyWarning
    hospital: Hospital
    other_hospital: Hospital
    counsellor: User
    liaison: User
    other_liaison: User
    director: User
    admin: User
    dept_counsellor: User
    committee: User
    informant: User


@pytest.fixture
def world(campus) -> World:
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept)
    room = campus.room(inst)
    hospital = campus.hospital(inst, "Brain Hospital")
    other_hospital = campus.hospital(inst, "Other Hospital")
    student = campus.student(group, room, name="Li Lei")
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    db.session.add(Caseload(counsellor_id=counsellor.id, student_id=student.id))
    world = World(
        institution=inst,
        department=dept,
        student=student,
        warning=factories.open_warning(
            student,
            Level.YELLOW,
            planned=False,
            reason="yellow: PHQ-9 = 14",
            owner_tier=OwnerTier.DEPARTMENT,
        ),
        hospital=hospital,
        other_hospital=other_hospital,
        counsellor=counsellor,
        liaison=campus.staff(inst, Role.HOSPITAL_LIAISON, hospital=hospital),
        other_liaison=campus.staff(inst, Role.HOSPITAL_LIAISON, hospital=other_hospital),
        director=campus.staff(inst, Role.DIRECTOR),
        admin=campus.staff(inst, Role.ADMIN),
        dept_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept),
        committee=campus.staff(inst, Role.CLASS_COMMITTEE, group=group),
        informant=campus.staff(inst, Role.DORM_INFORMANT, room=room),
    )
    campus.commit()
    return world


def new_referral(world: World, **overrides) -> Referral:
    """A draft referral from the world's warning by its school counsellor."""
    return factories.new_referral(world.warning, world.counsellor, world.hospital, **overrides)


def step(world: World, referral: Referral, target: ReferralStatus, by: User | None = None, **kw):
    """Make one transition as `by` (default: whoever the state machine expects)."""
    if by is None:
        by = world.liaison if target in factories.LIAISON_STEPS else world.counsellor
    return factories.step(referral, target, by, **kw)


def walk(world: World, referral: Referral, path: list[ReferralStatus], outcome=None) -> Referral:
    """Move `referral` along `path`, supplying what each step needs."""
    return factories.walk(referral, path, world.counsellor, world.liaison, outcome)


def referral_in(
    world: World, status: ReferralStatus, outcome: AssessmentOutcome | None = None, **kw
) -> Referral:
    return factories.referral_in(
        status,
        world.warning,
        world.counsellor,
        world.hospital,
        liaison=world.liaison,
        outcome=outcome,
        **kw,
    )
