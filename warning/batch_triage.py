"""Re-triage every student at once with array operations, for policy changes and simulations.

It gives the same level, key-group raise and deciding signals as ``policy.triage`` for every
student, but evaluates each policy rule as one boolean mask over all signal rows: text columns are
factorised, so a rule's flag/source/instrument tests run once per *distinct* value and are then
broadcast by code. Per-student results come from ``ufunc.at`` reductions over integer student codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import numpy as np
import pandas as pd

from warning.policy import ConcernRule
from warning.policy import Condition
from warning.policy import Level
from warning.policy import Policy

REQUIRED_COLUMNS = (
    "student_id",
    "signal_id",
    "source",
    "observed_at",
    "instrument",
    "total",
    "flags",
    "explicit_level",
)
_LEVEL_CODES = [level.code for level in Level]
_DAY_NS = 86_400 * 10**9
_NOT_CLOSED = np.iinfo(np.int64).min  # the int64 view of NaT: earlier than any observation


_Value = TypeVar("_Value", bound=Hashable)


@dataclass(frozen=True)
class _Factor(Generic[_Value]):
    """A text column as integer codes into its distinct values (-1 for missing)."""

    codes: np.ndarray
    uniques: tuple[_Value, ...]

    @classmethod
    def of(cls, column: pd.Series, parse: Callable[[str], _Value]) -> _Factor[_Value]:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        return cls(codes, tuple(parse(u) for u in uniques))

    def mask(self, predicate: Callable[[_Value], bool]) -> np.ndarray:
        """Rows whose value satisfies ``predicate``, asking it once per distinct value."""
        hits = np.fromiter((predicate(u) for u in self.uniques), bool, len(self.uniques))
        return np.append(hits, False)[self.codes]  # code -1 (missing) picks the final False


@dataclass(frozen=True)
class _Signals:
    """The signal rows as arrays, with each row's student as a code into ``students``."""

    students: pd.Index
    student: np.ndarray
    signal_id: np.ndarray
    source: _Factor[str]
    instrument: _Factor[str]
    flags: _Factor[frozenset[str]]
    total: np.ndarray
    explicit: np.ndarray
    observed: np.ndarray  # int64 nanoseconds
    closed: np.ndarray  # int64 nanoseconds of the student's last closure, per row

    @property
    def n_students(self) -> int:
        return len(self.students)


def triage_frame(
    policy: Policy,
    signals: pd.DataFrame,
    now: datetime,
    closed_before: pd.Series | None = None,
) -> pd.DataFrame:
    """Each student's triage at ``now``, indexed by student_id.

    ``signals`` has REQUIRED_COLUMNS (flags ";"-joined; explicit_level a Level value, a level code
    or empty). ``closed_before`` maps student_id to the last closure time (missing/NaT = never).
    Columns: level (int), level_code, deciding_signal_ids (";"-joined, ascending) and
    raised_by_key_group.
    """
    rows = _signals(signals, closed_before)
    now_ns = pd.Timestamp(now).value
    level = _implied_levels(policy, rows)
    unresolved = rows.observed > rows.closed
    live = unresolved & _is_live(policy, level, rows.observed, now_ns)
    direct = _student_max(rows, np.where(live, level, 0))

    findings = [
        _concern_finding(policy, rule, rows, unresolved, now_ns) for rule in policy.aggregate_rules
    ]
    aggregate = np.zeros(rows.n_students, np.int8)
    for rule, (active, _) in zip(policy.aggregate_rules, findings, strict=True):
        aggregate = np.maximum(aggregate, np.where(active, rule.level, 0))

    key_group = live & _condition_mask(policy.key_group_when, rows)
    screening = live & rows.source.mask(lambda s: s in policy.raise_sources)
    screening_level = _student_max(rows, np.where(screening, level, 0))
    has_key_group = _student_max(rows, key_group.astype(np.int8)) > 0
    raised = np.where(
        has_key_group & (screening_level > 0),
        np.minimum(screening_level + policy.key_group_raise, Level.RED),
        0,
    )
    base = np.maximum(direct, aggregate)
    final = np.maximum(base, raised).astype(np.int8)
    raised_by = raised > base

    # Where the raise decided, every other signal and finding is below the final level, so the
    # "at the final level" tests below never pick them.
    row_final, row_raised = final[rows.student], raised_by[rows.student]
    deciding = live & (level == row_final)
    deciding |= row_raised & (key_group | (screening & (level == screening_level[rows.student])))
    for rule, (active, members) in zip(policy.aggregate_rules, findings, strict=True):
        deciding |= (row_final == rule.level) & active[rows.student] & members
    return _result(rows, final, raised_by, deciding)


