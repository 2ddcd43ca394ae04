"""What each result means in the student's own words, read from the instrument's own order of
bands: a classification (ASQ, UPI, SCL-90) lists its most severe band first and its usual range
last, a score scale the other way round; either way the usual range reads as the usual range."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale

from casework import screening_report
from screening import intake
from screening.instruments import list_instruments
from screening.models import ScreeningResult
from screening.scoring import load_instrument

USUAL = "Your answers are within the usual range."
STRESS = "Your answers show some signs of stress."
HARD_TIME = "Your answers suggest you may be going through a hard time."
BANDED = [c for c in list_instruments() if load_instrument(c).bands]


def _result(code: str, band: str, flags: tuple[str, ...] = ()) -> ScreeningResult:
    return ScreeningResult(
        instrument=code, band=band, flags=";".join(flags), completed_at=datetime(2026, 9, 2)
    )


def _words(app, result: ScreeningResult) -> str:
    with app.test_request_context(), force_locale("en"):
        return screening_report._words(result, "en")


def test_a_negative_asq_reads_as_the_usual_range_not_as_stress(app):
    negative = _result("asq", "negative")
    assert _words(app, negative).startswith(USUAL)
    assert not intake.elevated(negative)


@pytest.mark.parametrize("code", BANDED)
def test_every_instruments_usual_range_reads_as_the_usual_range(app, code):
    inst = load_instrument(code)
    usual = inst.bands_by_severity[0]
    result = _result(code, usual.code, usual.flags)
    assert _words(app, result).startswith(USUAL)
    assert not intake.elevated(result)


@pytest.mark.parametrize("code", BANDED)
def test_every_instruments_most_severe_band_never_reads_as_the_usual_range(app, code):
    worst = load_instrument(code).bands_by_severity[-1]
    assert not _words(app, _result(code, worst.code, worst.flags)).startswith(USUAL)


def test_phq9_reads_mild_as_stress_and_moderate_as_a_hard_time(app):
    assert _words(app, _result("phq9", "mild")).startswith(STRESS)
    assert _words(app, _result("phq9", "moderate")).startswith(HARD_TIME)


def test_a_low_k10_is_not_told_a_counsellor_will_get_in_touch(app):
    assert not intake.elevated(_result("k10", "low"))
    assert intake.elevated(_result("k10", "high"))


def test_upi_class_iii_is_the_usual_range_and_class_ii_a_hard_time(app):
    assert _words(app, _result("upi", "class_III", ("upi_class_III",))).startswith(USUAL)
    assert _words(app, _result("upi", "class_II", ("upi_class_II",))).startswith(HARD_TIME)
