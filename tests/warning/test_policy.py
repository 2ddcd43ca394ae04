"""The default triage policy, trigger by trigger, and the rules that combine signals."""

from datetime import datetime
from datetime import timedelta

import pytest

from warning.policy import DEFAULT_POLICY_PATH
from warning.policy import Level
from warning.policy import Override
from warning.policy import PolicyError
from warning.policy import SignalEvidence
from warning.policy import default_policy
from warning.policy import implied_level
from warning.policy import load_policy
from warning.policy import policy_from_yaml_text
from warning.policy import triage

NOW = datetime(2026, 10, 1, 12, 0)
POLICY = default_policy()


def signal(
    signal_id: int = 1,
    source: str = "screening",
    *,
    instrument: str | None = None,
    total: float | None = None,
    flags: tuple[str, ...] = (),
    days_ago: float = 1,
    explicit: Level | None = None,
    label: str | None = None,
) -> SignalEvidence:
    return SignalEvidence(
        id=signal_id,
        source=source,
        observed_at=NOW - timedelta(days=days_ago),
        instrument=instrument,
        total=total,
        flags=frozenset(flags),
        explicit_level=explicit,
        label=label or f"signal {signal_id}",
    )


def level_of(*signals: SignalEvidence, **kwargs) -> Level:
    return triage(POLICY, signals, NOW, **kwargs).level


def deciding_ids(result) -> set[int]:
    return {i for reason in result.reasons for i in reason.signal_ids}


# --- levels and the default table -----------------------------------------------------------------


def test_levels_order_by_severity_and_have_codes():
    assert Level.NONE < Level.BLUE < Level.YELLOW < Level.RED
    assert [lv.code for lv in Level] == ["none", "blue", "yellow", "red"]
    assert Level.from_code("yellow") is Level.YELLOW


@pytest.mark.parametrize(
    ("instrument", "total", "expected"),
    [
        ("phq9", 4, Level.NONE),
        ("phq9", 5, Level.BLUE),
        ("phq9", 9, Level.BLUE),
        ("phq9", 10, Level.YELLOW),
        ("phq9", 19, Level.YELLOW),
        ("phq9", 20, Level.RED),
        ("phq9", 27, Level.RED),
        ("gad7", 4, Level.NONE),
        ("gad7", 5, Level.BLUE),
        ("gad7", 9, Level.BLUE),
        ("gad7", 10, Level.YELLOW),
        ("gad7", 21, Level.YELLOW),
        ("k10", 21, Level.NONE),
        ("k10", 22, Level.BLUE),
        ("k10", 29, Level.BLUE),
        ("k10", 30, Level.YELLOW),
        ("k6", 4, Level.NONE),
        ("k6", 12, Level.BLUE),
        ("k6", 13, Level.YELLOW),
        ("phq2", 2, Level.NONE),
        ("phq2", 3, Level.BLUE),
        ("gad2", 3, Level.BLUE),
    ],
)
def test_scale_totals_map_to_levels_at_the_published_cut_offs(instrument, total, expected):
    assert level_of(signal(instrument=instrument, total=total)) is expected


def test_a_total_without_its_instrument_implies_nothing():
    assert level_of(signal(instrument="unknown", total=27)) is Level.NONE
    assert level_of(signal(instrument="phq9", total=None)) is Level.NONE


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        ("screening", ("safety",)),
        ("screening", ("phq9_item9",)),
        ("screening", ("upi_item25", "upi_class_I")),
        ("screening", ("asq_acute",)),
        ("screening", ("asq_positive",)),
        ("concern_report", ("concern:suicidal_talk",)),
        ("concern_report", ("concern:self_harm",)),
        ("weekly_report", ("concern:crisis_behaviour",)),
        ("hospital", ("hospital:severe_disorder",)),
        ("hospital", ("hospital:recent_discharge",)),
    ],
)
def test_red_triggers_give_red(source, flags):
    assert level_of(signal(source=source, flags=flags)) is Level.RED


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        ("screening", ("upi_class_I",)),
        ("screening", ("scl90_positive",)),
        ("trajectory", ("reliable_worsening",)),
        ("self_referral", ()),
    ],
)
def test_yellow_triggers_give_yellow(source, flags):
    assert level_of(signal(source=source, flags=flags)) is Level.YELLOW


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        ("screening", ("upi_class_II",)),
        ("academic", ("key_group:academic_difficulty",)),
        ("life_event", ("key_group:family_change",)),
        ("concern_report", ("key_group:interpersonal_isolation",)),
        ("concern_report", ("concern:low_mood",)),
        ("weekly_report", ("concern:sleep",)),
        ("life_event", ("bereavement",)),
    ],
)
def test_blue_triggers_give_blue(source, flags):
    assert level_of(signal(source=source, flags=flags)) is Level.BLUE


