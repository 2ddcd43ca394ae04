"""Every shipped instrument scored at its published cut-offs, on both sides of each boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screening.scoring import Instrument
from screening.scoring import load_instrument
from screening.scoring import score


def answers_totalling(instrument: Instrument, total: int, numbers: list[int] | None = None) -> dict:
    """Answers to ``numbers`` (default: the scored items) whose keyed values sum to ``total``.

    Fills items in order from their lowest keyed value, so later items (e.g. PHQ-9 item 9) stay at
    their minimum unless the total needs them.
    """
    numbers = numbers or list(instrument.total.items)
    keyed = {n: instrument.item(n).options.low for n in numbers}
    remaining = total - sum(keyed.values())
    for n in numbers:
        step = min(remaining, instrument.item(n).options.high - keyed[n])
        keyed[n] += step
        remaining -= step
    assert remaining == 0, f"{instrument.code} cannot total {total}"
    return {n: _unkeyed(instrument, n, value) for n, value in keyed.items()}


def _unkeyed(instrument: Instrument, number: int, keyed: int) -> int:
    item = instrument.item(number)
    return item.options.low + item.options.high - keyed if item.reverse else keyed


def band_code(code: str, answers: dict) -> str | None:
    result = score(code, answers)
    return result.band.code if result.band else None


# --- PHQ-9, PHQ-2, GAD-7, GAD-2 ------------------------------------------------------------------

PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_BANDS)
def test_phq9_total_falls_in_its_published_band(total: int, band: str) -> None:
    phq9 = load_instrument("phq9")
    result = score(phq9, answers_totalling(phq9, total))
    assert (result.total, result.band.code) == (total, band)


def test_phq9_item9_answer_is_a_safety_flag_even_at_minimal_total() -> None:
    answers = {n: 0 for n in range(1, 10)} | {9: 1}
    result = score("phq9", answers)
    assert result.total == 1
    assert result.band.code == "minimal"
    assert {"phq9_item9", "safety"} <= result.flags
    assert result.safety_items == (9,)
    assert result.flag_items["phq9_item9"] == (9,)


def test_phq9_item9_at_zero_raises_no_flag_even_at_severe_total() -> None:
    phq9 = load_instrument("phq9")
    result = score(phq9, answers_totalling(phq9, 24, numbers=[1, 2, 3, 4, 5, 6, 7, 8, 9]))
    assert result.band.code == "severe"
    assert result.flags == frozenset()


def test_phq9_item9_flags_safety_even_when_the_form_is_unfinished() -> None:
    result = score("phq9", {1: 0, 9: 2})
    assert result.total is None
    assert result.band is None
    assert not result.complete
    assert "safety" in result.flags
    assert result.safety_items == (9,)


def test_phq9_difficulty_item_is_recorded_but_not_added() -> None:
    without = score("phq9", {n: 1 for n in range(1, 10)})
    with_difficulty = score("phq9", {n: 1 for n in range(1, 10)} | {10: 3})
    assert without.total == with_difficulty.total == 9
    assert without.complete
    assert with_difficulty.complete


def test_phq9_total_is_withheld_when_any_symptom_item_is_missing() -> None:
    answers = {n: 3 for n in range(1, 10)}
    del answers[4]
    result = score("phq9", answers)
    assert result.total is None
    assert result.band is None
    assert result.missing_items == (4,)


@pytest.mark.parametrize(("code", "flag"), [("phq2", "phq2_positive"), ("gad2", "gad2_positive")])
@pytest.mark.parametrize(
    ("total", "band"), [(0, "negative"), (2, "negative"), (3, "positive"), (6, "positive")]
)
def test_two_item_screens_are_positive_from_three(
    code: str, flag: str, total: int, band: str
) -> None:
    instrument = load_instrument(code)
    result = score(instrument, answers_totalling(instrument, total))
    assert result.band.code == band
    assert (flag in result.flags) == (band == "positive")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_total_falls_in_its_published_band(total: int, band: str) -> None:
    gad7 = load_instrument("gad7")
    assert band_code("gad7", answers_totalling(gad7, total)) == band


# --- K10 and K6 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (10, "low"),
        (15, "low"),
        (16, "moderate"),
        (21, "moderate"),
        (22, "high"),
        (29, "high"),
        (30, "very_high"),
        (50, "very_high"),
    ],
)
def test_k10_uses_andrews_slade_bands_on_1_to_5_coding(total: int, band: str) -> None:
    k10 = load_instrument("k10")
    assert band_code("k10", answers_totalling(k10, total)) == band


def test_k10_all_none_of_the_time_scores_ten_not_zero() -> None:
    assert score("k10", {n: 1 for n in range(1, 11)}).total == 10


@pytest.mark.parametrize(
    ("total", "band", "flagged"),
    [
        (0, "no_serious_distress", False),
        (12, "no_serious_distress", False),
        (13, "serious_distress", True),
        (24, "serious_distress", True),
    ],
)
def test_k6_serious_distress_starts_at_13_on_0_to_4_coding(
    total: int, band: str, flagged: bool
) -> None:
    k6 = load_instrument("k6")
    result = score(k6, answers_totalling(k6, total))
    assert result.band.code == band
    assert ("k6_serious_distress" in result.flags) == flagged


# --- DASS-21 --------------------------------------------------------------------------------------

DASS_ITEMS = {
    "depression": [3, 5, 10, 13, 16, 17, 21],
    "anxiety": [2, 4, 7, 9, 15, 19, 20],
    "stress": [1, 6, 8, 11, 12, 14, 18],
}
DASS_PUBLISHED_BANDS = {
    "depression": [(0, 9), (10, 13), (14, 20), (21, 27), (28, None)],
    "anxiety": [(0, 7), (8, 9), (10, 14), (15, 19), (20, None)],
    "stress": [(0, 14), (15, 18), (19, 25), (26, 33), (34, None)],
}


def test_dass21_uses_the_standard_item_to_scale_key() -> None:
    dass = load_instrument("dass21")
    assert {s.code: list(s.rule.items) for s in dass.subscales} == DASS_ITEMS


@pytest.mark.parametrize("scale", DASS_PUBLISHED_BANDS)
def test_dass21_bands_are_the_published_cut_offs(scale: str) -> None:
    dass = load_instrument("dass21")
    (subscale,) = [s for s in dass.subscales if s.code == scale]
    assert [(b.value.min, b.value.max) for b in subscale.bands] == DASS_PUBLISHED_BANDS[scale]
    assert [b.code for b in subscale.bands] == [
        "normal",
        "mild",
        "moderate",
        "severe",
        "extremely_severe",
    ]


def _dass_with_scale_sum(scale: str, item_sum: int) -> dict[int, int]:
    answers = {n: 0 for n in range(1, 22)}
    for n in DASS_ITEMS[scale]:
        answers[n] = min(3, item_sum)
        item_sum -= answers[n]
    return answers


# Scale scores are item sums x 2, so only even scores occur; each pair straddles a cut-off.
@pytest.mark.parametrize(
    ("scale", "item_sum", "band"),
    [
        ("depression", 4, "normal"),
        ("depression", 5, "mild"),
        ("depression", 6, "mild"),
        ("depression", 7, "moderate"),
        ("depression", 10, "moderate"),
        ("depression", 11, "severe"),
        ("depression", 13, "severe"),
        ("depression", 14, "extremely_severe"),
        ("depression", 21, "extremely_severe"),
        ("anxiety", 3, "normal"),
        ("anxiety", 4, "mild"),
        ("anxiety", 5, "moderate"),
        ("anxiety", 7, "moderate"),
        ("anxiety", 8, "severe"),
        ("anxiety", 9, "severe"),
        ("anxiety", 10, "extremely_severe"),
        ("stress", 7, "normal"),
        ("stress", 8, "mild"),
        ("stress", 9, "mild"),
        ("stress", 10, "moderate"),
        ("stress", 12, "moderate"),
        ("stress", 13, "severe"),
        ("stress", 16, "severe"),
        ("stress", 17, "extremely_severe"),
    ],
)
def test_dass21_scale_score_is_item_sum_times_two_then_banded(
    scale: str, item_sum: int, band: str
) -> None:
    result = score("dass21", _dass_with_scale_sum(scale, item_sum))
    assert result.subscales[scale] == item_sum * 2
    assert result.subscale_bands[scale].code == band
    others = set(DASS_ITEMS) - {scale}
    assert all(result.subscales[o] == 0 for o in others)


def test_dass21_has_no_total_and_scores_complete_scales_when_another_is_missing() -> None:
    answers = {n: 1 for n in range(1, 22)}
    del answers[2]
    result = score("dass21", answers)
    assert result.total is None
    assert result.subscales == {"depression": 14, "anxiety": None, "stress": 14}
    assert set(result.subscale_bands) == {"depression", "stress"}
    assert not result.complete


# --- MHLS and the literacy quiz -------------------------------------------------------------------

MHLS_REVERSED = [10, 12, 15, 20, 21, 22, 23, 24, 25, 26, 27, 28]


def test_mhls_reverse_keys_are_the_published_twelve() -> None:
    mhls = load_instrument("mhls")
    assert [i.number for i in mhls.items if i.reverse] == MHLS_REVERSED


def test_mhls_items_1_to_15_use_four_points_and_16_to_35_five() -> None:
    mhls = load_instrument("mhls")
    ranges = {(i.options.low, i.options.high) for i in mhls.items[:15]}
    assert ranges == {(1, 4)}
    assert {(i.options.low, i.options.high) for i in mhls.items[15:]} == {(1, 5)}


@pytest.mark.parametrize(("total"), [35, 36, 159, 160])
def test_mhls_total_runs_from_35_to_160(total: int) -> None:
    mhls = load_instrument("mhls")
    assert score(mhls, answers_totalling(mhls, total)).total == total


def _mhls_published_key(number: int, answer: int) -> int:
    highest = 4 if number <= 15 else 5
    return 1 + highest - answer if number in MHLS_REVERSED else answer


@given(st.data())
def test_mhls_total_is_the_sum_of_published_keyed_values(data: st.DataObject) -> None:
    answers = {
        n: data.draw(st.integers(1, 4 if n <= 15 else 5), label=f"item {n}") for n in range(1, 36)
    }
    expected = sum(_mhls_published_key(n, a) for n, a in answers.items())
    assert score("mhls", answers).total == expected


@pytest.mark.parametrize(("number", "answer"), [(10, 4), (12, 1), (15, 3), (20, 5), (28, 1)])
def test_mhls_reverse_item_counts_lowest_plus_highest_minus_answer(
    number: int, answer: int
) -> None:
    base = {n: 1 for n in range(1, 36)}
    change = score("mhls", base | {number: answer}).total - score("mhls", base).total
    assert change == _mhls_published_key(number, answer) - _mhls_published_key(number, 1)


def test_mhls_has_no_bands_because_none_are_published() -> None:
    mhls = load_instrument("mhls")
    assert mhls.bands == ()
    assert score(mhls, {n: 2 for n in range(1, 36)}).band is None


def _literacy_answers(wrong: set[int]) -> dict[int, int]:
    quiz = load_instrument("literacy")
    answers = {}
    for item in quiz.items:
        wrong_value = next(v for v in sorted(item.options.values) if v != item.correct)
        answers[item.number] = wrong_value if item.number in wrong else item.correct
    return answers


@pytest.mark.parametrize(("wrong", "expected"), [(set(), 10), ({4}, 9), (set(range(1, 11)), 0)])
def test_literacy_score_is_the_number_of_correct_answers(wrong: set[int], expected: int) -> None:
    assert score("literacy", _literacy_answers(wrong)).total == expected


def test_literacy_quiz_has_a_key_and_explanation_in_both_languages_for_every_question() -> None:
    quiz = load_instrument("literacy")
    assert 8 <= len(quiz.items) <= 10
    for item in quiz.items:
        assert item.correct in item.options.values
        assert item.explanation.zh_CN
        assert item.explanation.en


# --- ASQ ------------------------------------------------------------------------------------------

NO, YES, DECLINED = 0, 1, 2


def test_asq_all_no_is_a_complete_negative_screen_without_question_5() -> None:
    result = score("asq", {1: NO, 2: NO, 3: NO, 4: NO})
    assert result.complete
    assert result.band.code == "negative"
    assert result.flags == frozenset()


@pytest.mark.parametrize("question", [1, 2, 3, 4])
def test_asq_yes_to_any_of_questions_1_to_4_is_positive(question: int) -> None:
    answers = {1: NO, 2: NO, 3: NO, 4: NO, 5: NO} | {question: YES}
    result = score("asq", answers)
    assert result.band.code == "non_acute_positive"
    assert result.flags == {"asq_positive", "safety"}
    assert result.safety_items == (question,)


@pytest.mark.parametrize("question", [1, 2, 3, 4])
def test_asq_refusal_to_answer_is_positive(question: int) -> None:
    answers = {1: NO, 2: NO, 3: NO, 4: NO, 5: NO} | {question: DECLINED}
    result = score("asq", answers)
    assert "asq_positive" in result.flags
    assert "safety" in result.flags
    assert result.band.code == "non_acute_positive"


def test_asq_question_5_yes_is_acute_positive() -> None:
    result = score("asq", {1: YES, 2: NO, 3: NO, 4: NO, 5: YES})
    assert result.band.code == "acute_positive"
    assert {"asq_acute", "asq_positive", "safety"} <= result.flags
    assert result.flag_items["asq_acute"] == (5,)
    assert result.safety_items == (1, 5)


def test_asq_positive_screen_needs_question_5_before_it_is_complete() -> None:
    result = score("asq", {1: YES, 2: NO, 3: NO, 4: NO})
    assert not result.complete
    assert result.missing_items == (5,)
    assert result.band is None
    assert "asq_positive" in result.flags


def test_asq_question_5_yes_is_acted_on_even_after_four_noes() -> None:
    result = score("asq", {1: NO, 2: NO, 3: NO, 4: NO, 5: YES})
    assert result.band.code == "acute_positive"
    assert "asq_acute" in result.flags


def test_asq_question_5_offers_no_refusal_option() -> None:
    assert load_instrument("asq").item(5).options.values == {NO, YES}


# --- UPI ------------------------------------------------------------------------------------------

UPI_LIE_ITEMS = (5, 20, 35, 50)
UPI_KEY_ITEMS = (8, 16, 25, 26)
UPI_PLAIN_ITEMS = [n for n in range(1, 61) if n not in UPI_LIE_ITEMS + UPI_KEY_ITEMS]


def upi(yes_plain: int = 0, yes: tuple[int, ...] = ()) -> dict[int, int]:
    """UPI answers with ``yes_plain`` ordinary items and the listed items answered yes."""
    answers = {n: 0 for n in range(1, 61)}
    for n in UPI_PLAIN_ITEMS[:yes_plain]:
        answers[n] = 1
    return answers | {n: 1 for n in yes}


def test_upi_validity_items_are_answered_but_never_counted() -> None:
    assert score("upi", upi(yes=UPI_LIE_ITEMS)).total == 0
    assert score("upi", {n: 1 for n in range(1, 61)}).total == 56
    assert set(load_instrument("upi").total.items).isdisjoint(UPI_LIE_ITEMS)


@pytest.mark.parametrize(
    ("yes_plain", "band"),
    [(0, "class_III"), (19, "class_III"), (20, "class_II"), (24, "class_II"), (25, "class_I")],
)
def test_upi_total_alone_sets_class_at_20_and_25(yes_plain: int, band: str) -> None:
    result = score("upi", upi(yes_plain))
    assert result.total == yes_plain
    assert result.band.code == band
    assert f"upi_{band}" in result.flags


def test_upi_item25_yes_is_class_one_and_a_safety_flag_at_any_total() -> None:
    result = score("upi", upi(yes=(25,)))
    assert result.total == 1
    assert result.band.code == "class_I"
    assert {"upi_item25", "safety", "upi_class_I"} <= result.flags
    assert result.safety_items == (25,)
    assert result.flag_items["upi_class_I"] == (25,)


@pytest.mark.parametrize("key_item", [8, 16, 26])
def test_upi_one_key_item_yes_is_class_two(key_item: int) -> None:
    result = score("upi", upi(yes=(key_item,)))
    assert result.band.code == "class_II"
    assert result.flag_items["upi_class_II"] == (key_item,)
    assert "safety" not in result.flags


def test_upi_two_key_items_without_item25_stay_class_two_under_the_sourced_rule() -> None:
    result = score("upi", upi(yes=(8, 16, 26)))
    assert result.band.code == "class_II"


def test_upi_class_one_by_total_has_no_safety_flag_without_item25() -> None:
    result = score("upi", upi(25))
    assert result.flags == {"upi_class_I"}


def test_upi_item25_flags_safety_on_an_unfinished_form_but_gives_no_class() -> None:
    result = score("upi", {25: 1, 1: 0})
    assert "upi_item25" in result.flags
    assert result.band is None


def test_upi_ships_placeholder_text_only() -> None:
    upi_instrument = load_instrument("upi")
    assert upi_instrument.licensed
    assert upi_instrument.item(12).text.en == "UPI item 12 (licensed text not loaded)"


# --- SCL-90 ---------------------------------------------------------------------------------------

SCL90_FACTORS = {
    "somatization": [1, 4, 12, 27, 40, 42, 48, 49, 52, 53, 56, 58],
    "obsessive_compulsive": [3, 9, 10, 28, 38, 45, 46, 51, 55, 65],
    "interpersonal_sensitivity": [6, 21, 34, 36, 37, 41, 61, 69, 73],
    "depression": [5, 14, 15, 20, 22, 26, 29, 30, 31, 32, 54, 71, 79],
    "anxiety": [2, 17, 23, 33, 39, 57, 72, 78, 80, 86],
    "hostility": [11, 24, 63, 67, 74, 81],
    "phobic_anxiety": [13, 25, 47, 50, 70, 75, 82],
    "paranoid_ideation": [8, 18, 43, 68, 76, 83],
    "psychoticism": [7, 16, 35, 62, 77, 84, 85, 87, 88, 90],
    "additional": [19, 44, 59, 60, 64, 66, 89],
}


def test_scl90_uses_the_derogatis_item_to_factor_key() -> None:
    scl90 = load_instrument("scl90")
    factors = {s.code: list(s.rule.items) for s in scl90.subscales if s.code in SCL90_FACTORS}
    assert factors == SCL90_FACTORS


def scl90_spread(extra: int, per_item: int) -> dict[int, int]:
    """All items 1, then ``extra`` points added ``per_item`` at a time, keeping every factor mean
    below 2 (the additional items first, as they are not a factor) and item 15 untouched."""
    answers = {n: 1 for n in range(1, 91)}
    for factor, numbers in SCL90_FACTORS.items():
        budget = extra if factor == "additional" else min(extra, len(numbers) - 1)
        for n in numbers:
            if n == 15 or budget <= 0:
                continue
            step = min(per_item, budget, extra)
            answers[n] += step
            budget -= step
            extra -= step
    assert extra == 0
    return answers


def _scl90(answers: dict[int, int]):
    result = score("scl90", answers)
    factors = [v for k, v in result.subscales.items() if k in SCL90_FACTORS and k != "additional"]
    assert max(factors) < 2
    return result


@pytest.mark.parametrize(("total", "band"), [(160, "negative"), (161, "positive")])
def test_scl90_total_over_160_screens_positive(total: int, band: str) -> None:
    result = _scl90(scl90_spread(total - 90, per_item=4))
    assert result.total == total
    assert result.subscales["positive_items"] <= 43
    assert result.band.code == band
    assert ("scl90_positive" in result.flags) == (band == "positive")


@pytest.mark.parametrize(("positive", "band"), [(43, "negative"), (44, "positive")])
def test_scl90_more_than_43_positive_items_screens_positive(positive: int, band: str) -> None:
    result = _scl90(scl90_spread(positive, per_item=1))
    assert result.subscales["positive_items"] == positive
    assert result.total <= 160
    assert result.band.code == band


@pytest.mark.parametrize(("hostile_items", "band"), [(5, "negative"), (6, "positive")])
def test_scl90_a_factor_mean_of_exactly_2_screens_positive(hostile_items: int, band: str) -> None:
    answers = {n: 1 for n in range(1, 91)}
    answers |= {n: 2 for n in SCL90_FACTORS["hostility"][:hostile_items]}
    result = score("scl90", answers)
    assert result.subscales["hostility"] == (hostile_items * 2 + 6 - hostile_items) / 6
    assert result.band.code == band


def test_scl90_additional_items_are_not_a_factor_for_the_screen() -> None:
    answers = {n: 1 for n in range(1, 91)} | {n: 5 for n in SCL90_FACTORS["additional"]}
    result = score("scl90", answers)
    assert result.subscales["additional"] == 5.0
    assert result.band.code == "negative"


def test_scl90_reports_gsi_and_positive_item_count() -> None:
    answers = {n: 1 for n in range(1, 91)} | {1: 3, 2: 2}
    result = score("scl90", answers)
    assert result.total == 93
    assert result.subscales["gsi"] == 93 / 90
    assert result.subscales["positive_items"] == 2


@pytest.mark.parametrize(("answer", "flagged"), [(1, False), (2, True), (5, True)])
def test_scl90_item15_thoughts_of_ending_life_is_a_safety_item(answer: int, flagged: bool) -> None:
    result = score("scl90", {n: 1 for n in range(1, 91)} | {15: answer})
    assert ("safety" in result.flags) == flagged
    assert result.safety_items == ((15,) if flagged else ())
