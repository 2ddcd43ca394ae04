"""An administrator can never store or activate a policy that would let a crisis go unflagged."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from warning import retriage
from warning import services
from warning.models import EarlyWarning
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.policy import Level

SAFE = retriage.default_yaml().replace('version: "default-2026.1"', 'version: "unsafe-1"')
UNSAFE_EDITS = [
    ("  - {key: safety_item, level: red, when: {flag: safety}}\n", "", "flag safety"),
    ("  - {key: asq_acute, level: red, when: {flag: asq_acute}}\n", "", "flag asq_acute"),
    (
        "  - key: concern_crisis\n    level: red\n",
        "  - key: concern_crisis\n    level: yellow\n",
        "concern:self_harm",
    ),
    ("  red: null", "  red: 365", "expiry_days.red: must be null"),
]


def _unsafe(old: str, new: str) -> str:
    assert old in SAFE
    return SAFE.replace(old, new)


@pytest.mark.parametrize(("old", "new", "message"), UNSAFE_EDITS, ids=lambda v: str(v)[:24])
def test_a_draft_that_would_not_grade_a_crisis_red_is_refused_with_a_clear_message(
    campus, unit, login, old, new, message
):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    response = login(admin).post("/warnings/policy", data={"yaml_text": _unsafe(old, new)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_an_unsafe_draft_stored_earlier_cannot_be_activated_and_item_9_stays_red(
    campus, unit, login
):
    admin = campus.staff(unit.institution, Role.ADMIN)
    draft = PolicyVersion(
        institution_id=unit.institution.id,
        version="unsafe-1",
        yaml_text=_unsafe(*UNSAFE_EDITS[0][:2]),
        status=PolicyStatus.DRAFT,
        created_by_id=admin.id,
    )
    campus.session.add(draft)
    campus.commit()
    page = login(admin).post(f"/warnings/policy/{draft.id}/activate", follow_redirects=True)
    assert "cannot be activated" in page.get_data(as_text=True)
    assert db.session.get(PolicyVersion, draft.id).status == PolicyStatus.DRAFT

    services.record_signal(
        db.session,
        student=unit.student,
        source="screening",
        observed_at=clock.now(),
        label="PHQ-9 safety item positive",
        instrument="phq9",
        total=8,
        flags=["safety", "phq9_item9"],
    )
    db.session.commit()
    assert db.session.scalar(select(EarlyWarning.level)) == Level.RED


def test_the_shipped_default_policy_passes_the_safety_check():
    assert retriage.policy_of(PolicyVersion(yaml_text=SAFE)).version == "unsafe-1"