def test_student_without_active_signals_has_no_level():
    result = triage(POLICY, [], NOW)
    assert result.level is Level.NONE
    assert result.reasons == ()


def test_level_is_the_highest_among_active_signals():
    signals = [
        signal(1, instrument="phq9", total=7),
        signal(2, instrument="gad7", total=12),
        signal(3, instrument="k10", total=24),
    ]
    assert level_of(*signals) is Level.YELLOW


def test_explicit_level_raises_but_never_lowers_what_rules_imply():
    assert implied_level(POLICY, signal(source="counsellor", explicit=Level.RED)) is Level.RED
    lowered = signal(source="self_referral", flags=("concern:self_harm",), explicit=Level.BLUE)
    assert implied_level(POLICY, lowered) is Level.RED


def test_implied_level_is_what_one_signal_means_by_itself():
    assert implied_level(POLICY, signal(instrument="phq9", total=12)) is Level.YELLOW
    assert implied_level(POLICY, signal(flags=("key_group:family_change",))) is Level.BLUE


# --- key-group raise ------------------------------------------------------------------------------

KEY_GROUP = dict(source="academic", flags=("key_group:academic_difficulty",))


def test_key_group_raises_a_blue_screening_to_yellow():
    result = triage(POLICY, [signal(1, instrument="phq9", total=6), signal(2, **KEY_GROUP)], NOW)
    assert result.level is Level.YELLOW
    assert result.raised_by_key_group
    assert deciding_ids(result) == {1, 2}


def test_key_group_raises_a_yellow_screening_to_red():
    result = triage(POLICY, [signal(1, instrument="gad7", total=11), signal(2, **KEY_GROUP)], NOW)
    assert result.level is Level.RED
    assert result.raised_by_key_group


def test_key_group_leaves_a_red_screening_red_without_claiming_a_raise():
    result = triage(POLICY, [signal(1, flags=("safety",)), signal(2, **KEY_GROUP)], NOW)
    assert result.level is Level.RED
    assert not result.raised_by_key_group
    assert deciding_ids(result) == {1}


def test_key_group_alone_is_blue():
    result = triage(POLICY, [signal(2, **KEY_GROUP)], NOW)
    assert result.level is Level.BLUE
    assert not result.raised_by_key_group


def test_key_group_does_not_raise_a_non_screening_signal():
    report = signal(1, source="concern_report", flags=("concern:low_mood",))
    assert level_of(report, signal(2, **KEY_GROUP)) is Level.BLUE
    worsening = signal(1, source="trajectory", flags=("reliable_worsening",))
    assert level_of(worsening, signal(2, **KEY_GROUP)) is Level.YELLOW


def test_key_group_does_not_raise_a_screening_below_any_band():
    assert level_of(signal(1, instrument="phq9", total=3), signal(2, **KEY_GROUP)) is Level.BLUE


def test_an_expired_key_group_no_longer_raises():
    screening = signal(1, instrument="phq9", total=6)
    assert level_of(screening, signal(2, days_ago=90, **KEY_GROUP)) is Level.BLUE


def test_raise_is_not_credited_when_another_signal_reaches_the_same_level():
    signals = [
        signal(1, instrument="phq9", total=6),
        signal(2, **KEY_GROUP),
        signal(3, source="concern_report", flags=("concern:suicidal_talk",)),
    ]
    result = triage(POLICY, signals, NOW)
    assert result.level is Level.RED
    assert not result.raised_by_key_group
    assert deciding_ids(result) == {3}


# --- expiry, persistence and closure --------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "expected"), [(89, Level.BLUE), (90, Level.NONE)])
def test_blue_signal_expires_after_90_days(days_ago, expected):
    assert level_of(signal(instrument="phq9", total=6, days_ago=days_ago)) is expected


@pytest.mark.parametrize(("days_ago", "expected"), [(179, Level.YELLOW), (180, Level.NONE)])
def test_yellow_signal_expires_after_180_days(days_ago, expected):
    assert level_of(signal(instrument="phq9", total=12, days_ago=days_ago)) is expected


def test_red_signal_is_still_red_a_year_later():
    assert level_of(signal(flags=("safety",), days_ago=365)) is Level.RED


def test_expired_red_never_falls_back_to_a_lower_expiry():
    old = signal(1, flags=("phq9_item9",), instrument="phq9", total=8, days_ago=400)
    assert level_of(old) is Level.RED


