"""Batch re-triage must agree with the one-student triage, and simulations must only count."""

from datetime import datetime
from datetime import timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from warning.batch_triage import simulate
from warning.batch_triage import triage_frame
from warning.policy import Level
from warning.policy import SignalEvidence
from warning.policy import default_policy
from warning.policy import load_policy
from warning.policy import triage

NOW = datetime(2026, 10, 1, 12, 0)
POLICY = default_policy()


def _variant_policy():
    """Different numbers everywhere, so the property also covers non-default settings."""
    mapping = POLICY.to_mapping()
    mapping["version"] = "variant"
    mapping["key_group_raise"] = 2
    mapping["expiry_days"] = {"blue": 30, "yellow": 60, "red": None}  # red never lapses
    mapping["aggregate_rules"][0]["when"].update(concern_reports_min=3, within_days=10)
    return load_policy(mapping)


VARIANT = _variant_policy()


def frame(rows: list[tuple[int, SignalEvidence]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": [student for student, _ in rows],
            "signal_id": [s.id for _, s in rows],
            "source": [s.source for _, s in rows],
            "observed_at": pd.to_datetime([s.observed_at for _, s in rows]),
            "instrument": [s.instrument for _, s in rows],
            "total": [s.total for _, s in rows],
            "flags": [";".join(sorted(s.flags)) for _, s in rows],
            "explicit_level": [s.explicit_level for _, s in rows],
        },
        columns=[
            "student_id",
            "signal_id",
            "source",
            "observed_at",
            "instrument",
            "total",
            "flags",
            "explicit_level",
        ],
    )


def evidence(
    signal_id: int,
    source: str = "screening",
    *,
    days_ago: float = 1,
    instrument: str | None = None,
    total: float | None = None,
    flags: tuple[str, ...] = (),
    explicit: Level | None = None,
) -> SignalEvidence:
    return SignalEvidence(
        signal_id,
        source,
        NOW - timedelta(days=days_ago),
        instrument,
        total,
        frozenset(flags),
        explicit,
        f"signal {signal_id}",
    )


# --- agreement with triage() ----------------------------------------------------------------------

SOURCES = ["screening", "concern_report", "weekly_report", "academic", "life_event"]
SOURCES += ["self_referral", "counsellor", "hospital", "trajectory"]
KEY_GROUPS = ["key_group:academic_difficulty", "key_group:family_change"]
ANY_FLAGS = [
    "safety",
    "asq_positive",
    "upi_class_I",
    "upi_class_II",
    "upi_item25",
    "scl90_positive",
    "concern:suicidal_talk",
    "hospital:recent_discharge",
    "reliable_worsening",
    *KEY_GROUPS,
]
# Days on the policy's edges (expiry, the 30- and 10-day windows) so ties and boundaries are common.
EDGE_DAYS = [0, 10, 20, 29, 30, 31, 40, 41, 59, 60, 61, 89, 90, 91, 179, 180, 181, 364, 365]
days_ago = st.one_of(st.sampled_from(EDGE_DAYS), st.integers(-1, 60), st.integers(-1, 400)).map(
    float
)

# Signal kinds that interact (screening scores, key groups, concern reports) are drawn far more
# often than arbitrary ones; with arbitrary red flags everywhere nearly every student would be red
# and the raise, the aggregate and expiry would go untested.
screening = st.builds(
    dict,
    source=st.just("screening"),
    instrument=st.sampled_from(["phq9", "gad7", "k10", "k6", "phq2"]),
    total=st.integers(0, 24),
    flags=st.just(()),
)
key_group = st.builds(
    dict,
    source=st.sampled_from(["academic", "life_event", "screening"]),
    flags=st.sampled_from(KEY_GROUPS).map(lambda f: (f,)),
)
concern = st.builds(
    dict,
    source=st.sampled_from(["concern_report", "weekly_report"]),
    flags=st.sampled_from([(), ("concern:low_mood",)]),
)
anything = st.builds(
    dict,
    source=st.sampled_from(SOURCES),
    instrument=st.sampled_from([None, "phq9", "gad7"]),
    total=st.one_of(st.none(), st.integers(0, 27)),
    flags=st.sets(st.sampled_from(ANY_FLAGS), max_size=2).map(tuple),
    explicit=st.sampled_from([None, *Level]),
)
signal_kind = st.one_of(screening, screening, key_group, concern, concern, anything)
student_signals = st.tuples(st.integers(1, 3), signal_kind, days_ago, st.sampled_from([0, 0, 12]))
closures = st.dictionaries(st.integers(1, 3), days_ago, max_size=1)


def _parse_ids(joined: str) -> set[int]:
    return {int(i) for i in joined.split(";") if i}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=st.lists(student_signals, min_size=1, max_size=20),
    closed_days=closures,
    policy=st.sampled_from([POLICY, VARIANT]),
)
def test_batch_triage_agrees_with_triage_for_every_student(drawn, closed_days, policy):
    rows = [
        (student, evidence(i, days_ago=days + hours / 24, **kind))
        for i, (student, kind, days, hours) in enumerate(drawn, start=1)
    ]
    closed = {student: NOW - timedelta(days=d) for student, d in closed_days.items()}
    assert_engines_agree(policy, rows, closed)


def assert_engines_agree(policy, rows, closed=None) -> pd.DataFrame:
    closed = closed or {}
    result = triage_frame(policy, frame(rows), NOW, pd.Series(closed, dtype="datetime64[ns]"))
    for student in {student for student, _ in rows}:
        signals = [s for owner, s in rows if owner == student]
        expected = triage(policy, signals, NOW, closed_before=closed.get(student))
        got = result.loc[student]
        assert got["level"] == expected.level
        assert got["level_code"] == expected.level.code
        assert got["raised_by_key_group"] == expected.raised_by_key_group
        decided = {i for reason in expected.reasons for i in reason.signal_ids}
        assert _parse_ids(got["deciding_signal_ids"]) == decided
    return result


