"""Scoring one response to an instrument, exactly as its definition file says.

This engine knows a closed set of scoring rules and a small condition language, never a particular
questionnaire: cut-offs, reverse keys, safety items and classification rules all come from
``screening/instruments/<code>.yaml``. Safety flags are evaluated on whatever was answered, so a
suicide item answered on an unfinished form still raises ``safety``; totals and bands, by contrast,
follow the instrument's missing-item rule and are withheld rather than guessed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType
from typing import Any

from screening.instruments import AllOf
from screening.instruments import AnyOf
from screening.instruments import Band
from screening.instruments import Condition
from screening.instruments import DefinitionError
from screening.instruments import FlagRaised
from screening.instruments import Instrument
from screening.instruments import Item
from screening.instruments import ItemCount
from screening.instruments import Rule
from screening.instruments import SubscaleCount
from screening.instruments import TotalIn
from screening.instruments import UnknownInstrument
from screening.instruments import list_instruments
from screening.instruments import load_instrument
from screening.instruments import load_licensed_text

__all__ = [
    "SAFETY",
    "AnswerError",
    "AnswerProblem",
    "DefinitionError",
    "Instrument",
    "ScoreResult",
    "UnknownInstrument",
    "answer_problems",
    "answer_value",
    "list_instruments",
    "load_instrument",
    "load_licensed_text",
    "missing_message",
    "score",
    "shown_value",
    "validate_answers",
    "value_problem",
]

SAFETY = "safety"
Score = int | float

_MESSAGES = {
    "missing": {"en": "Please answer item {item}.", "zh_CN": "请回答第 {item} 题。"},
    "not_whole": {
        "en": "Item {item}: {value} is not a whole number.",
        "zh_CN": "第 {item} 题：{value} 不是整数。",
    },
    "not_allowed": {
        "en": "Item {item}: {value} is not one of the allowed answers ({allowed}).",
        "zh_CN": "第 {item} 题：{value} 不是可选的答案（{allowed}）。",
    },
    "unknown": {
        "en": "{instrument} has no item {item} (its items are 1 to {count}).",
        "zh_CN": "{instrument} 没有第 {item} 题（题号为 1 至 {count}）。",
    },
}


class AnswerError(ValueError):
    """An answer that no respondent could have given; ``item`` is the offending item number."""

    def __init__(self, message: str, item: Any = None) -> None:
        super().__init__(message)
        self.item = item


@dataclass(frozen=True)
class ScoreResult:
    """The outcome of one response.

    ``total`` and subscale scores are ``None`` when the missing-item rule withholds them; bands need
    their score (range bands) or a complete response (classification bands). ``flag_items`` maps
    every raised flag to the item numbers that triggered it (empty for score-based flags).
    """

    instrument: str
    version: str
    total: Score | None
    subscales: Mapping[str, Score | None]
    band: Band | None
    subscale_bands: Mapping[str, Band]
    flags: frozenset[str]
    flag_items: Mapping[str, tuple[int, ...]]
    safety_items: tuple[int, ...]
    complete: bool
    missing_items: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view with both locales of every label."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": self.total,
            "subscales": dict(self.subscales),
            "band": _band_dict(self.band),
            "subscale_bands": {code: _band_dict(b) for code, b in self.subscale_bands.items()},
            "flags": sorted(self.flags),
            "flag_items": {name: list(items) for name, items in sorted(self.flag_items.items())},
            "safety_items": list(self.safety_items),
            "complete": self.complete,
            "missing_items": list(self.missing_items),
        }


def score(instrument: Instrument | str, answers: Mapping[int, Any]) -> ScoreResult:
    """Score ``answers`` (item number -> option value, ``None`` for unanswered).

    Raises ``AnswerError`` naming the first offending item for an unknown item number or a value
    that is not one of the item's options. Unanswered items are not errors: they make the result
    incomplete (see ``validate_answers`` for the messages a form shows).
    """
    inst = _resolve(instrument)
    given = _checked_answers(inst, answers)
    missing = _missing_required(inst, given)
    complete = not missing
    state = _State(given, _apply(inst, inst.total, given))
    state.subscales = {s.code: _apply(inst, s.rule, given) for s in inst.subscales}
    _raise_flags(inst, state)
    band = _band(inst.bands, state.total, state, complete)
    subscale_bands = {
        s.code: found
        for s in inst.subscales
        if (found := _band(s.bands, state.subscales[s.code], state, complete)) is not None
    }
    for found in (band, *subscale_bands.values()):
        _raise_band_flags(found, state)
    return ScoreResult(
        instrument=inst.code,
        version=inst.version,
        total=state.total,
        subscales=MappingProxyType(dict(state.subscales)),
        band=band,
        subscale_bands=MappingProxyType(subscale_bands),
        flags=frozenset(state.flags),
        flag_items=MappingProxyType({k: tuple(sorted(v)) for k, v in state.flags.items()}),
        safety_items=tuple(sorted(state.flags.get(SAFETY, ()))),
        complete=complete,
        missing_items=tuple(missing),
    )


def validate_answers(
    instrument: Instrument | str, answers: Mapping[Any, Any], locale: str = "en"
) -> list[str]:
    """Every problem with ``answers`` as a message a form can show, in item order; empty if none.

    Unknown items come first, then per item either "not an allowed answer" or, for a required
    item left unanswered, "Please answer item N". Items asked only conditionally (ASQ question 5)
    are required only when their condition holds.
    """
    return [problem.message for problem in answer_problems(instrument, answers, locale)]


@dataclass(frozen=True)
class AnswerProblem:
    """One problem ``validate_answers`` names: the item it is about (``None`` for a key that is
    no item of the instrument), its message, and whether the item was simply left unanswered
    (``missing``) rather than given a value no respondent could give."""

    item: int | None
    message: str
    missing: bool = False


def answer_problems(
    instrument: Instrument | str, answers: Mapping[Any, Any], locale: str = "en"
) -> list[AnswerProblem]:
    """The problems ``validate_answers`` lists, in the same order, each with its item: what a
    form needs to mark the item itself beside the list."""
    inst = _resolve(instrument)
    found = [
        AnswerProblem(None, _unknown_message(inst, key, locale))
        for key in answers
        if not _is_item(inst, key)
    ]
    problems = {
        item.number: value_problem(item, answers.get(item.number), locale) for item in inst.items
    }
    given = {
        number: value
        for number, problem in problems.items()
        if problem is None and (value := answer_value(answers.get(number))) is not None
    }
    missing = set(_missing_required(inst, given))
    for number, problem in problems.items():
        if problem is not None:
            found.append(AnswerProblem(number, problem))
        elif number in missing:
            found.append(AnswerProblem(number, missing_message(number, locale), missing=True))
    return found


def answer_value(raw: Any) -> int | None:
    """The option value ``raw`` stands for, ``None`` if unanswered; ``value_problem`` must pass.

    Whole floats are accepted (2.0 is 2) because spreadsheets and JSON produce them; NaN counts as
    unanswered for the same reason.
    """
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    return int(raw)


def value_problem(item: Item, raw: Any, locale: str = "en") -> str | None:
    """Why ``raw`` is not an acceptable answer to ``item``; ``None`` if it is or is unanswered."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    shown = shown_value(raw)
    if not _is_whole(raw):
        return _message("not_whole", locale, item=item.number, value=shown)
    if int(raw) not in item.options.values:
        allowed = ", ".join(str(v) for v in sorted(item.options.values))
        return _message("not_allowed", locale, item=item.number, value=shown, allowed=allowed)
    return None