def simulate(
    policy_current: Policy,
    policy_draft: Policy,
    signals: pd.DataFrame,
    students: pd.DataFrame,
    now: datetime,
    closed_before: pd.Series | None = None,
) -> pd.DataFrame:
    """How many students of ``students`` (student_id, department_id) would change level.

    Nothing is written. Returns one row per department and from-level -> to-level move with the
    number of students (only students whose level changes); signals of students not in ``students``
    are ignored, and a student without signals is "none" under both policies.
    """
    if not students["student_id"].is_unique:
        raise ValueError("students: each student_id must appear once")
    ids = students["student_id"]
    before = triage_frame(policy_current, signals, now, closed_before)["level"]
    after = triage_frame(policy_draft, signals, now, closed_before)["level"]
    moves = pd.DataFrame(
        {
            "department_id": students["department_id"].to_numpy(),
            "from_level": before.reindex(ids).fillna(0).astype(int).to_numpy(),
            "to_level": after.reindex(ids).fillna(0).astype(int).to_numpy(),
        }
    )
    moves = moves[moves["from_level"] != moves["to_level"]]
    counts = moves.groupby(["department_id", "from_level", "to_level"], dropna=False).size()
    counts = counts.rename("students").reset_index()
    for column in ("from_level", "to_level"):
        counts[column] = counts[column].map(lambda v: Level(v).code)
    return counts


def _signals(frame: pd.DataFrame, closed_before: pd.Series | None) -> _Signals:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"signals: missing columns {', '.join(missing)}")
    student, students = pd.factorize(frame["student_id"], sort=True)
    observed_at = pd.to_datetime(frame["observed_at"])
    if observed_at.isna().any():
        raise ValueError("signals: every signal needs observed_at")
    observed = observed_at.to_numpy("datetime64[ns]").view(np.int64)
    closed = np.full(len(students), _NOT_CLOSED, np.int64)
    if closed_before is not None:
        per_student = pd.to_datetime(pd.Series(closed_before).reindex(students))
        closed = per_student.to_numpy("datetime64[ns]").view(np.int64)
    return _Signals(
        students=pd.Index(students, name="student_id"),
        student=student,
        signal_id=frame["signal_id"].to_numpy(np.int64),
        source=_Factor.of(frame["source"], str),
        instrument=_Factor.of(frame["instrument"], str),
        flags=_Factor.of(frame["flags"].fillna(""), _parse_flags),
        total=pd.to_numeric(frame["total"]).to_numpy(np.float64, na_value=np.nan),
        explicit=_explicit_levels(frame["explicit_level"]),
        observed=observed,
        closed=closed[student],
    )


def _parse_flags(joined: str) -> frozenset[str]:
    return frozenset(f.strip() for f in joined.split(";") if f.strip())


def _explicit_levels(column: pd.Series) -> np.ndarray:
    """Levels given as Level values or codes, empty for none; anything else is an error."""
    if column.isna().all():
        return np.zeros(len(column), np.int8)
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(np.float64, na_value=np.nan)
    else:
        by_code = column.map({level.code: float(level) for level in Level})
        numeric = pd.to_numeric(column, errors="coerce").fillna(by_code)
        values = numeric.to_numpy(np.float64, na_value=np.nan)
    unknown = column.notna().to_numpy() & ~np.isin(values, [float(level) for level in Level])
    if unknown.any():
        raise ValueError(
            f"explicit_level: unknown levels {sorted(set(column[unknown].astype(str)))}"
        )
    return np.nan_to_num(values).astype(np.int8)


