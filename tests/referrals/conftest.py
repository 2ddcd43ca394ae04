"""Referral fixtures: a campus with two partner hospitals, a warned student and the people around
them, and a helper that walks a referral to any state through the real transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from campus import clock
from campus.extensions import db
from campus.models import Caseload, Hospital, Role, Student, User
from referrals import services
from referrals.models import AssessmentOutcome, ConsentBy, Referral, ReferralStatus, Urgency
from referrals.services import Change, NewReferral, ReferralSettings
from warning.models import EarlyWarning

S = ReferralStatus
SETTINGS = ReferralSettings()


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


def make_warning(student: Student) -> EarlyWarning:
    warning = EarlyWarning(
        student_id=student.id,
        institution_id=student.institution_id,
        department_id=student.department_id,
        level=2,
        computed_level=2,
        reason="yellow: PHQ-9 = 14",
        policy_version="test",
        owner_tier=3,
    )
    db.session.add(warning)
    db.session.flush()
    return warning


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
        warning=make_warning(student),
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
    data = {
        "hospital_id": world.hospital.id,
        "reason": "Persistent low mood, assessment needed",
        "urgency": Urgency.URGENT,
        "green_channel": False,
        "disclosed_fields": ["name", "gender", "birth_date", "referral_reason"],
        "consent_by": ConsentBy.STUDENT,
        "consent_name": "Li Lei",
        "consent_method": "written",
        "consent_at": clock.now() - timedelta(hours=1),
    } | overrides
    return services.create_referral(
        db.session, world.counsellor, world.warning, NewReferral(**data), clock.now()
    )


def step(world: World, referral: Referral, target: ReferralStatus, by: User | None = None, **kw):
    """Make one transition as `by` (default: whoever the state machine expects)."""
    if by is None:
        by = world.liaison if target in LIAISON_STEPS else world.counsellor
    change = Change(target=target, expected_version=referral.version, **kw)
    return services.transition(db.session, by, referral, change, clock.now(), SETTINGS)


LIAISON_STEPS = {S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT, S.DISCHARGED}
WHEN = datetime(2026, 9, 20, 9, 0)


def walk(world: World, referral: Referral, path: list[ReferralStatus], outcome=None) -> Referral:
    """Move `referral` along `path`, supplying what each step needs."""
    extras = {
        S.APPOINTMENT_BOOKED: {"appointment_at": WHEN},
        S.ASSESSED: {"outcome": outcome or AssessmentOutcome.OUTPATIENT},
        S.DECLINED: {"declined_by": ConsentBy.GUARDIAN, "note": "Guardian refused"},
        S.LOST_TO_FOLLOW_UP: {"note": "No answer for weeks"},
        S.WITHDRAWN: {"note": "Referred elsewhere"},
    }
    for target in path:
        step(world, referral, target, **extras.get(target, {}))
    return referral


# Shortest path from draft to each state, with the outcome it needs.
ROUTE: dict[ReferralStatus, tuple[list[ReferralStatus], AssessmentOutcome | None]] = {
    S.DRAFT: ([], None),
    S.SENT: ([S.SENT], None),
    S.APPOINTMENT_BOOKED: ([S.SENT, S.APPOINTMENT_BOOKED], None),
    S.ASSESSED: ([S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED], None),
    S.IN_TREATMENT: ([S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT], None),
    S.DISCHARGED: (
        [S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT, S.DISCHARGED],
        AssessmentOutcome.INPATIENT,
    ),
    S.CLOSED: (
        [S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED, S.CLOSED],
        AssessmentOutcome.NO_DISORDER,
    ),
    S.DECLINED: ([S.SENT, S.DECLINED], None),
    S.LOST_TO_FOLLOW_UP: ([S.SENT, S.LOST_TO_FOLLOW_UP], None),
    S.WITHDRAWN: ([S.WITHDRAWN], None),
}


def referral_in(
    world: World, status: ReferralStatus, outcome: AssessmentOutcome | None = None, **kw
) -> Referral:
    path, needed = ROUTE[status]
    return walk(world, new_referral(world, **kw), path, outcome or needed)