def shown_value(raw: Any) -> str:
    """How a rejected answer is quoted back: numbers plainly (2.0 as 2), anything else quoted."""
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
        return str(round(raw)) if _is_whole(raw) else str(raw)  # whole: `round` is `int`
    return repr(raw)


def missing_message(item: int, locale: str = "en") -> str:
    """The wording for an unanswered required item, shared with the bulk scorer and the forms."""
    return _message("missing", locale, item=item)


@dataclass
class _State:
    """What conditions may look at while one response is scored."""

    answers: Mapping[int, int]
    total: Score | None
    subscales: dict[str, Score | None] = field(default_factory=dict)
    flags: dict[str, frozenset[int]] = field(default_factory=dict)


def _resolve(instrument: Instrument | str) -> Instrument:
    return instrument if isinstance(instrument, Instrument) else load_instrument(instrument)


def _is_item(inst: Instrument, key: Any) -> bool:
    whole = isinstance(key, numbers.Integral) and not isinstance(key, bool)
    return whole and 1 <= key <= len(inst.items)


def _is_whole(raw: Any) -> bool:
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        return False
    return isinstance(raw, numbers.Integral) or float(raw).is_integer()


def _message(kind: str, locale: str, **fields: Any) -> str:
    return _MESSAGES[kind]["zh_CN" if locale.lower().startswith("zh") else "en"].format(**fields)


