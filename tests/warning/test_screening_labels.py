"""Signal labels name screening's instruments and safety items as the instrument files declare."""

from __future__ import annotations

from datetime import datetime

import pytest

from warning import services

WHEN = datetime(2026, 9, 12, 2, 0)


@pytest.mark.parametrize(
    ("instrument", "flags", "expected"),
    [
        ("phq9", {"phq9_item9"}, "PHQ-9 safety item positive in Intake, 2026-09-12"),
        ("scl90", {"scl90_item15"}, "SCL-90 safety item positive in Intake, 2026-09-12"),
        ("asq", {"asq_positive", "safety"}, "ASQ safety item positive in Intake, 2026-09-12"),
        ("gad2", {"gad2_positive"}, "GAD-2 above the screening cut-off in Intake, 2026-09-12"),
    ],
)
def test_screening_label_says_safety_item_for_every_declared_safety_flag(
    instrument, flags, expected
):
    label = services.screening_label(instrument, frozenset(flags), None, "Intake", WHEN)
    assert label.english() == expected


def test_screening_label_names_an_unknown_instrument_in_capitals():
    label = services.screening_label("phq15", frozenset(), None, "Intake", WHEN)
    assert label.english() == "PHQ15 above the screening cut-off in Intake, 2026-09-12"


def test_a_screening_finished_after_local_midnight_is_dated_that_local_day():
    """00:30 on 12 September in Shanghai is 16:30 on 11 September in UTC."""
    late = datetime(2026, 9, 11, 16, 30)
    label = services.screening_label("phq9", frozenset({"phq9_item9"}), None, "Intake", late)
    assert label.english() == "PHQ-9 safety item positive in Intake, 2026-09-12"
