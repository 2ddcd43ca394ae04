"""Named factories for the chain's records: a signal, an open warning, a referral in a given state.

Tests say the situation (`open_warning(student, Level.YELLOW)`, `referral_in("sent", ...)`) instead
of building rows by hand; the factories go through the real services wherever the record's rules
matter, and build rows directly only where a test needs a history the clock cannot replay.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import WITH_ENDED_ROLES
from campus.models import Hospital
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from referrals import services as referrals
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import Urgency
from referrals.services import Change
from referrals.services import NewReferral
from referrals.services import ReferralSettings
from warning import services as warnings
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Signal
from warning.policy import Level
from warning.response import plan_response

S = ReferralStatus
SETTINGS = ReferralSettings()
# When a hospital appointment booked by `referral_in` takes place, for a referral left booked; one
# walked on to its assessment was booked for the frozen clock's time (none is recorded earlier).
APPOINTMENT_AT = datetime(2026, 9, 20, 9, 0)
# A Monday three weeks before the frozen test clock (2026-09-14): the term's first week.
TERM_START = datetime(2026, 8, 24)


def went_live(moment: datetime, institution: Institution, *reporters: User) -> None:
    """Backdate the institution's go-live and its reporters' appointments to ``moment``, so the
    weekly reports of the weeks since then are owed (a new institution or reporter owes none)."""
    institution.live_since = moment
    for reporter in reporters:
        for assignment in reporter.assignments(Role.CLASS_COMMITTEE, Role.DORM_INFORMANT):
            assignment.since = moment


def signal(
    student: Student, label: str = "PHQ-9 in the intake", *, source: str = "screening", **kw: Any
) -> EarlyWarning | None:
    """One piece of evidence recorded and triaged now, committed; returns the open warning."""
    warnings.record_signal(
        db.session, student=student, source=source, observed_at=clock.now(), label=label, **kw
    )
    db.session.commit()
    return warnings.open_warning(db.session, student.id)


def phq9_signal(
    student: Student, total: int, label: str = "PHQ-9 in the intake"
) -> EarlyWarning | None:
    """A screening PHQ-9 total as a signal; the default policy reads 5+ blue, 10+ yellow, 20+
    red."""
    return signal(student, label, instrument="phq9", total=total)


def safety_answer(student: Student, observed_at: datetime) -> Signal | None:
    """A PHQ-9 screening result with its safety item answered (total 12), handed off from the
    2026 freshman intake as screening hands it: it opens a red warning. Not committed, so a test
    may also roll the hand-off back."""
    return warnings.hand_off_screening_result(
        db.session,
        student=student,
        instrument="phq9",
        total=12,
        flags="phq9_item9;safety",
        observed_at=observed_at,
        campaign_name="2026 freshman intake",
        result_id=7,
    )


def open_warning(
    student: Student,
    level: int = Level.RED,
    opened_at: datetime | None = None,
    *,
    planned: bool = True,
    **fields: Any,
) -> EarlyWarning:
    """An open warning at `level`, as triage opens it.

    `planned` also plans its response (deadlines, tasks, notifications) and commits; without it
    the row is only flushed, for tests that hand-count what a warning alone contributes.
    """
    opened_at = opened_at or clock.now()
    columns = {
        "reason": f"{Level(level).name.lower()}: PHQ-9 = 21 in the 2026 freshman screening",
        "policy_version": "test",
        "owner_tier": OwnerTier.DORM,  # triage opens at the lowest tier; planning raises it
        "owner_since": opened_at,
    } | fields
    warning = EarlyWarning(
        student_id=student.id,
        institution_id=student.institution_id,
        department_id=student.department_id,
        level=level,
        computed_level=level,
        opened_at=opened_at,
        **columns,
    )
    db.session.add(warning)
    db.session.flush()
    if planned:
        plan_response(db.session, warning, None, opened_at)
        db.session.commit()
    return warning


def new_referral(
    warning: EarlyWarning, counsellor: User, hospital: Hospital, **overrides: Any
) -> Referral:
    """A draft referral from `warning` with the student's written consent, committed."""
    data = {
        "hospital_id": hospital.id,
        "reason": "Persistent low mood, assessment needed",
        "urgency": Urgency.URGENT,
        "green_channel": False,
        "disclosed_fields": ["name", "gender", "birth_date", "referral_reason"],
        "consent_by": ConsentBy.STUDENT,
        "consent_name": warning.student.name,
        "consent_method": "written",
        "consent_at": clock.now() - timedelta(hours=1),
    } | overrides
    return referrals.create_referral(
        db.session, counsellor, warning, NewReferral(**data), clock.now()
    )