def test_signals_at_or_before_the_last_closure_are_resolved():
    red = signal(1, flags=("safety",), days_ago=30)
    closed = red.observed_at
    assert level_of(red, closed_before=closed) is Level.NONE
    newer = signal(2, instrument="phq9", total=6, days_ago=10)
    assert level_of(red, newer, closed_before=closed) is Level.BLUE


def test_a_signal_dated_after_now_still_counts():
    assert level_of(signal(flags=("safety",), days_ago=-0.001)) is Level.RED


# --- concern reports together ---------------------------------------------------------------------


def report(signal_id: int, days_ago: float, source: str = "concern_report") -> SignalEvidence:
    return signal(signal_id, source, flags=("concern:low_mood",), days_ago=days_ago)


def test_two_concern_reports_within_30_days_give_yellow():
    result = triage(POLICY, [report(1, 40), report(2, 10)], NOW)
    assert result.level is Level.YELLOW
    assert deciding_ids(result) == {1, 2}
    assert result.reasons[0].text_key == "triage.aggregate.concern_reports_2_in_30_days"


def test_two_concern_reports_exactly_30_days_apart_give_yellow():
    assert level_of(report(1, 40), report(2, 10, "weekly_report")) is Level.YELLOW


def test_two_concern_reports_31_days_apart_stay_blue():
    assert level_of(report(1, 41), report(2, 10)) is Level.BLUE


def test_concern_report_finding_outlives_its_blue_reports_until_yellow_expiry():
    assert level_of(report(1, 120), report(2, 100)) is Level.YELLOW
    assert level_of(report(1, 200), report(2, 180)) is Level.NONE


def test_closed_concern_reports_do_not_count_towards_the_aggregate():
    first, second = report(1, 20), report(2, 10)
    assert level_of(first, second, closed_before=first.observed_at) is Level.BLUE


# --- explanations ---------------------------------------------------------------------------------


def test_explanation_names_only_the_deciding_signal():
    item9 = signal(
        7,
        flags=("safety", "phq9_item9"),
        instrument="phq9",
        total=14,
        label="PHQ-9 item 9 = 2 in the 2026 freshman screening, 2026-09-12",
    )
    mild = signal(8, instrument="gad7", total=6, label="GAD-7 = 6")
    result = triage(POLICY, [item9, mild], NOW)
    assert [r.text for r in result.reasons] == [
        "red: PHQ-9 item 9 = 2 in the 2026 freshman screening, 2026-09-12"
    ]
    assert result.reasons[0].signal_ids == (7,)
    assert result.reasons[0].text_key == "triage.rule.safety_item"
    assert result.policy_version == POLICY.version


def test_raise_explanation_names_screening_and_key_group():
    screening = signal(1, instrument="phq9", total=6, label="PHQ-9 = 6")
    group = signal(2, label="academic warning, 2026-09-01", **KEY_GROUP)
    texts = [r.text for r in triage(POLICY, [screening, group], NOW).reasons]
    assert texts == [
        "yellow: PHQ-9 = 6 (raised from blue by a key group)",
        "yellow: key group, academic warning, 2026-09-01",
    ]


# --- overrides ------------------------------------------------------------------------------------


def override(level: Level, days_ago: float = 0.5) -> Override:
    return Override(
        level, "assessed in person, no current risk", 42, NOW - timedelta(days=days_ago)
    )


def test_counsellor_override_sets_the_level_and_keeps_the_computed_one():
    result = triage(
        POLICY, [signal(1, instrument="phq9", total=12)], NOW, override=override(Level.BLUE)
    )
    assert result.level is Level.BLUE
    assert result.computed_level is Level.YELLOW
    assert result.overridden
    assert result.reasons[0].text_key == "triage.override"
    assert "assessed in person" in result.reasons[0].text
    assert deciding_ids(result) == {1}


def test_override_can_raise_a_level():
    result = triage(POLICY, [], NOW, override=override(Level.RED))
    assert (result.level, result.computed_level) == (Level.RED, Level.NONE)


def test_override_lapses_when_newer_evidence_decides_a_higher_level():
    old = signal(1, instrument="phq9", total=12, days_ago=3)
    new_red = signal(2, flags=("safety",), days_ago=0.1)
    result = triage(POLICY, [old, new_red], NOW, override=override(Level.BLUE, days_ago=1))
    assert result.level is Level.RED
    assert not result.overridden
    assert result.reasons[-1].text_key == "triage.override_lapsed"


def test_override_holds_when_newer_evidence_does_not_decide_the_level():
    old = signal(1, instrument="phq9", total=12, days_ago=3)
    new_blue = signal(2, instrument="gad7", total=6, days_ago=0.1)
    result = triage(POLICY, [old, new_blue], NOW, override=override(Level.BLUE, days_ago=1))
    assert result.level is Level.BLUE
    assert result.overridden


