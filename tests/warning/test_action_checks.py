"""Validate, then act: each action's `check_*` refuses what breaks a rule before its `do_*`
writes anything, so a counsellor's refused action leaves no trace but the error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from tests.factories import open_warning
from warning import actions
from warning.models import WarningEvent
from warning.policy import Level

NOW = clock.now


def _written() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(WarningEvent.id))),
        db.session.scalar(select(func.count(AuditEvent.id))),
    )


REFUSED = {
    "contact without a method": lambda w: actions.check_contact("fax", "reached"),
    "contact without an outcome": lambda w: actions.check_contact("phone", "  "),
    "assessment without an outcome": lambda w: actions.check_assessment(" "),
    "peer watch ending now": lambda w: actions.check_peer_watch(db.session, w, NOW(), NOW(), None),
    "follow-up beyond the cadence": lambda w: actions.check_follow_up(
        db.session, w, NOW(), NOW() + timedelta(days=400)
    ),
    "escalation without a reason": lambda w: actions.check_escalation(w, "why"),
    "closure without an outcome": lambda w: actions.check_close(
        db.session, w, NOW(), "ok", NOW().date() + timedelta(days=30)
    ),
    "closure reviewed today": lambda w: actions.check_close(
        db.session, w, NOW(), "Stable for six weeks, back in class", NOW().date()
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_each_check_refuses_with_a_message_and_writes_nothing(network, case):
    warning = open_warning(network.student, Level.YELLOW)
    version, before = warning.version, _written()
    with pytest.raises(actions.InvalidAction) as refused:
        REFUSED[case](warning)
    assert str(refused.value)
    assert not db.session.new
    assert not db.session.dirty
    db.session.commit()
    assert (warning.version, _written()) == (version, before)


def test_every_action_first_checks_role_state_and_the_version_seen(network):
    warning = open_warning(network.student, Level.YELLOW)
    with pytest.raises(actions.StaleWarning):
        actions.check_can_act(network.dept_counsellor, warning, warning.version - 1, "contact")
    with pytest.raises(actions.ActionNotAllowed):
        actions.check_can_act(network.dept_counsellor, warning, warning.version, "close")
    assert not db.session.new
    assert not db.session.dirty
