"""The engine's contract: answer validation, definition files, caching and licensed text."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

import screening.instruments as library
from screening.scoring import AnswerError
from screening.scoring import DefinitionError
from screening.scoring import UnknownInstrument
from screening.scoring import answer_problems
from screening.scoring import list_instruments
from screening.scoring import load_instrument
from screening.scoring import load_licensed_text
from screening.scoring import score
from screening.scoring import validate_answers

DATA = Path(__file__).parent / "data"
SHIPPED = {
    "asq",
    "dass21",
    "gad2",
    "gad7",
    "k10",
    "k6",
    "literacy",
    "mhls",
    "phq2",
    "phq9",
    "scl90",
    "upi",
}
ALL_ZERO_PHQ9 = {n: 0 for n in range(1, 10)}


# --- answers --------------------------------------------------------------------------------------


def test_out_of_range_answer_is_rejected_naming_the_item() -> None:
    with pytest.raises(
        AnswerError, match=r"Item 3: 4 is not one of the allowed answers \(0, 1, 2, 3\)"
    ):
        score("phq9", ALL_ZERO_PHQ9 | {3: 4})


def test_answer_error_is_a_value_error_carrying_the_item_number() -> None:
    with pytest.raises(AnswerError) as caught:
        score("phq9", ALL_ZERO_PHQ9 | {7: -1})
    assert caught.value.item == 7


@pytest.mark.parametrize("value", [1.5, "2", True, [1]])
def test_answers_that_are_not_whole_numbers_are_rejected(value: object) -> None:
    with pytest.raises(AnswerError, match="Item 2: .* is not a whole number"):
        score("phq9", ALL_ZERO_PHQ9 | {2: value})


def test_whole_float_answers_from_spreadsheets_are_accepted() -> None:
    assert score("phq9", ALL_ZERO_PHQ9 | {1: 2.0}).total == 2


def test_numpy_integers_are_accepted_as_items_and_answers() -> None:
    assert score("phq2", {np.int64(1): np.int64(3), np.int64(2): np.int8(0)}).total == 3


def test_an_answer_to_an_item_the_instrument_lacks_is_a_wrong_count() -> None:
    with pytest.raises(AnswerError, match=r"PHQ-9 has no item 11 \(its items are 1 to 10\)"):
        score("phq9", ALL_ZERO_PHQ9 | {11: 0})


def test_unanswered_items_make_an_incomplete_result_not_an_error() -> None:
    result = score("gad7", {1: 3, 2: None})
    assert not result.complete
    assert result.total is None
    assert result.missing_items == (2, 3, 4, 5, 6, 7)


def test_validate_answers_names_every_missing_item_for_the_form() -> None:
    messages = validate_answers("gad7", {1: 0, 2: 1, 3: None, 5: 2, 6: 0, 7: 0})
    assert messages == ["Please answer item 3.", "Please answer item 4."]


def test_validate_answers_speaks_chinese_for_a_chinese_form() -> None:
    assert validate_answers("gad2", {1: 0}, locale="zh_CN") == ["请回答第 2 题。"]


def test_validate_answers_lists_bad_values_and_gaps_in_item_order() -> None:
    messages = validate_answers("phq2", {2: 9, 3: 0})
    assert messages == [
        "PHQ-2 has no item 3 (its items are 1 to 2).",
        "Please answer item 1.",
        "Item 2: 9 is not one of the allowed answers (0, 1, 2, 3).",
    ]


def test_each_problem_names_its_item_so_a_form_can_mark_it() -> None:
    problems = answer_problems("phq2", {2: 9, 3: 0})
    assert [(p.item, p.missing) for p in problems] == [(None, False), (1, True), (2, False)]
    assert [p.message for p in problems] == validate_answers("phq2", {2: 9, 3: 0})


def test_validate_answers_does_not_ask_for_optional_items() -> None:
    assert validate_answers("phq9", ALL_ZERO_PHQ9) == []


def test_validate_answers_asks_asq_question_5_only_after_a_positive_answer() -> None:
    assert validate_answers("asq", {1: 0, 2: 0, 3: 0, 4: 0}) == []
    assert validate_answers("asq", {1: 0, 2: 2, 3: 0, 4: 0}) == ["Please answer item 5."]


def test_result_is_json_serialisable_with_both_languages() -> None:
    shown = json.loads(json.dumps(score("phq9", ALL_ZERO_PHQ9 | {9: 1}).to_dict()))
    assert shown["band"] == {
        "code": "minimal",
        "zh_CN": "无或极轻微抑郁",
        "en": "Minimal depression",
    }
    assert shown["flags"] == ["phq9_item9", "safety"]
    assert shown["safety_items"] == [9]


def test_band_label_falls_back_to_english_for_other_locales() -> None:
    band = score("phq9", ALL_ZERO_PHQ9).band
    assert band.label.get("zh-CN") == "无或极轻微抑郁"
    assert band.label.get("fr") == "Minimal depression"


# --- the library ----------------------------------------------------------------------------------


def test_every_shipped_instrument_is_listed_and_loads() -> None:
    assert set(list_instruments()) == SHIPPED
    for code in SHIPPED:
        instrument = load_instrument(code)
        assert instrument.code == code
        assert instrument.version


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_every_definition_file_cites_its_source(code: str) -> None:
    raw = yaml.safe_load((library.DEFINITIONS_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    assert raw["source"]["citation"].strip()
    assert raw["missing"]["source"].strip()


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_every_reachable_score_falls_in_exactly_one_band(code: str) -> None:
    instrument = load_instrument(code)
    scored = [(instrument.total, instrument.bands)]
    scored += [(s.rule, s.bands) for s in instrument.subscales]
    for rule, bands in scored:
        ranged = [b for b in bands if b.value is not None]
        if not ranged or rule.name not in {"sum", "sum_times_2"}:
            continue
        factor = 2 if rule.name == "sum_times_2" else 1
        low = sum(instrument.item(n).options.low for n in rule.items) * factor
        high = sum(instrument.item(n).options.high for n in rule.items) * factor
        for value in range(low, high + 1, factor):
            assert sum(b.value.contains(value) for b in ranged) == 1, (code, value)


def test_licensed_instruments_ship_no_item_text() -> None:
    for code in ("upi", "scl90"):
        raw = yaml.safe_load((library.DEFINITIONS_DIR / f"{code}.yaml").read_text("utf-8"))
        assert raw["licensed"] is True
        assert all("text" not in item for item in raw["items"])
        assert "licensed text not loaded" in load_instrument(code).item(1).text.en


def test_free_instruments_carry_text_in_both_languages() -> None:
    for code in SHIPPED - {"upi", "scl90"}:
        for item in load_instrument(code).items:
            assert item.text.zh_CN, (code, item.number)
            assert item.text.en, (code, item.number)


def test_instruments_are_cached_and_frozen() -> None:
    phq9 = load_instrument("phq9")
    assert load_instrument("phq9") is phq9
    with pytest.raises(AttributeError):
        phq9.version = "2"  # type: ignore[misc]


@pytest.mark.parametrize("code", ["nope", "../phq9", "PHQ9", ""])
def test_unknown_or_unsafe_codes_are_refused(code: str) -> None:
    with pytest.raises(UnknownInstrument, match="known instruments: asq"):
        load_instrument(code)


def _library_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    monkeypatch.setattr(library, "DEFINITIONS_DIR", tmp_path)
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_a_new_instrument_needs_only_a_definition_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (library.DEFINITIONS_DIR / "gad2.yaml").read_text("utf-8")
    text = text.replace("code: gad2", "code: worry_demo").replace("gad2_positive", "worry_flag")
    _library_in(tmp_path, monkeypatch, "worry_demo", text)
    assert list_instruments() == ("worry_demo",)
    result = score("worry_demo", {1: 2, 2: 1})
    assert (result.band.code, result.flags) == ("positive", {"worry_flag"})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("reverse: true", "reversed: true"), "unknown keys \\['reversed'\\]"),
        (("{code: mild, min: 5,", "{code: mild, min: 4,"), "bands 'minimal' and 'mild' overlap"),
        (("options: likely\n", "options: likley\n"), "options must name one of"),
        (("total: sum", "total: median"), "unknown rule 'median'"),
    ],
)
def test_a_mistyped_definition_is_refused_with_the_file_and_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], problem: str
) -> None:
    source = "mhls" if "likely" in change[0] or "reverse" in change[0] else "phq9"
    text = (library.DEFINITIONS_DIR / f"{source}.yaml").read_text("utf-8")
    assert change[0] in text
    _library_in(tmp_path, monkeypatch, source, text.replace(change[0], change[1], 1))
    with pytest.raises(DefinitionError, match=f"{source}.yaml: .*{problem}"):
        load_instrument(source)


def test_a_flag_may_only_refer_to_an_earlier_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (library.DEFINITIONS_DIR / "asq.yaml").read_text("utf-8")
    text = text.replace("- {flag: asq_acute}", "- {flag: asq_later}")
    _library_in(tmp_path, monkeypatch, "asq", text)
    with pytest.raises(DefinitionError, match="flag 'asq_later' is not defined earlier"):
        load_instrument("asq")


# --- licensed text --------------------------------------------------------------------------------


def test_licensed_text_loaded_by_an_institution_replaces_the_placeholders(tmp_path: Path) -> None:
    written = load_licensed_text("upi", DATA / "upi_licensed_text_fake.csv", tmp_path)
    assert written == tmp_path / "upi.yaml"
    upi = load_instrument("upi", override_dir=tmp_path)
    assert upi.item(12).text.zh_CN == "测试用虚构题目 12"
    assert upi.item(60).text.en == "Fictitious test item 60"
    assert load_instrument("upi").item(12).text.en == "UPI item 12 (licensed text not loaded)"


def test_licensed_text_does_not_change_scoring(tmp_path: Path) -> None:
    load_licensed_text("upi", DATA / "upi_licensed_text_fake.csv", tmp_path)
    answers = {n: n % 2 for n in range(1, 61)}
    with_text = score(load_instrument("upi", override_dir=tmp_path), answers)
    assert with_text == score("upi", answers)


def test_an_override_directory_without_a_file_gives_the_placeholders(tmp_path: Path) -> None:
    assert "not loaded" in load_instrument("scl90", override_dir=tmp_path).item(1).text.en


def test_licensed_text_may_come_as_yaml_or_as_excel_csv_with_bom(tmp_path: Path) -> None:
    rows = [{"number": n, "zh_CN": f"题 {n}", "en": f"Item {n}"} for n in range(1, 91)]
    yaml_file = tmp_path / "scl90.yml"
    yaml_file.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    load_licensed_text("scl90", yaml_file, tmp_path / "a")
    assert load_instrument("scl90", tmp_path / "a").item(90).text.zh_CN == "题 90"
    bom_csv = tmp_path / "upi.csv"
    bom_csv.write_text(
        (DATA / "upi_licensed_text_fake.csv").read_text("utf-8"), encoding="utf-8-sig"
    )
    load_licensed_text("upi", bom_csv, tmp_path / "b")
    assert load_instrument("upi", tmp_path / "b").item(1).text.en == "Fictitious test item 1"


def _broken_copy(tmp_path: Path) -> Path:
    lines = (DATA / "upi_licensed_text_fake.csv").read_text("utf-8").splitlines()
    lines = [line for line in lines if not line.startswith(("7,", "8,"))]
    lines += ["61,多余,Extra", "3,重复,Duplicate", "9,,"]
    lines = [line for line in lines if not line.startswith("9,测试")]
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return broken


def test_licensed_text_file_with_gaps_extras_and_duplicates_is_refused_whole(
    tmp_path: Path,
) -> None:
    target = tmp_path / "instruments"
    with pytest.raises(DefinitionError) as caught:
        load_licensed_text("upi", _broken_copy(tmp_path), target)
    message = str(caught.value)
    assert re.search(r"line \d+: UPI has no item 61", message)
    assert "item 3 appears more than once" in message
    assert "item 9 needs both zh_CN and en text" in message
    assert "missing items: 7, 8" in message
    assert not (target / "upi.yaml").exists()


def test_licensed_text_is_only_for_licensed_instruments(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="phq9 is not a licensed instrument"):
        load_licensed_text("phq9", DATA / "upi_licensed_text_fake.csv", tmp_path)


def test_a_tampered_override_file_is_refused_at_load(tmp_path: Path) -> None:
    load_licensed_text("upi", DATA / "upi_licensed_text_fake.csv", tmp_path)
    override = tmp_path / "upi.yaml"
    document = yaml.safe_load(override.read_text("utf-8"))
    document["items"] = document["items"][:-1]
    override.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="missing items: 60"):
        load_instrument("upi", override_dir=tmp_path)


def test_reloading_licensed_text_is_seen_without_a_restart(tmp_path: Path) -> None:
    load_licensed_text("upi", DATA / "upi_licensed_text_fake.csv", tmp_path)
    assert load_instrument("upi", tmp_path).item(1).text.en == "Fictitious test item 1"
    edited = tmp_path / "edited.csv"
    shutil.copy(DATA / "upi_licensed_text_fake.csv", edited)
    edited.write_text(edited.read_text("utf-8").replace("item 1\n", "item one\n"), "utf-8")
    load_licensed_text("upi", edited, tmp_path)
    assert load_instrument("upi", tmp_path).item(1).text.en == "Fictitious test item one"
