"""The vectorised scorer agrees with the single-response scorer, row for row."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from screening.bulk_scoring import score_frame
from screening.scoring import AnswerError
from screening.scoring import Instrument
from screening.scoring import list_instruments
from screening.scoring import load_instrument
from screening.scoring import score
from screening.scoring import validate_answers

NOT_WHOLE = [0.5, 2.25, "x", "yes"]


@st.composite
def responses(draw: st.DrawFn, instrument: Instrument) -> dict[int, Any]:
    """A response at the floor, the ceiling or anywhere, then up to four items disturbed: changed,
    unanswered, out of range or not a number. Floors matter: they make the conditional and
    classification rules (ASQ question 5, UPI class III) common enough to be compared."""
    style = draw(st.sampled_from(["floor", "ceiling", "random"]))
    answers = {}
    for item in instrument.items:
        values = sorted(item.options.values)
        fixed = values[0] if style == "floor" else values[-1]
        answers[item.number] = draw(st.sampled_from(values)) if style == "random" else fixed
    for number in draw(st.sets(st.sampled_from(instrument.item_numbers), max_size=4)):
        options = instrument.item(number).options
        bad = [None, None, options.low - 1, options.high + 1, 99, *NOT_WHOLE]
        answers[number] = draw(st.sampled_from([*sorted(options.values), *bad]))
    return answers


def _frame(instrument: Instrument, rows: list[dict[int, Any]]) -> pd.DataFrame:
    columns = {f"q{n}": [row[n] for row in rows] for n in instrument.item_numbers}
    return pd.DataFrame(columns, dtype=object)


def _value(cell: Any) -> Any:
    return None if pd.isna(cell) else cell


def assert_row_matches_single_scorer(instrument: Instrument, answers: dict, row: pd.Series) -> None:
    assert row["error"] == " ".join(validate_answers(instrument, answers))
    try:
        expected = score(instrument, answers)
    except AnswerError:
        assert row["error"]
        assert pd.isna(row["total"])
        assert pd.isna(row["band"])
        assert pd.isna(row["complete"])
        return
    assert _value(row["total"]) == expected.total
    for code, value in expected.subscales.items():
        assert _value(row[code]) == value, code
    assert _value(row["band"]) == (expected.band.code if expected.band else None)
    for sub in instrument.subscales:
        if sub.bands:
            band = expected.subscale_bands.get(sub.code)
            assert _value(row[f"{sub.code}_band"]) == (band.code if band else None)
    assert row["flags"] == ";".join(sorted(expected.flags))
    assert bool(row["safety"]) == ("safety" in expected.flags)
    assert row["safety_items"] == ";".join(map(str, expected.safety_items))
    assert bool(row["complete"]) == expected.complete


@pytest.mark.parametrize("code", list_instruments())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_score_frame_equals_score_on_every_row(code: str, data: st.DataObject) -> None:
    instrument = load_instrument(code)
    rows = data.draw(st.lists(responses(instrument), min_size=1, max_size=6))
    scored = score_frame(instrument, _frame(instrument, rows))
    for position, answers in enumerate(rows):
        assert_row_matches_single_scorer(instrument, answers, scored.iloc[position])


def test_score_frame_accepts_item_numbers_as_column_names_and_keeps_the_index() -> None:
    phq2 = load_instrument("phq2")
    frame = pd.DataFrame({1: [3, 0], 2: [1, 0]}, index=["s1", "s2"])
    scored = score_frame(phq2, frame)
    assert list(scored.index) == ["s1", "s2"]
    assert scored["total"].tolist() == [4, 0]
    assert scored["band"].tolist() == ["positive", "negative"]
    assert scored["flags"].tolist() == ["phq2_positive", ""]


def test_score_frame_ignores_columns_that_are_not_items() -> None:
    frame = pd.DataFrame({"student_no": ["a"], "q1": [1], "q2": [2], "note": ["x"]})
    assert score_frame(load_instrument("gad2"), frame)["total"].tolist() == [3]


@pytest.mark.parametrize(
    "columns", [["q1"], ["q1", "q2", "q3"], ["q2", "q1"], ["q1", "q3"], ["student_no"]]
)
def test_score_frame_refuses_missing_extra_or_shuffled_item_columns(columns: list[str]) -> None:
    frame = pd.DataFrame({c: [0] for c in columns})
    with pytest.raises(AnswerError, match="GAD-2 needs one column per item in order, q1 to q2"):
        score_frame(load_instrument("gad2"), frame)


def test_score_frame_asks_asq_question_5_only_after_a_positive_answer() -> None:
    frame = pd.DataFrame({"q1": [0, 1], "q2": [0, 0], "q3": [0, 0], "q4": [0, 0], "q5": [None] * 2})
    scored = score_frame(load_instrument("asq"), frame)
    assert scored["complete"].tolist() == [True, False]
    assert scored["band"].tolist() == ["negative", pd.NA]
    assert scored["flags"].tolist() == ["", "asq_positive;safety"]
    assert scored["error"].tolist() == ["", "Please answer item 5."]


def test_score_frame_reads_text_cells_from_a_csv() -> None:
    frame = pd.DataFrame({"q1": [" 2 ", "", "abc"], "q2": ["1", "1", "1"]}, dtype=str)
    scored = score_frame(load_instrument("gad2"), frame)
    assert _value(scored["total"].iloc[0]) == 3
    assert scored["error"].tolist() == [
        "",
        "Please answer item 1.",
        "Item 1: 'abc' is not a whole number.",
    ]


def test_score_frame_reports_every_problem_of_a_row() -> None:
    frame = pd.DataFrame({f"q{n}": [0] for n in range(1, 11)}, dtype=object)
    frame["q2"], frame["q5"], frame["q7"] = 4, None, 1.5
    (error,) = score_frame(load_instrument("phq9"), frame)["error"]
    assert error == (
        "Item 2: 4 is not one of the allowed answers (0, 1, 2, 3). Please answer item 5. "
        "Item 7: 1.5 is not a whole number."
    )


def test_score_frame_column_types_suit_storage_and_export() -> None:
    scored = score_frame(load_instrument("scl90"), pd.DataFrame({n: [1, 2] for n in range(1, 91)}))
    assert str(scored["total"].dtype) == "Int64"
    assert str(scored["somatization"].dtype) == "Float64"
    assert str(scored["positive_items"].dtype) == "Int64"
    assert str(scored["safety"].dtype) == "boolean"
    assert scored["band"].tolist() == ["negative", "positive"]
    assert scored["safety_items"].tolist() == ["", "15"]
