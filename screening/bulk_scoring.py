"""Scoring many responses at once (paper-screening imports, re-scoring a cohort) with numpy.

It reads the same definitions as ``screening.scoring`` and must agree with it row for row; a
property test holds the two to that. Arithmetic is column-wise over the whole frame; only the
messages for bad cells are formatted one by one, reusing the single-response wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import pandas as pd

from screening.instruments import AllOf
from screening.instruments import AnyOf
from screening.instruments import Band
from screening.instruments import Condition
from screening.instruments import FlagRaised
from screening.instruments import Instrument
from screening.instruments import ItemCount
from screening.instruments import Range
from screening.instruments import Rule
from screening.instruments import SubscaleCount
from screening.instruments import TotalIn
from screening.scoring import SAFETY
from screening.scoring import AnswerError
from screening.scoring import missing_message
from screening.scoring import value_problem

_ITEM_COLUMN = re.compile(r"^q?(\d+)$", re.IGNORECASE)


def item_columns(instrument: Instrument, df: pd.DataFrame) -> list[Any]:
    """The frame's item columns (``q1..qN`` or ``1..N``) in definition order; others are ignored.

    Raises ``AnswerError`` unless there is exactly one column per item, in order, because a
    shifted or missing column would silently score every row against the wrong items.
    """
    found = [(c, int(m.group(1))) for c in df.columns if (m := _ITEM_COLUMN.match(str(c).strip()))]
    numbers = [n for _, n in found]
    if numbers != list(instrument.item_numbers):
        count = len(instrument.items)
        seen = ", ".join(str(c) for c, _ in found) or "none"
        raise AnswerError(
            f"{instrument.abbreviation} needs one column per item in order, q1 to q{count} "
            f"(or 1 to {count}); found item columns: {seen}"
        )
    return [c for c, _ in found]


def score_frame(instrument: Instrument, df: pd.DataFrame) -> pd.DataFrame:
    """Score every row of ``df`` (one column per item) as ``screening.scoring.score`` would.

    Returns, on ``df``'s index: ``total``; one column per subscale; ``band`` and
    ``<subscale>_band`` codes; ``flags`` (sorted, ``;``-joined); ``safety``; ``safety_items``
    (``;``-joined); ``complete``; and ``error``: the row's validation messages (space-joined, empty
    when none), the same messages ``validate_answers`` gives. Rows with a value no respondent could
    give (not a whole number, not an option) get no scores, as ``score`` would raise for them; rows
    that only miss answers are scored and still list "Please answer item N" in ``error``.
    """
    cells = _Cells.parse(instrument, df[item_columns(instrument, df)])
    state = _FrameState(cells.values)
    state.total = _apply(instrument, instrument.total, cells.values)
    state.subscales = {
        s.code: _apply(instrument, s.rule, cells.values) for s in instrument.subscales
    }
    _raise_flags(instrument, state)
    missing = cells.missing & _required(instrument, cells.values)
    complete = ~missing.any(axis=1)
    band = _bands(instrument.bands, state.total, state, complete)
    subscale_bands = {
        s.code: _bands(s.bands, state.subscales[s.code], state, complete)
        for s in instrument.subscales
    }
    _raise_band_flags(instrument.bands, band, state)
    for sub in instrument.subscales:
        _raise_band_flags(sub.bands, subscale_bands[sub.code], state)
    return _assemble(instrument, df.index, state, band, subscale_bands, complete, cells, missing)


@dataclass
class _Cells:
    """Parsed item cells: option values (NaN if unanswered or invalid) and per-cell status."""

    values: np.ndarray
    missing: np.ndarray
    invalid: np.ndarray
    messages: np.ndarray

    @classmethod
    def parse(cls, instrument: Instrument, items: pd.DataFrame) -> _Cells:
        text = items.astype("string").apply(lambda column: column.str.strip())
        missing = (text.isna() | text.eq("")).to_numpy(dtype=bool)
        numbers = text.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.floor(numbers))
        allowed = (
            np.column_stack(
                [
                    np.isin(numbers[:, j], sorted(item.options.values))
                    for j, item in enumerate(instrument.items)
                ]
            )
            & whole
        )
        invalid = ~missing & ~allowed
        messages = np.full(invalid.shape, "", dtype=object)
        for row, col in zip(*np.nonzero(invalid), strict=True):
            raw = numbers[row, col] if np.isfinite(numbers[row, col]) else text.iat[row, col]
            messages[row, col] = value_problem(instrument.items[col], raw)
        return cls(np.where(allowed, numbers, np.nan), missing, invalid, messages)


@dataclass
class _FrameState:
    """Column-wise counterpart of the single-response state; items masks are rows x items."""

    values: np.ndarray
    total: np.ndarray | None = None
    subscales: dict[str, np.ndarray] = field(default_factory=dict)
    flags: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _in(values: np.ndarray, bounds: Range) -> np.ndarray:
    """Elementwise ``Range.contains``; NaN (no score) is never inside."""
    inside = ~np.isnan(values)
    if bounds.min is not None:
        inside &= values >= bounds.min
    if bounds.max is not None:
        inside &= values <= bounds.max
    return inside


def _apply(instrument: Instrument, rule: Rule, values: np.ndarray) -> np.ndarray:
    """One score per row; NaN where any of the rule's items is unanswered (all_required)."""
    rows = values.shape[0]
    if rule.name == "none":
        return np.full(rows, np.nan)
    columns = [n - 1 for n in rule.items]
    chosen = values[:, columns]
    if rule.name == "count":
        assert rule.counted is not None  # the parser gives the count rule, and only it, `counted`
        result = _in(chosen, rule.counted).sum(axis=1).astype(float)
    elif rule.name == "correct_count":
        key = np.array([instrument.item(n).correct for n in rule.items], dtype=float)
        result = (chosen == key).sum(axis=1).astype(float)
    else:
        result = _keyed(instrument, rule.items, chosen).sum(axis=1)
        if rule.name == "mean":
            result = result / len(rule.items)
        elif rule.name == "sum_times_2":
            result = result * 2
    return np.where(np.isnan(chosen).any(axis=1), np.nan, result)


