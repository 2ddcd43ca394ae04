"""Validate, then act: a referral move's `check_transition` refuses a move the state machine, the
mover's side or the form does not allow before `do_transition` writes anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from referrals import services
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from tests.factories import referral_in

S = ReferralStatus


def _written() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(ReferralTransition.id))),
        db.session.scalar(select(func.count(AuditEvent.id))),
    )


@pytest.mark.parametrize(
    ("target", "by", "expected_offset", "refusal"),
    [
        (S.ASSESSED, "counsellor", 0, services.InvalidTransition),  # draft cannot be assessed
        (S.SENT, "liaison", 0, PermissionError),  # the hospital does not send
        (S.SENT, "counsellor", -1, services.ConcurrentUpdate),  # an older version was seen
        (S.WITHDRAWN, "counsellor", 0, services.InvalidTransition),  # withdrawn needs a why
    ],
)
def test_check_transition_refuses_and_writes_nothing(world, target, by, expected_offset, refusal):
    referral = referral_in(S.DRAFT, world.warning, world.counsellor, world.hospital)
    user = world.counsellor if by == "counsellor" else world.liaison
    change = services.Change(target=target, expected_version=referral.version + expected_offset)
    before = (referral.status, referral.version, _written())
    with pytest.raises(refusal):
        services.check_transition(db.session, user, referral, change, clock.now())
    assert not db.session.new
    assert not db.session.dirty
    db.session.commit()
    assert (referral.status, referral.version, _written()) == before


def test_check_transition_names_the_side_that_moves(world):
    referral = referral_in(S.DRAFT, world.warning, world.counsellor, world.hospital)
    change = services.Change(target=S.SENT, expected_version=referral.version)
    assert services.check_transition(
        db.session, world.counsellor, referral, change, clock.now()
    ).value == ("counsellor")
    assert referral.status is S.DRAFT