def _unknown_message(inst: Instrument, key: Any, locale: str) -> str:
    shown = key if _is_whole(key) else repr(key)
    return _message(
        "unknown", locale, instrument=inst.abbreviation, item=shown, count=len(inst.items)
    )


def _checked_answers(inst: Instrument, answers: Mapping[Any, Any]) -> dict[int, int]:
    for key in answers:
        if not _is_item(inst, key):
            raise AnswerError(_unknown_message(inst, key, "en"), key)
    given = {}
    for number, raw in sorted(answers.items()):
        problem = value_problem(inst.item(number), raw)
        if problem:
            raise AnswerError(problem, number)
        if (value := answer_value(raw)) is not None:
            given[number] = value
    return given


def _raise_flags(inst: Instrument, state: _State) -> None:
    """Evaluate flag rules in order (later ones may test earlier flags), then add ``safety``."""
    for rule in inst.flags:
        held, items = _holds(rule.when, state)
        if held:
            state.flags[rule.name] = items
    raised = [state.flags[r.name] for r in inst.flags if r.safety and r.name in state.flags]
    if raised:
        state.flags[SAFETY] = frozenset().union(*raised)


def _raise_band_flags(band: Band | None, state: _State) -> None:
    """A classification band's flags carry the items that placed the response in it."""
    if band is None or not band.flags:
        return
    items = _holds(band.when, state)[1] if band.when is not None else frozenset()
    state.flags.update({name: items for name in band.flags})


def _missing_required(inst: Instrument, given: Mapping[int, int]) -> list[int]:
    """Required items left unanswered; a conditional item is required only when it was asked."""
    asked = _State(given, None)
    return [
        item.number
        for item in inst.items
        if item.required
        and item.number not in given
        and (item.asked_if is None or _holds(item.asked_if, asked)[0])
    ]


def _apply(inst: Instrument, rule: Rule, given: Mapping[int, int]) -> Score | None:
    """The score ``rule`` yields, or ``None`` when one of its items is unanswered (all_required)."""
    if rule.name == "none" or any(n not in given for n in rule.items):
        return None
    if rule.name == "count":
        assert rule.counted is not None  # the parser requires it of a count rule
        return sum(1 for n in rule.items if rule.counted.contains(given[n]))
    if rule.name == "correct_count":
        return sum(1 for n in rule.items if given[n] == inst.item(n).correct)
    total = sum(_keyed(inst.item(n), given[n]) for n in rule.items)
    if rule.name == "mean":
        return total / len(rule.items)
    return total * 2 if rule.name == "sum_times_2" else total


def _keyed(item: Item, value: int) -> int:
    """The value after the reverse key: lowest + highest option minus the answer."""
    return item.options.low + item.options.high - value if item.reverse else value


def _holds(condition: Condition, state: _State) -> tuple[bool, frozenset[int]]:
    """Whether ``condition`` holds, and which answered items made it hold."""
    match condition:
        case ItemCount(items, value, count):
            hits = frozenset(
                n for n in items if n in state.answers and value.contains(state.answers[n])
            )
            return (True, hits) if count.contains(len(hits)) else (False, frozenset())
        case TotalIn(value):
            return state.total is not None and value.contains(state.total), frozenset()
        case SubscaleCount(codes, value, count):
            scores = (state.subscales.get(code) for code in codes)
            within = sum(1 for s in scores if s is not None and value.contains(s))
            return count.contains(within), frozenset()
        case FlagRaised(name):
            return name in state.flags, state.flags.get(name, frozenset())
        case AnyOf(parts):
            results = [_holds(part, state) for part in parts]
            held = [items for ok, items in results if ok]
            return bool(held), frozenset().union(*held)
        case AllOf(parts):
            results = [_holds(part, state) for part in parts]
            if all(ok for ok, _ in results):
                return True, frozenset().union(*(items for _, items in results))
            return False, frozenset()
    raise TypeError(f"unknown condition {condition!r}")


def _band(
    bands: tuple[Band, ...], value: Score | None, state: _State, complete: bool
) -> Band | None:
    """The first band that applies: ranges need their score, classifications a full response."""
    for band in bands:
        if band.value is not None:
            if value is not None and band.value.contains(value):
                return band
        elif not complete:
            return None
        elif band.when is None or _holds(band.when, state)[0]:
            return band
    return None


def _band_dict(band: Band | None) -> dict[str, str] | None:
    if band is None:
        return None
    return {"code": band.code, "zh_CN": band.label.zh_CN, "en": band.label.en}