def _keyed(instrument: Instrument, numbers: tuple[int, ...], chosen: np.ndarray) -> np.ndarray:
    items = [instrument.item(n) for n in numbers]
    reverse = np.array([i.reverse for i in items])
    pivot = np.array([i.options.low + i.options.high for i in items], dtype=float)
    return np.where(reverse, pivot - chosen, chosen)


def _holds(condition: Condition, state: _FrameState) -> tuple[np.ndarray, np.ndarray]:
    """Rows where ``condition`` holds, and (rows x items) the answers that made it hold."""
    rows, width = state.values.shape
    no_items = np.zeros((rows, width), dtype=bool)
    match condition:
        case ItemCount(items, value, count):
            hits = no_items.copy()
            hits[:, [n - 1 for n in items]] = _in(state.values[:, [n - 1 for n in items]], value)
            held = _in(hits.sum(axis=1).astype(float), count)
            return held, hits & held[:, None]
        case TotalIn(value):
            assert state.total is not None  # `score_frame` scores the total before any condition
            return _in(state.total, value), no_items
        case SubscaleCount(codes, value, count):
            in_range = np.sum([_in(state.subscales[code], value) for code in codes], axis=0)
            return _in(np.asarray(in_range, dtype=float), count), no_items
        case FlagRaised(name):
            return state.flags[name]
        case AnyOf(parts) | AllOf(parts):
            results = [_holds(part, state) for part in parts]
            combine = np.logical_or if isinstance(condition, AnyOf) else np.logical_and
            held = combine.reduce([h for h, _ in results])
            items = np.logical_or.reduce([i & h[:, None] for h, i in results])
            return held, items & held[:, None]
    raise TypeError(f"unknown condition {condition!r}")


def _raise_flags(instrument: Instrument, state: _FrameState) -> None:
    rows, width = state.values.shape
    for rule in instrument.flags:
        state.flags[rule.name] = _holds(rule.when, state)
    safety = [state.flags[r.name] for r in instrument.flags if r.safety]
    held = np.logical_or.reduce([h for h, _ in safety]) if safety else np.zeros(rows, dtype=bool)
    items = (
        np.logical_or.reduce([i for _, i in safety]) if safety else np.zeros((rows, width), bool)
    )
    state.flags[SAFETY] = (held, items)


def _required(instrument: Instrument, values: np.ndarray) -> np.ndarray:
    """Rows x items: which items each row had to answer (conditional items only when asked)."""
    asked = _FrameState(values)
    columns = []
    for item in instrument.items:
        if not item.required:
            columns.append(np.zeros(values.shape[0], dtype=bool))
        elif item.asked_if is None:
            columns.append(np.ones(values.shape[0], dtype=bool))
        else:
            columns.append(_holds(item.asked_if, asked)[0])
    return np.column_stack(columns)