def reports(*days: float) -> list[tuple[int, SignalEvidence]]:
    return [(1, evidence(i, "concern_report", days_ago=d)) for i, d in enumerate(days, start=1)]


@pytest.mark.parametrize(
    ("days", "level", "deciding"),
    [
        ((40, 10), "yellow", "1;2"),
        ((41, 10), "blue", "1;2"),
        ((30, 10, 0), "yellow", "1;2;3"),
        ((31, 10, 0), "yellow", "2;3"),
        ((209, 179), "yellow", "1;2"),
        ((210, 180), "none", ""),
    ],
)
def test_concern_report_windows_agree_at_their_edges(days, level, deciding):
    result = assert_engines_agree(POLICY, reports(*days))
    assert (result.loc[1, "level_code"], result.loc[1, "deciding_signal_ids"]) == (level, deciding)


# --- examples -------------------------------------------------------------------------------------


def test_frame_has_one_row_per_student_with_level_and_deciding_signals():
    rows = [
        (10, evidence(1, instrument="phq9", total=6)),
        (10, evidence(2, "academic", flags=("key_group:academic_difficulty",))),
        (11, evidence(3, flags=("safety",), days_ago=500)),
        (11, evidence(4, instrument="gad7", total=6)),
        (12, evidence(5, instrument="phq9", total=2)),
    ]
    result = triage_frame(POLICY, frame(rows), NOW)
    assert list(result.index) == [10, 11, 12]
    assert result["level_code"].tolist() == ["yellow", "red", "none"]
    assert result["level"].tolist() == [2, 3, 0]
    assert result["deciding_signal_ids"].tolist() == ["1;2", "3", ""]
    assert result["raised_by_key_group"].tolist() == [True, False, False]


def test_closed_before_resolves_a_students_older_signals():
    rows = [(10, evidence(1, flags=("safety",), days_ago=30))]
    closed = pd.Series({10: NOW - timedelta(days=20)})
    assert triage_frame(POLICY, frame(rows), NOW, closed).loc[10, "level"] == Level.NONE


def test_explicit_level_may_be_given_as_a_code():
    signals = frame([(10, evidence(1, "counsellor"))]).assign(explicit_level=["red"])
    assert triage_frame(POLICY, signals, NOW).loc[10, "level_code"] == "red"


def test_unknown_explicit_level_is_rejected():
    signals = frame([(10, evidence(1, "counsellor"))]).assign(explicit_level=["orange"])
    with pytest.raises(ValueError, match="orange"):
        triage_frame(POLICY, signals, NOW)


def test_empty_signal_frame_gives_an_empty_result():
    result = triage_frame(POLICY, frame([]), NOW)
    assert result.empty
    assert list(result.columns) == [
        "level",
        "level_code",
        "deciding_signal_ids",
        "raised_by_key_group",
    ]


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="flags, explicit_level"):
        triage_frame(POLICY, frame([]).drop(columns=["flags", "explicit_level"]), NOW)


# --- simulation -----------------------------------------------------------------------------------


def test_simulation_counts_students_who_would_move_per_department():
    rows = [
        (1, evidence(1, instrument="phq9", total=16)),
        (2, evidence(2, instrument="phq9", total=17)),
        (3, evidence(3, instrument="phq9", total=12)),
        (4, evidence(4, instrument="phq9", total=18)),
    ]
    students = pd.DataFrame({"student_id": [1, 2, 3, 4, 5], "department_id": [7, 7, 7, 8, 8]})
    draft = POLICY.to_mapping()
    draft["version"] = "draft"
    for rule in draft["rules"]:
        if rule["key"] == "phq9_severe":
            rule["when"]["total_min"] = 15
        if rule["key"] == "phq9_moderate":
            rule["when"]["total_max"] = 14
    moves = simulate(POLICY, load_policy(draft), frame(rows), students, NOW)
    assert moves.to_dict("records") == [
        {"department_id": 7, "from_level": "yellow", "to_level": "red", "students": 2},
        {"department_id": 8, "from_level": "yellow", "to_level": "red", "students": 1},
    ]


def test_simulating_the_active_policy_moves_nobody():
    rows = [(1, evidence(1, instrument="phq9", total=16))]
    students = pd.DataFrame({"student_id": [1], "department_id": [7]})
    assert simulate(POLICY, POLICY, frame(rows), students, NOW).empty


def test_simulation_needs_each_student_once():
    students = pd.DataFrame({"student_id": [1, 1], "department_id": [7, 8]})
    with pytest.raises(ValueError, match="once"):
        simulate(POLICY, POLICY, frame([]), students, NOW)


def test_simulation_counts_students_without_a_department():
    rows = [(1, evidence(1, instrument="phq9", total=16))]
    students = pd.DataFrame({"student_id": [1], "department_id": [None]})
    draft = POLICY.to_mapping()
    draft["version"] = "draft"
    draft["rules"] = [r for r in draft["rules"] if r["key"] != "phq9_moderate"]
    moves = simulate(POLICY, load_policy(draft), frame(rows), students, NOW)
    assert moves[["from_level", "to_level", "students"]].to_dict("records") == [
        {"from_level": "yellow", "to_level": "none", "students": 1}
    ]


def test_a_signal_without_observed_at_is_rejected():
    signals = frame([(10, evidence(1, flags=("safety",)))]).assign(observed_at=[pd.NaT])
    with pytest.raises(ValueError, match="observed_at"):
        triage_frame(POLICY, signals, NOW)
