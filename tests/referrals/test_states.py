"""Every move between referral states, valid or not, and who may make it.

The expected table below is written out by hand from the product rules, independently of
`referrals.states.TRANSITIONS`, so a wrong entry there fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from referrals.services import InvalidTransition
from tests.factories import APPOINTMENT_AT as WHEN
from tests.referrals.conftest import referral_in
from tests.referrals.conftest import step

S = ReferralStatus
O = AssessmentOutcome  # noqa: E741

# (from state, outcome so far) -> {target: who may make the move ("C" counsellor, "L" liaison)}
EXPECTED: dict[tuple[S, O | None], dict[S, str]] = {
    (S.DRAFT, None): {S.SENT: "C", S.WITHDRAWN: "C"},
    (S.SENT, None): {
        S.APPOINTMENT_BOOKED: "CL",
        S.DECLINED: "CL",
        S.LOST_TO_FOLLOW_UP: "C",
        S.WITHDRAWN: "C",
    },
    (S.APPOINTMENT_BOOKED, None): {
        S.APPOINTMENT_BOOKED: "CL",  # the appointment's time changed
        S.ASSESSED: "L",
        S.DECLINED: "CL",
        S.LOST_TO_FOLLOW_UP: "CL",
        S.WITHDRAWN: "C",
    },
    (S.ASSESSED, O.NO_DISORDER): {S.CLOSED: "C"},
    (S.ASSESSED, O.OUTPATIENT): {S.IN_TREATMENT: "L", S.DECLINED: "CL", S.LOST_TO_FOLLOW_UP: "C"},
    (S.ASSESSED, O.INPATIENT): {S.IN_TREATMENT: "L", S.DECLINED: "CL", S.LOST_TO_FOLLOW_UP: "C"},
    # Outpatient care ends as inpatient care does (the liaison records it), or the school closes it.
    (S.IN_TREATMENT, O.OUTPATIENT): {S.DISCHARGED: "L", S.CLOSED: "C", S.LOST_TO_FOLLOW_UP: "CL"},
    (S.IN_TREATMENT, O.INPATIENT): {S.DISCHARGED: "L", S.LOST_TO_FOLLOW_UP: "CL"},
    (S.DISCHARGED, O.OUTPATIENT): {S.CLOSED: "C", S.LOST_TO_FOLLOW_UP: "C"},
    (S.DISCHARGED, O.INPATIENT): {S.CLOSED: "C", S.LOST_TO_FOLLOW_UP: "C"},
    (S.CLOSED, O.NO_DISORDER): {},
    (S.DECLINED, None): {},
    (S.LOST_TO_FOLLOW_UP, None): {},
    (S.WITHDRAWN, None): {},
}

EXTRAS = {
    # An hour after the time `referral_in` books: booked again, the time must change.
    S.APPOINTMENT_BOOKED: {"appointment_at": WHEN + timedelta(hours=1)},
    S.ASSESSED: {"outcome": O.OUTPATIENT},
    S.DECLINED: {"declined_by": ConsentBy.STUDENT, "note": "Student refused"},
    S.LOST_TO_FOLLOW_UP: {"note": "Unreachable"},
    S.WITHDRAWN: {"note": "Went elsewhere"},
}

CASES = [
    pytest.param(
        source,
        outcome,
        target,
        EXPECTED[(source, outcome)].get(target, ""),
        id=f"{source}/{outcome}->{target}",
    )
    for (source, outcome) in EXPECTED
    for target in S
]


def _snapshot(referral: Referral) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(Referral, referral.id)
    count = db.session.scalar(
        select(func.count()).where(ReferralTransition.referral_id == referral.id)
    )
    return fresh.status, fresh.version, count


def test_the_expected_table_covers_every_state():
    assert {source for source, _ in EXPECTED} == set(S)


@pytest.mark.parametrize(("source", "outcome", "target", "who"), CASES)
def test_referral_transition_table(world, source, outcome, target, who):
    referral = referral_in(world, source, outcome)
    people = {"C": world.counsellor, "L": world.liaison}
    for code, person in people.items():
        if code in who:
            continue
        before = _snapshot(referral)
        expected_error = (
            InvalidTransition
            if not who and code == "C"
            else (
                InvalidTransition,
                PermissionError,
            )
        )
        with pytest.raises(expected_error):
            step(world, referral, target, by=person, **EXTRAS.get(target, {}))
        db.session.rollback()
        assert _snapshot(referral) == before, "a refused move must write nothing"
    if who:
        # An assessment is recorded once the appointment (booked for WHEN) has started.
        started = WHEN - clock.now() if target is S.ASSESSED else timedelta()
        clock.advance(timedelta(minutes=5) + started)
        made = step(world, referral, target, by=people[who[0]], **EXTRAS.get(target, {}))
        assert (made.from_status, made.to_status) == (source, target)
        assert made.by_id == people[who[0]].id
        assert made.at == clock.now()
        assert db.session.get(Referral, referral.id).last_transition_at == clock.now()