def _bands(
    bands: tuple[Band, ...], score: np.ndarray, state: _FrameState, complete: np.ndarray
) -> np.ndarray:
    """Index of each row's band (-1 for none), first match wins as in the single scorer."""
    chosen = np.full(state.values.shape[0], -1)
    for index, band in enumerate(bands):
        if band.value is not None:
            matches = _in(score, band.value)
        elif band.when is None:
            matches = complete
        else:
            matches = complete & _holds(band.when, state)[0]
        chosen = np.where((chosen == -1) & matches, index, chosen)
    return chosen


def _raise_band_flags(bands: tuple[Band, ...], chosen: np.ndarray, state: _FrameState) -> None:
    for index, band in enumerate(bands):
        if not band.flags:
            continue
        held = chosen == index
        if band.when is not None:
            items = _holds(band.when, state)[1] & held[:, None]
        else:
            items = np.zeros(state.values.shape, dtype=bool)
        for name in band.flags:
            state.flags[name] = (held, items)


def _assemble(
    instrument: Instrument,
    index: pd.Index,
    state: _FrameState,
    band: np.ndarray,
    subscale_bands: dict[str, np.ndarray],
    complete: np.ndarray,
    cells: _Cells,
    missing: np.ndarray,
) -> pd.DataFrame:
    scored = np.asarray(~cells.invalid.any(axis=1))
    assert state.total is not None  # `score_frame` scores the total first
    out = pd.DataFrame(index=index)
    out["total"] = _score_column(instrument.total, state.total, scored, index)
    for sub in instrument.subscales:
        out[sub.code] = _score_column(sub.rule, state.subscales[sub.code], scored, index)
    out["band"] = _band_column(instrument.bands, band, scored, index)
    for sub in instrument.subscales:
        if sub.bands:
            out[f"{sub.code}_band"] = _band_column(
                sub.bands, subscale_bands[sub.code], scored, index
            )
    flags = [(name, state.flags[name][0]) for name in sorted(state.flags)]
    out["flags"] = _text_column(_joined(flags, ";"), scored, index)
    out["safety"] = pd.Series(state.flags[SAFETY][0], index=index, dtype="boolean").where(scored)
    safety_items = state.flags[SAFETY][1]
    numbers = [(str(n), safety_items[:, n - 1]) for n in instrument.item_numbers]
    out["safety_items"] = _text_column(_joined(numbers, ";"), scored, index)
    out["complete"] = pd.Series(complete, index=index, dtype="boolean").where(scored)
    problems = np.where(missing, _missing_messages(instrument, missing.shape[0]), cells.messages)
    out["error"] = pd.Series(_joined_messages(problems), index=index, dtype="string")
    return out


def _score_column(rule: Rule, values: np.ndarray, scored: np.ndarray, index: pd.Index) -> pd.Series:
    dtype = "Float64" if rule.name == "mean" else "Int64"
    series = pd.Series(np.where(scored, values, np.nan), index=index, dtype="float")
    return series.astype(dtype)


def _band_column(
    bands: tuple[Band, ...], chosen: np.ndarray, scored: np.ndarray, index: pd.Index
) -> pd.Series:
    codes = np.array([b.code for b in bands] + [None], dtype=object)
    return pd.Series(codes[np.where(scored, chosen, -1)], index=index, dtype="string")


def _text_column(values: np.ndarray, scored: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype="string").where(scored)


def _joined(parts: list[tuple[str, np.ndarray]], separator: str) -> np.ndarray:
    """Per row, the names whose mask is true, joined in the given order."""
    rows = parts[0][1].shape[0] if parts else 0
    joined = np.full(rows, "", dtype=object)
    for name, mask in parts:
        with_name = np.where(joined == "", name, joined + separator + name)
        joined = np.where(mask, with_name, joined)
    return joined


def _missing_messages(instrument: Instrument, rows: int) -> np.ndarray:
    row = np.array([missing_message(n) for n in instrument.item_numbers], dtype=object)
    return np.broadcast_to(row, (rows, len(row)))


def _joined_messages(problems: np.ndarray) -> np.ndarray:
    joined = np.full(problems.shape[0], "", dtype=object)
    for column in problems.T:
        present = column != ""
        joined = np.where(present & (joined != ""), joined + " " + column, joined)
        joined = np.where(present & (joined == ""), column, joined)
    return joined
