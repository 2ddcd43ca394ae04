"""The province view's headline cards publish only what its tables could: small figures hidden,
other counts rounded to the base, rates worked out from the rounded counts."""

from __future__ import annotations

import pandas as pd

from oversight import headlines
from oversight.disclosure import ROUNDING_BASE
from oversight.disclosure import Protection

PROTECTION = Protection(threshold=10, secret="test-secret")
BY_KEY = {h.kpi_key: h for h in headlines.HEADLINES}


def test_a_figure_about_few_students_is_hidden():
    frame = pd.DataFrame({"cohort": [3, 4], "screened": [1, 2], "students": [3, 4]})
    assert headlines.protected_figure(frame, BY_KEY["screening"], PROTECTION) == "< 10"


def test_counts_are_summed_over_institutions_then_rounded_and_the_rate_uses_them():
    frame = pd.DataFrame({"cohort": [401, 602], "screened": [300, 451], "students": [401, 602]})
    rate = headlines.protected_figure(frame, BY_KEY["screening"], PROTECTION)
    screened = PROTECTION.count(751, headlines.PROVINCE_KEY)
    cohort = PROTECTION.count(1003, headlines.PROVINCE_KEY)
    assert screened % ROUNDING_BASE == 0
    assert cohort % ROUNDING_BASE == 0
    assert rate == round(100 * screened / cohort, 1)


def test_a_small_count_among_many_students_is_hidden_and_compares_with_nothing():
    frame = pd.DataFrame({"incidents": [2, 1], "enrolled": [5000, 6000], "students": [5000, 6000]})
    figure = headlines.protected_figure(frame, BY_KEY["crisis"], PROTECTION)
    assert figure == "< 10"
    card = headlines.Card(BY_KEY["crisis"], figure, 15.0)
    assert card.change is None