def test_override_needs_a_reason():
    with pytest.raises(ValueError, match="reason"):
        Override(Level.BLUE, "  ", 42, NOW)


# --- policy files ---------------------------------------------------------------------------------


def test_default_policy_round_trips_through_its_mapping():
    assert load_policy(POLICY.to_mapping()) == POLICY
    assert load_policy(DEFAULT_POLICY_PATH) == POLICY


def test_thresholds_come_from_the_policy_file():
    draft = POLICY.to_mapping()
    draft["version"] = "strict-1"
    for rule in draft["rules"]:
        if rule["key"] == "phq9_severe":
            rule["when"]["total_min"] = 15
    strict = load_policy(draft)
    result = triage(strict, [signal(instrument="phq9", total=16)], NOW)
    assert (result.level, result.policy_version) == (Level.RED, "strict-1")


MINIMAL = """
version: "t1"
rules:
  - {level: red, when: {flag: safety}}
  - {level: yellow, when: {instrument: phq9, total_min: 10, total_max: 19}}
aggregate_rules:
  - {level: yellow, when: {concern_reports_min: 2, within_days: 30}}
key_group_when: {flag_prefix: "key_group:"}
key_group_raise: 1
raise_sources: [screening]
expiry_days: {blue: 90, yellow: 180, red: null}
"""


def test_rules_written_without_keys_get_stable_keys():
    policy = policy_from_yaml_text(MINIMAL)
    assert [r.key for r in policy.rules] == [
        "flag=safety",
        "instrument=phq9,total_max=19.0,total_min=10.0",
    ]
    assert policy.aggregate_rules[0].sources == ("concern_report", "weekly_report")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("level: red", "level: orange", "rules[0].level: unknown level 'orange'"),
        ("blue: 90", "blue: -5", "expiry_days.blue: negative day count -5"),
        ("within_days: 30", "within_days: -1", "within_days: negative day count -1"),
        ("{flag: safety}", "{flags: safety}", "rules[0].when: unknown setting 'flags'"),
        ("[screening]", "[screenings]", "raise_sources: unknown source ['screenings']"),
        ("instrument: phq9, ", "", "total_min/total_max need an instrument"),
        ("total_max: 19", "total_max: 9", "total_min 10.0 is above total_max 9.0"),
        ('version: "t1"', "version: 2026.1", "version: required, a text"),
        ("key_group_raise: 1", "key_group_raise: 5", "key_group_raise: 5 is out of range"),
        ("red: null", "", "expiry_days.red: required"),
        ("raise_sources:", "colour: red\nraise_sources:", "policy: unknown setting 'colour'"),
    ],
)
def test_invalid_policy_draft_is_rejected_with_a_clear_error(old, new, message):
    assert old in MINIMAL
    with pytest.raises(PolicyError) as caught:
        policy_from_yaml_text(MINIMAL.replace(old, new, 1))
    assert any(message in error for error in caught.value.errors), caught.value.errors


def test_every_problem_in_a_draft_is_reported_at_once():
    text = MINIMAL.replace("level: red", "level: orange").replace("blue: 90", "blue: -5")
    with pytest.raises(PolicyError) as caught:
        policy_from_yaml_text(text)
    assert len(caught.value.errors) == 2


def test_broken_yaml_is_a_policy_error():
    with pytest.raises(PolicyError, match="not valid YAML"):
        policy_from_yaml_text("rules: [unclosed")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("rules:\n\t- {key: a}\n", "line 2, column 1 (a tab: indent with spaces)"),
        (
            "expiry_days:\n  blue: 90\n   yellow: 180\n",
            "line 3, column 10 (a colon where none may stand: check the line's indentation",
        ),
        (
            "expiry_days:\n  blue: 90\n red: null\n",
            "line 3, column 2 (this line is not aligned with the lines around it)",
        ),
        ("rules: [{key: a, level: red\n", "(a { is not closed, or a comma is missing)"),
        ("raise_sources: [screening\n", "(a [ is not closed, or a comma is missing)"),
        # A slip with no words of its own keeps the parser's sentence.
        ('version: "default\n', "found unexpected end of stream"),
    ],
)
def test_a_common_yaml_slip_is_said_as_what_to_fix(text, said):
    with pytest.raises(PolicyError) as caught:
        policy_from_yaml_text(text)
    assert said in str(caught.value.errors[0])


def test_a_policy_must_be_a_mapping():
    with pytest.raises(PolicyError, match="mapping"):
        policy_from_yaml_text("- just a list")