# The hospital's side of the state machine; every other step is the counsellor's.
LIAISON_STEPS = {S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT, S.DISCHARGED}
# Shortest path from draft to each state, with the assessment outcome it needs.
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


def step(
    referral: Referral,
    target: ReferralStatus,
    by: User,
    **kw: Any,
) -> Referral:
    """One transition of `referral` to `target`, made by `by` through the state machine."""
    change = Change(target=target, expected_version=referral.version, **kw)
    return referrals.transition(db.session, by, referral, change, clock.now(), SETTINGS)


def walk(
    referral: Referral,
    path: list[ReferralStatus],
    counsellor: User,
    liaison: User | None = None,
    outcome: AssessmentOutcome | None = None,
) -> Referral:
    """Move `referral` along `path`, each step by the side that makes it, with what it needs."""
    extras = {
        S.APPOINTMENT_BOOKED: {
            "appointment_at": clock.now() if S.ASSESSED in path else APPOINTMENT_AT
        },
        S.ASSESSED: {"outcome": outcome or AssessmentOutcome.OUTPATIENT},
        S.DECLINED: {"declined_by": ConsentBy.GUARDIAN, "note": "Guardian refused"},
        S.LOST_TO_FOLLOW_UP: {"note": "No answer for weeks"},
        S.WITHDRAWN: {"note": "Referred elsewhere"},
    }
    for target in path:
        by = liaison if target in LIAISON_STEPS else counsellor
        step(referral, target, by, **extras.get(target, {}))
    return referral


def referral_in(
    state: ReferralStatus | str,
    warning: EarlyWarning,
    counsellor: User,
    hospital: Hospital,
    *,
    liaison: User | None = None,
    outcome: AssessmentOutcome | None = None,
    **fields: Any,
) -> Referral:
    """A referral from `warning` walked to `state` by the real transitions (hospital steps need
    `liaison`)."""
    path, needed = ROUTE[ReferralStatus(state)]
    referral = new_referral(warning, counsellor, hospital, **fields)
    return walk(referral, path, counsellor, liaison, outcome or needed)


def referral_row(
    student: Student,
    hospital: Hospital,
    by: User,
    sent_at: datetime,
    status: ReferralStatus,
    **fields: Any,
) -> Referral:
    """A referral row with a past history written directly (flushed), for counts over months the
    frozen clock cannot walk through."""
    columns = {
        "created_at": sent_at,
        "reason": "assessment needed",
        "urgency": Urgency.ROUTINE,
        "disclosed_fields": "name",
        "consent_at": sent_at,
        "last_transition_at": sent_at,
    } | fields
    referral = Referral(
        institution_id=student.institution_id,
        student_id=student.id,
        hospital_id=hospital.id,
        department_id=student.department_id,
        created_by_id=by.id,
        consent_by=ConsentBy.STUDENT,
        consent_name=student.name,
        consent_method="written",
        consent_recorded_by_id=by.id,
        status=status,
        sent_at=sent_at,
        **columns,
    )
    db.session.add(referral)
    db.session.flush()
    return referral


def role_assignment(user: User, role: Role) -> RoleAssignment:
    """`user`'s assignment of `role`, ended or not: what a test of ending it reads after."""
    found = db.session.scalar(
        select(RoleAssignment)
        .where(RoleAssignment.user_id == user.id, RoleAssignment.role == role)
        .execution_options(**{WITH_ENDED_ROLES: True})
    )
    assert found is not None
    return found
