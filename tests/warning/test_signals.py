"""Recording signals: warnings open, rise and explain themselves; the hand-off from screening."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from tests.factories import safety_answer
from warning import services
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WarningEvent
from warning.policy import Level

SCREENED_AT = datetime(2026, 9, 12, 3, 0)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_safety_answer_opens_red_warning_in_the_same_transaction(unit):
    signal = safety_answer(unit.student, SCREENED_AT)
    warning = db.session.scalar(select(EarlyWarning))
    assert signal.implied_level == Level.RED
    assert signal.expires_at is None
    assert warning.level == Level.RED
    assert signal.warning_id == warning.id
    assert warning.reason == ("red: PHQ-9 safety item positive in 2026 freshman intake, 2026-09-12")
    assert warning.policy_version == signal.policy_version == "default-2026.1"
    db.session.rollback()
    assert (_count(Signal), _count(EarlyWarning), _count(WarningEvent)) == (0, 0, 0)


def test_screening_result_below_every_cut_off_records_nothing(unit):
    result = services.hand_off_screening_result(
        db.session,
        student=unit.student,
        instrument="phq9",
        total=3,
        flags=[],
        observed_at=SCREENED_AT,
        campaign_name="2026 freshman intake",
        result_id=8,
    )
    assert result is None
    assert _count(Signal) == 0


def test_new_signal_raises_open_warning_and_writes_the_history(unit):
    services.hand_off_screening_result(
        db.session,
        student=unit.student,
        instrument="phq9",
        total=7,
        flags=[],
        observed_at=SCREENED_AT,
        campaign_name="2026 freshman intake",
        result_id=1,
        band="mild",
    )
    services.record_signal(
        db.session,
        student=unit.student,
        source=SignalSource.SCREENING,
        observed_at=clock.now(),
        label="GAD-7 moderate in the retest",
        instrument="gad7",
        total=12,
    )
    db.session.commit()
    warnings = db.session.scalars(select(EarlyWarning)).all()
    assert len(warnings) == 1
    assert warnings[0].level == Level.YELLOW
    kinds = [e.kind for e in warnings[0].events]
    # The blue's check-in the rise took off the plan is said, not dropped in silence.
    assert kinds == ["opened", "signal_attached", "signal_attached", "level_changed", "superseded"]
    assert warnings[0].reason == "yellow: GAD-7 moderate in the retest"


def test_milder_signal_never_lowers_an_open_warning(unit):
    for total, label in ((15, "PHQ-9 moderate"), (6, "PHQ-9 mild")):
        services.record_signal(
            db.session,
            student=unit.student,
            source="screening",
            observed_at=clock.now(),
            label=label,
            instrument="phq9",
            total=total,
        )
    assert db.session.scalar(select(EarlyWarning)).level == Level.YELLOW


def test_a_signal_implying_nothing_opens_no_warning(unit):
    services.record_signal(
        db.session,
        student=unit.student,
        source="screening",
        observed_at=clock.now(),
        label="PHQ-9 minimal",
        instrument="phq9",
        total=2,
    )
    assert _count(EarlyWarning) == 0
    assert _count(Signal) == 1