def _condition_mask(condition: Condition, rows: _Signals) -> np.ndarray:
    """Rows matching ``condition``: the same predicates ``Condition.matches`` composes."""
    mask = rows.flags.mask(condition.matches_flags)
    if condition.sources:
        mask &= rows.source.mask(condition.matches_source)
    if condition.instrument is not None:
        mask &= rows.instrument.mask(condition.matches_instrument)
    if condition.total_min is not None:
        mask &= rows.total >= condition.total_min  # NaN compares False: no total, no match
    if condition.total_max is not None:
        mask &= rows.total <= condition.total_max
    return mask


def _implied_levels(policy: Policy, rows: _Signals) -> np.ndarray:
    """Each row's level: the highest matching rule, raised (never lowered) by explicit_level."""
    level = rows.explicit.copy()
    for rule in policy.rules:
        np.maximum(level, np.where(_condition_mask(rule.when, rows), rule.level, 0), out=level)
    return level


def _is_live(policy: Policy, level: np.ndarray, observed: np.ndarray, now_ns: int) -> np.ndarray:
    """Rows whose level has not expired by ``now``; level-none rows are never live."""
    lifetimes = [0, *(policy.expiry_days[lv] for lv in (Level.BLUE, Level.YELLOW, Level.RED))]
    never = np.array([days is None for days in lifetimes])
    lifetime_ns = np.array([(days or 0) * _DAY_NS for days in lifetimes], np.int64)
    return (level > 0) & (never[level] | (observed + lifetime_ns[level] > now_ns))


def _student_max(rows: _Signals, values: np.ndarray) -> np.ndarray:
    out = np.zeros(rows.n_students, np.int8)
    np.maximum.at(out, rows.student, values.astype(np.int8))
    return out


def _concern_finding(
    policy: Policy, rule: ConcernRule, rows: _Signals, unresolved: np.ndarray, now_ns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per student: whether the aggregate finding is active; per row: its window's member reports.

    Mirrors ``policy._concern_findings``: reports sorted by time; a report completes a window when
    the report ``reports_min - 1`` places earlier (same student) is at most ``within_days`` older;
    the latest such report dates the finding.
    """
    reports = np.flatnonzero(unresolved & rows.source.mask(lambda s: s in rule.sources))
    order = reports[np.lexsort((rows.observed[reports], rows.student[reports]))]
    student, observed = rows.student[order], rows.observed[order]
    window_ns = rule.within_days * _DAY_NS
    k = rule.reports_min - 1
    earlier = max(len(order) - k, 0)  # report i completes a window with report i - k
    completes = (student[k:] == student[:earlier]) & (
        observed[k:] - observed[:earlier] <= window_ns
    )
    end = np.full(rows.n_students, _NOT_CLOSED, np.int64)
    np.maximum.at(end, student[k:][completes], observed[k:][completes])
    has_end = end != _NOT_CLOSED
    end = np.where(has_end, end, 0)  # keeps the window arithmetic below clear of overflow
    active = has_end.copy()
    lifetime = policy.expiry_days[rule.level]
    if lifetime is not None:
        active &= end + lifetime * _DAY_NS > now_ns
    row_end = end[rows.student]
    members = np.zeros(len(rows.student), bool)
    members[reports] = True
    members &= has_end[rows.student] & (rows.observed >= row_end - window_ns)
    members &= rows.observed <= row_end
    return active, members


def _result(
    rows: _Signals, final: np.ndarray, raised_by: np.ndarray, deciding: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": final.astype(np.int64),
            "level_code": pd.Categorical.from_codes(final, categories=_LEVEL_CODES),
            "deciding_signal_ids": _joined_ids(rows, deciding),
            "raised_by_key_group": raised_by,
        },
        index=rows.students,
    )


def _joined_ids(rows: _Signals, deciding: np.ndarray) -> np.ndarray:
    """Each student's deciding signal ids, ascending and ";"-joined ("" when none).

    Only the final string join runs per student; a pandas groupby-agg here costs ~40 s per million
    students, slicing one sorted array costs about one.
    """
    picked = np.flatnonzero(deciding)
    picked = picked[np.lexsort((rows.signal_id[picked], rows.student[picked]))]
    owners, ids = rows.student[picked], rows.signal_id[picked].astype(str).tolist()
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else owners
    bounds = np.r_[starts, len(owners)].tolist()
    joined = np.full(rows.n_students, "", dtype=object)
    joined[owners[starts]] = [";".join(ids[a:b]) for a, b in itertools.pairwise(bounds)]
    return joined
