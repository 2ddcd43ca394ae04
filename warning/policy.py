"""The triage policy as data, and the pure function that turns risk signals into a warning level.

Every threshold lives in a versioned YAML policy (``policies/default.yaml``) so that changing a
cut-off is a reviewed configuration change, not a code change, and every decision records the policy
version that made it. Nothing here touches Flask or the database: callers pass plain evidence and
a clock. A draft's problems are Messages: English text that the policy page shows translated.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from babel import Locale

from campus.i18n import N_
from campus.i18n import Message
from screening.vocabulary import instrument_abbreviation

SOURCES = (
    "screening",
    "concern_report",
    "weekly_report",
    "academic",
    "life_event",
    "self_referral",
    "counsellor",
    "hospital",
    "trajectory",
)
DEFAULT_POLICY_PATH = Path(__file__).parent / "policies" / "default.yaml"


def shipped_edition(path: Path, language: str) -> Path:
    """The edition of the shipped policy file `path` for an administrator reading `language`
    ("zh_CN", or the request's "zh_Hans_CN": ``default.zh_CN.yaml`` beside ``default.yaml``), or
    the file itself, the English edition, where there is none. Editions differ only in their
    comments, written for that reader; their data is the file's
    (tests/warning/test_policy_editions.py)."""
    locale = Locale.parse(language)
    code = "_".join(part for part in (locale.language, locale.territory) if part)
    edition = path.with_suffix(f".{code}{path.suffix}")
    return edition if edition.is_file() else path


class Level(enum.IntEnum):
    """Warning level; the integer value orders severity so levels compare and ``max`` directly."""

    NONE = 0
    BLUE = 1
    YELLOW = 2
    RED = 3

    @property
    def code(self) -> str:
        """Stable lower-case name stored in the database and used in policy files."""
        return self.name.lower()

    @classmethod
    def from_code(cls, code: str) -> Level:
        """The level named ``code`` ("none", "blue", "yellow", "red"); ValueError otherwise."""
        try:
            return cls[code.upper()]
        except KeyError:
            raise ValueError(f"unknown level {code!r}") from None


@dataclass(frozen=True)
class SignalEvidence:
    """The policy's view of one risk signal: only what a triage rule may look at."""

    id: int
    source: str
    observed_at: datetime  # naive UTC
    instrument: str | None = None
    total: float | None = None
    flags: frozenset[str] = frozenset()
    explicit_level: Level | None = None
    label: str = ""


@dataclass(frozen=True)
class Condition:
    """A conjunction of tests on one signal; an absent test always passes."""

    flag: str | None = None
    any_flag: tuple[str, ...] = ()
    flag_prefix: str | None = None
    without_flag: str | None = None
    sources: tuple[str, ...] = ()
    instrument: str | None = None
    total_min: float | None = None
    total_max: float | None = None

    def matches(self, signal: SignalEvidence) -> bool:
        """Whether every test in this condition holds for ``signal``."""
        return (
            self.matches_flags(signal.flags)
            and self.matches_source(signal.source)
            and self.matches_instrument(signal.instrument)
            and self.matches_total(signal.total)
        )

    def matches_flags(self, flags: frozenset[str]) -> bool:
        """The flag tests alone, so the batch engine evaluates them once per distinct flag set."""
        return (
            (self.flag is None or self.flag in flags)
            and (not self.any_flag or not flags.isdisjoint(self.any_flag))
            and (self.flag_prefix is None or any(f.startswith(self.flag_prefix) for f in flags))
            and (self.without_flag is None or self.without_flag not in flags)
        )

    def matches_source(self, source: str | None) -> bool:
        """The source test alone."""
        return not self.sources or source in self.sources

    def matches_instrument(self, instrument: str | None) -> bool:
        """The instrument test alone."""
        return self.instrument is None or instrument == self.instrument

    def matches_total(self, total: float | None) -> bool:
        """The inclusive total range; a signal without a total never satisfies a range."""
        if self.total_min is None and self.total_max is None:
            return True
        if total is None or math.isnan(total):
            return False
        return (self.total_min is None or total >= self.total_min) and (
            self.total_max is None or total <= self.total_max
        )

    def to_mapping(self) -> dict[str, Any]:
        """The ``when:`` mapping as written in a policy file."""
        out: dict[str, Any] = {}
        for name in ("flag", "flag_prefix", "without_flag", "instrument", "total_min", "total_max"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.any_flag:
            out["any_flag"] = list(self.any_flag)
        if self.sources:
            out["source"] = self.sources[0] if len(self.sources) == 1 else list(self.sources)
        return out


@dataclass(frozen=True)
class Rule:
    """One signal matching ``when`` implies ``level`` by itself."""

    key: str
    level: Level
    when: Condition

    @property
    def text_key(self) -> str:
        return f"triage.rule.{self.key}"


@dataclass(frozen=True)
class ConcernRule:
    """Several concern reports close together imply ``level`` even if each one alone is mild."""

    key: str
    level: Level
    reports_min: int
    within_days: int
    sources: tuple[str, ...]

    @property
    def text_key(self) -> str:
        return f"triage.aggregate.{self.key}"

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.within_days)


@dataclass(frozen=True)
class Policy:
    """A complete, validated triage policy; build it with ``load_policy`` or ``default_policy``."""

    version: str
    rules: tuple[Rule, ...]
    aggregate_rules: tuple[ConcernRule, ...]
    key_group_when: Condition
    key_group_raise: int
    raise_sources: tuple[str, ...]
    expiry_days: Mapping[Level, int | None] = field(hash=False)

    def expiry(self, level: Level) -> timedelta | None:
        """How long a blue/yellow/red signal stays active; None: until a counsellor closes it."""
        days = self.expiry_days[level]
        return None if days is None else timedelta(days=days)

    def is_live(self, level: Level, observed_at: datetime, now: datetime) -> bool:
        """Whether evidence of ``level`` observed at ``observed_at`` is still active at ``now``."""
        if level == Level.NONE:
            return False
        lifetime = self.expiry(level)
        return lifetime is None or observed_at + lifetime > now

    def to_mapping(self) -> dict[str, Any]:
        """The policy as plain data in the shape ``load_policy`` accepts (drafts, storage)."""
        return {
            "version": self.version,
            "rules": [
                {"key": r.key, "level": r.level.code, "when": r.when.to_mapping()}
                for r in self.rules
            ],
            "aggregate_rules": [
                {
                    "key": a.key,
                    "level": a.level.code,
                    "when": {
                        "concern_reports_min": a.reports_min,
                        "within_days": a.within_days,
                        "sources": list(a.sources),
                    },
                }
                for a in self.aggregate_rules
            ],
            "key_group_when": self.key_group_when.to_mapping(),
            "key_group_raise": self.key_group_raise,
            "raise_sources": list(self.raise_sources),
            "expiry_days": {level.code: days for level, days in self.expiry_days.items()},
        }


@dataclass(frozen=True)
class Override:
    """A counsellor's decision to set the level by hand; audited by the caller."""

    level: Level
    reason: str
    by_user_id: int
    at: datetime

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("an override needs a reason")


@dataclass(frozen=True)
class Reason:
    """Why a level was reached, naming the signals that decided it."""

    signal_ids: tuple[int, ...]
    level: Level
    text_key: str
    text: str


@dataclass(frozen=True)
class Triage:
    """The outcome of ``triage``. ``raised_by_key_group`` describes the computed level."""

    level: Level
    reasons: tuple[Reason, ...]
    policy_version: str
    computed_level: Level
    raised_by_key_group: bool = False
    overridden: bool = False


class PolicyError(ValueError):
    """A policy draft (triage or response) is invalid; ``errors`` lists every problem so a form
    can show them all."""

    def __init__(self, errors: Sequence[Message]) -> None:
        self.errors = tuple(errors)
        super().__init__("invalid policy:\n" + "\n".join(f"- {e}" for e in self.errors))


# --------------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------------

_TOP_KEYS = frozenset(
    {
        "version",
        "rules",
        "aggregate_rules",
        "key_group_when",
        "key_group_raise",
        "raise_sources",
        "expiry_days",
    }
)
_RULE_KEYS = frozenset({"key", "level", "when"})
_CONDITION_KEYS = frozenset(
    {
        "flag",
        "any_flag",
        "flag_prefix",
        "without_flag",
        "source",
        "instrument",
        "total_min",
        "total_max",
    }
)
_AGGREGATE_KEYS = frozenset({"concern_reports_min", "within_days", "sources"})
_EXPIRING_LEVELS = (Level.BLUE, Level.YELLOW, Level.RED)


def load_policy(path_or_mapping: str | Path | Mapping[str, Any]) -> Policy:
    """A policy from a YAML file path or an already parsed mapping; PolicyError if invalid."""
    if isinstance(path_or_mapping, Mapping):
        return _policy_from_mapping(path_or_mapping)
    return policy_from_yaml_text(Path(path_or_mapping).read_text(encoding="utf-8"))


def policy_from_yaml_text(text: str) -> Policy:
    """A policy from YAML text (an administrator's draft); PolicyError lists every problem."""
    return _policy_from_mapping(yaml_data(text))


def yaml_data(text: str) -> Any:
    """The parsed YAML of a policy draft (triage or response); PolicyError if it is not YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError([_yaml_problem(exc)]) from None


# PyYAML's sentences for the slips an administrator makes most, by how they begin, said as what
# to fix ("expected <block end>, but found '<block mapping start>'" is a misaligned line).
_YAML_SLIPS = (
    ("found character '\\t'", N_("a tab: indent with spaces")),
    (
        "expected <block end>, but found '<block",
        N_("this line is not aligned with the lines around it"),
    ),
    ("expected ',' or '}'", N_("a { is not closed, or a comma is missing")),
    ("expected ',' or ']'", N_("a [ is not closed, or a comma is missing")),
    (
        "mapping values are not allowed here",
        N_(
            "a colon where none may stand: check the line's indentation, and quote a text "
            "with a colon"
        ),
    ),
)


def _yaml_problem(exc: yaml.YAMLError) -> Message:
    """Where the text stops being YAML, by line and column, and the slip in the administrator's
    words where it is a common one; any other keeps PyYAML's own (English) sentence."""
    if isinstance(exc, yaml.MarkedYAMLError) and (mark := exc.problem_mark or exc.context_mark):
        return Message(
            N_("not valid YAML near line %(line)s, column %(column)s (%(detail)s)"),
            line=mark.line + 1,
            column=mark.column + 1,
            detail=_slip(exc.problem or str(exc)),
        )
    return Message(N_("not valid YAML: %(detail)s"), detail=_slip(str(exc)))


def _slip(problem: str) -> str:
    words = next((words for start, words in _YAML_SLIPS if problem.startswith(start)), None)
    return problem if words is None else Message(words)


def parse_version(data: Mapping[str, Any], problems: list[Message]) -> str:
    """The ``version`` every policy file carries; recorded on what the policy decides."""
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(Message(N_('version: required, a text (quote numbers: "2026.1")')))
        return ""
    return version


@cache
def default_policy() -> Policy:
    """The shipped default policy (the brief's table), parsed once per process."""
    return load_policy(DEFAULT_POLICY_PATH)


def _policy_from_mapping(data: Any) -> Policy:
    problems: list[Message] = []
    if not isinstance(data, Mapping):
        raise PolicyError([Message(N_("the policy must be a mapping of settings"))])
    reject_unknown(data, _TOP_KEYS, "policy", problems)
    version = parse_version(data, problems)
    rules = parse_list(data.get("rules"), "rules", _parse_rule, problems, required=True)
    aggregates = parse_list(
        data.get("aggregate_rules", []), "aggregate_rules", _parse_aggregate, problems
    )
    _reject_duplicate_keys([*rules, *aggregates], problems)
    key_group_when = _parse_condition(data.get("key_group_when"), "key_group_when", problems)
    key_group_raise = parse_int(data.get("key_group_raise", 1), "key_group_raise", problems, 0, 3)
    raise_sources = _parse_sources(data.get("raise_sources"), "raise_sources", problems)
    expiry = _parse_expiry(data.get("expiry_days"), problems)
    if problems:
        raise PolicyError(problems)
    # A parser gives None only with a problem, refused above.
    assert key_group_when is not None
    assert key_group_raise is not None
    return Policy(
        version=version,
        rules=tuple(rules),
        aggregate_rules=tuple(aggregates),
        key_group_when=key_group_when,
        key_group_raise=key_group_raise,
        raise_sources=raise_sources,
        expiry_days=expiry,
    )


# Evidence that must always be red, whatever an administrator writes: a safety answer, an acute
# ASQ and a peer's report of suicidal talk, self-harm or crisis behaviour (the brief's red row).
# A policy that lets one of them grade lower would silently stop crisis warnings.
MUST_BE_RED: tuple[tuple[str, str, str], ...] = (
    (N_("a screening safety item"), "screening", "safety"),
    (N_("an acute ASQ positive"), "screening", "asq_acute"),
    (N_("a concern report of suicidal talk"), "concern_report", "concern:suicidal_talk"),
    (N_("a concern report of self-harm"), "concern_report", "concern:self_harm"),
    (N_("a concern report of crisis behaviour"), "concern_report", "concern:crisis_behaviour"),
)


def institution_policy_from_yaml_text(text: str) -> Policy:
    """A policy an institution may store and run: valid, and grading every crisis red.

    The engine itself accepts any well-formed policy (tests exercise partial ones); only what an
    administrator saves, simulates or activates must pass the safety check.
    """
    policy = policy_from_yaml_text(text)
    problems = safety_problems(policy)
    if problems:
        raise PolicyError(problems)
    return policy


def safety_problems(policy: Policy) -> list[Message]:
    """Why ``policy`` would let a crisis go unflagged or lapse; empty when it is safe."""
    problems = [
        Message(
            N_("rules: %(evidence)s (flag %(flag)s) must grade red; add a red rule for it"),
            evidence=Message(what),
            flag=flag,
        )
        for what, source, flag in MUST_BE_RED
        if implied_level(
            policy, SignalEvidence(0, source, datetime(2000, 1, 1), flags=frozenset({flag}))
        )
        != Level.RED
    ]
    if policy.expiry_days.get(Level.RED) is not None:
        problems.append(Message(N_("expiry_days.red: must be null; red never lapses by itself")))
    return problems


# The level words of the policy pages, for the Messages below.
LEVEL_WORDS = {Level.BLUE: N_("Blue"), Level.YELLOW: N_("Yellow"), Level.RED: N_("Red")}


def range_overlaps(policy: Policy) -> list[Message]:
    """Pairs of rules at different levels whose total ranges on one instrument meet, each saying
    where and which level wins. Legal (a signal takes the highest level of the rules it matches),
    so never a problem; but most often a mistyped boundary, so the draft page warns of it."""
    ranged = [
        r
        for r in policy.rules
        if r.when.instrument and (r.when.total_min is not None or r.when.total_max is not None)
    ]
    found = []
    for n, first in enumerate(ranged):
        for second in ranged[n + 1 :]:
            if first.when.instrument != second.when.instrument or first.level == second.level:
                continue
            low = max(
                _bound(first.when.total_min, -math.inf), _bound(second.when.total_min, -math.inf)
            )
            high = min(
                _bound(first.when.total_max, math.inf), _bound(second.when.total_max, math.inf)
            )
            if low > high:
                continue
            lower, higher = sorted((first, second), key=lambda r: r.level)
            found.append(
                Message(
                    N_(
                        "rules %(lower)s (%(lower_level)s, %(instrument)s %(lower_range)s) and "
                        "%(higher)s (%(higher_level)s, %(instrument)s %(higher_range)s) overlap at "
                        "totals %(overlap)s: a total there gets %(higher_level)s, the higher level"
                    ),
                    lower=lower.key,
                    lower_level=Message(LEVEL_WORDS[lower.level]),
                    lower_range=_range_text(lower.when.total_min, lower.when.total_max),
                    higher=higher.key,
                    higher_level=Message(LEVEL_WORDS[higher.level]),
                    higher_range=_range_text(higher.when.total_min, higher.when.total_max),
                    instrument=instrument_abbreviation(first.when.instrument or ""),
                    overlap=_range_text(
                        None if low == -math.inf else low, None if high == math.inf else high
                    ),
                )
            )
    return found


def _bound(value: float | None, missing: float) -> float:
    return missing if value is None else value


def _range_text(low: float | None, high: float | None) -> str:
    """A total range as the policy means it, inclusive: "8–19", "≥ 20", "≤ 4" or "8"."""

    def number(value: float) -> str:
        return f"{value:g}"

    if low is not None and high is not None:
        return number(low) if low == high else f"{number(low)}–{number(high)}"
    return f"≥ {number(low)}" if low is not None else f"≤ {number(high or 0)}"


def reject_unknown(
    data: Mapping[str, Any], allowed: frozenset[str], where: str, problems: list[Message]
) -> None:
    for key in data:
        if key not in allowed:
            problems.append(
                Message(
                    N_("%(where)s: unknown setting %(setting)s (expected one of %(allowed)s)"),
                    where=where,
                    setting=repr(key),
                    allowed=", ".join(sorted(allowed)),
                )
            )


def parse_choice(value: Any, choices: Sequence[str], where: str, problems: list[Message]) -> Any:
    """``value`` if it is one of ``choices`` (names an engine knows); None and a problem naming
    them otherwise."""
    if isinstance(value, str) and value in choices:
        return value
    problems.append(
        Message(
            N_("%(where)s: unknown value %(value)s (expected one of %(allowed)s)"),
            where=where,
            value=repr(value),
            allowed=", ".join(choices),
        )
    )
    return None


def _reject_duplicate_keys(rules: Iterable[Rule | ConcernRule], problems: list[Message]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            problems.append(
                Message(
                    N_("rule key %(rule)s is used twice; keys name explanations"),
                    rule=repr(rule.key),
                )
            )
        seen.add(rule.key)


def parse_list(
    value: Any,
    where: str,
    parse_item: Callable[[Any, str, list[Message]], Any],
    problems: list[Message],
    required: bool = False,
) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        key = N_("%(where)s: required, a non-empty list") if required else N_("%(where)s: a list")
        problems.append(Message(key, where=where))
        return []
    parsed = [parse_item(item, f"{where}[{i}]", problems) for i, item in enumerate(value)]
    return [p for p in parsed if p is not None]


def parse_level(value: Any, where: str, problems: list[Message]) -> Level | None:
    try:
        level = Level.from_code(value) if isinstance(value, str) else None
    except ValueError:
        level = None
    if level is None or level == Level.NONE:
        problems.append(
            Message(
                N_("%(where)s: unknown level %(value)s (expected blue, yellow or red)"),
                where=where,
                value=repr(value),
            )
        )
        return None
    return level


def _parse_rule(value: Any, where: str, problems: list[Message]) -> Rule | None:
    if not isinstance(value, Mapping):
        problems.append(
            Message(N_("%(where)s: a rule must be a mapping with level and when"), where=where)
        )
        return None
    reject_unknown(value, _RULE_KEYS, where, problems)
    level = parse_level(value.get("level"), f"{where}.level", problems)
    when = _parse_condition(value.get("when"), f"{where}.when", problems)
    if level is None or when is None:
        return None
    key = value.get("key") or _derived_key(when)
    return Rule(key=str(key), level=level, when=when)


def _derived_key(when: Condition) -> str:
    """A stable name for a rule written without ``key``, built from what it tests."""
    return ",".join(f"{k}={v}" for k, v in sorted(when.to_mapping().items()))


def _parse_condition(value: Any, where: str, problems: list[Message]) -> Condition | None:
    if not isinstance(value, Mapping) or not value:
        problems.append(Message(N_("%(where)s: required, a mapping of conditions"), where=where))
        return None
    count = len(problems)
    reject_unknown(value, _CONDITION_KEYS, where, problems)
    texts = {
        name: _parse_text(value.get(name), f"{where}.{name}", problems)
        for name in ("flag", "flag_prefix", "without_flag", "instrument")
    }
    any_flag = _parse_texts(value.get("any_flag"), f"{where}.any_flag", problems)
    sources = _parse_sources(value.get("source"), f"{where}.source", problems, required=False)
    low = _parse_number(value.get("total_min"), f"{where}.total_min", problems)
    high = _parse_number(value.get("total_max"), f"{where}.total_max", problems)
    if (low is not None or high is not None) and texts["instrument"] is None:
        problems.append(
            Message(
                N_("%(where)s: total_min/total_max need an instrument; totals differ by scale"),
                where=where,
            )
        )
    if low is not None and high is not None and low > high:
        problems.append(
            Message(
                N_("%(where)s: total_min %(low)s is above total_max %(high)s"),
                where=where,
                low=low,
                high=high,
            )
        )
    if len(problems) > count:
        return None
    return Condition(any_flag=any_flag, sources=sources, total_min=low, total_max=high, **texts)


def _parse_aggregate(value: Any, where: str, problems: list[Message]) -> ConcernRule | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("when"), Mapping):
        problems.append(
            Message(
                N_("%(where)s: an aggregate rule must be a mapping with level and when"),
                where=where,
            )
        )
        return None
    reject_unknown(value, _RULE_KEYS, where, problems)
    when = value["when"]
    reject_unknown(when, _AGGREGATE_KEYS, f"{where}.when", problems)
    level = parse_level(value.get("level"), f"{where}.level", problems)
    reports = parse_int(
        when.get("concern_reports_min"), f"{where}.when.concern_reports_min", problems, 1
    )
    days = _parse_days(when.get("within_days"), f"{where}.when.within_days", problems)
    sources = _parse_sources(
        when.get("sources", ["concern_report", "weekly_report"]), f"{where}.when.sources", problems
    )
    if level is None or reports is None or days is None:
        return None
    key = value.get("key") or f"concern_reports_{reports}_in_{days}_days"
    return ConcernRule(str(key), level, reports, days, sources)


def _parse_expiry(value: Any, problems: list[Message]) -> dict[Level, int | None]:
    if not isinstance(value, Mapping):
        problems.append(
            Message(N_("expiry_days: required, days for blue, yellow and red (null = never)"))
        )
        return {}
    reject_unknown(
        value, frozenset(level.code for level in _EXPIRING_LEVELS), "expiry_days", problems
    )
    expiry: dict[Level, int | None] = {}
    for level in _EXPIRING_LEVELS:
        where = f"expiry_days.{level.code}"
        if level.code not in value:
            problems.append(
                Message(
                    N_("%(where)s: required (a number of days, or null for never)"), where=where
                )
            )
        elif value[level.code] is None:
            expiry[level] = None
        else:
            expiry[level] = _parse_days(value[level.code], where, problems)
    return expiry


def _parse_days(value: Any, where: str, problems: list[Message]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        problems.append(
            Message(
                N_("%(where)s: negative day count %(value)s; must be at least 1"),
                where=where,
                value=value,
            )
        )
        return None
    return parse_int(value, where, problems, 1)


def parse_int(
    value: Any, where: str, problems: list[Message], minimum: int, maximum: int | None = None
) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(Message(N_("%(where)s: required, a whole number"), where=where))
        return None
    if value < minimum or (maximum is not None and value > maximum):
        problems.append(_out_of_range(where, value, minimum, maximum))
        return None
    return value


def parse_hours(
    value: Any, where: str, problems: list[Message], minimum: float, maximum: float
) -> timedelta | None:
    """A number of hours, whole or with a fraction (0.5: thirty minutes), of whole minutes
    between `minimum` and `maximum`: "acknowledge within 30 minutes" is a window a campus sets."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        problems.append(
            Message(N_("%(where)s: required, a number of hours (0.5 is 30 minutes)"), where=where)
        )
        return None
    if value < minimum or value > maximum:
        problems.append(
            Message(
                N_(
                    "%(where)s: %(value)s is out of range; must be between %(minimum)s and "
                    "%(maximum)s"
                ),
                where=where,
                value=value,
                minimum=minimum,
                maximum=maximum,
            )
        )
        return None
    minutes = value * 60
    if abs(minutes - round(minutes)) > 1e-9:
        problems.append(
            Message(
                N_("%(where)s: %(value)s hours is not a whole number of minutes"),
                where=where,
                value=value,
            )
        )
        return None
    return timedelta(minutes=round(minutes))


def _out_of_range(where: str, value: int, minimum: int, maximum: int | None) -> Message:
    if maximum is None:
        return Message(
            N_("%(where)s: %(value)s is out of range; must be at least %(minimum)s"),
            where=where,
            value=value,
            minimum=minimum,
        )
    return Message(
        N_("%(where)s: %(value)s is out of range; must be between %(minimum)s and %(maximum)s"),
        where=where,
        value=value,
        minimum=minimum,
        maximum=maximum,
    )


def _parse_number(value: Any, where: str, problems: list[Message]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Message(N_("%(where)s: a number"), where=where))
        return None
    return float(value)


def _parse_text(value: Any, where: str, problems: list[Message]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(Message(N_("%(where)s: a non-empty text"), where=where))
        return None
    return value


def _parse_texts(value: Any, where: str, problems: list[Message]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(Message(N_("%(where)s: a non-empty list of texts"), where=where))
        return ()
    return tuple(value)


def _parse_sources(
    value: Any, where: str, problems: list[Message], required: bool = True
) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        problems.append(
            Message(N_("%(where)s: required, a source or a list of sources"), where=where)
        )
        return ()
    unknown = [s for s in items if s not in SOURCES]
    if unknown:
        problems.append(
            Message(
                N_("%(where)s: unknown source %(unknown)s (expected some of %(sources)s)"),
                where=where,
                unknown=repr(unknown),
                sources=", ".join(SOURCES),
            )
        )
        return ()
    return tuple(items)


# --------------------------------------------------------------------------------------------------
# Triage
# --------------------------------------------------------------------------------------------------


class _Graded(NamedTuple):
    """An active signal with the level it implies and the rule (text key) that gave it."""

    signal: SignalEvidence
    level: Level
    text_key: str


def implied_level(policy: Policy, signal: SignalEvidence) -> Level:
    """The level ``signal`` implies by itself; stored on the signal record when it is created."""
    return _grade(policy, signal)[0]


def _grade(policy: Policy, signal: SignalEvidence) -> tuple[Level, str]:
    """The highest level any rule (or the explicit level) gives ``signal``, and which one gave it.

    An explicit level can raise but never lower what the rules say: evidence only adds risk, and
    lowering a level is an audited ``Override``.
    """
    best, text_key = Level.NONE, ""
    for rule in policy.rules:
        if rule.level > best and rule.when.matches(signal):
            best, text_key = rule.level, rule.text_key
    if signal.explicit_level is not None and signal.explicit_level > best:
        best, text_key = signal.explicit_level, "triage.explicit_level"
    return best, text_key


def triage(
    policy: Policy,
    signals: Iterable[SignalEvidence],
    now: datetime,
    *,
    closed_before: datetime | None = None,
    override: Override | None = None,
) -> Triage:
    """A student's warning level at ``now`` from all their signals, with the reasons deciding it.

    Signals observed at or before ``closed_before`` (the last time a school counsellor closed the
    student's warning) are resolved. A signal dated after ``now`` still counts: clock skew between
    hosts must never hide a fresh red signal.
    """
    signals = tuple(signals)
    unresolved = [s for s in signals if closed_before is None or s.observed_at > closed_before]
    computed = _compute(policy, unresolved, now)
    if override is None:
        return computed
    return _apply_override(computed, override, signals)


def _compute(policy: Policy, unresolved: list[SignalEvidence], now: datetime) -> Triage:
    graded = [
        _Graded(s, level, key)
        for s in unresolved
        for level, key in [_grade(policy, s)]
        if policy.is_live(level, s.observed_at, now)
    ]
    direct = max((g.level for g in graded), default=Level.NONE)
    findings = _concern_findings(policy, unresolved, now)
    aggregate = max((rule.level for rule, _ in findings), default=Level.NONE)
    key_groups = [g for g in graded if policy.key_group_when.matches(g.signal)]
    screening = [g for g in graded if g.signal.source in policy.raise_sources]
    screening_level = max((g.level for g in screening), default=Level.NONE)
    raised = Level.NONE
    if key_groups and screening_level > Level.NONE:
        raised = Level(min(Level.RED, screening_level + policy.key_group_raise))
    base = max(direct, aggregate)
    level = max(base, raised)
    if raised > base:
        decided = [g for g in screening if g.level == screening_level]
        reasons = _raise_reasons(level, decided, key_groups)
    else:
        reasons = _direct_reasons(level, graded) + _aggregate_reasons(level, findings)
    return Triage(
        level, reasons, policy.version, computed_level=level, raised_by_key_group=raised > base
    )


def _concern_findings(
    policy: Policy, unresolved: list[SignalEvidence], now: datetime
) -> list[tuple[ConcernRule, tuple[SignalEvidence, ...]]]:
    """Active aggregate findings, each with the concern reports in its latest qualifying window.

    The finding dates from the report that completed the window and expires like any signal of its
    level, so it outlives the (milder) reports that make it up.
    """
    findings = []
    for rule in policy.aggregate_rules:
        reports = sorted((s for s in unresolved if s.source in rule.sources), key=_by_time)
        k = rule.reports_min - 1
        ends = [
            reports[i].observed_at
            for i in range(k, len(reports))
            if reports[i].observed_at - reports[i - k].observed_at <= rule.window
        ]
        if ends and policy.is_live(rule.level, ends[-1], now):
            members = tuple(
                r for r in reports if ends[-1] - rule.window <= r.observed_at <= ends[-1]
            )
            findings.append((rule, members))
    return findings


def _by_time(signal: SignalEvidence) -> tuple[datetime, int]:
    return signal.observed_at, signal.id


def _newest_first(graded: Iterable[_Graded]) -> list[_Graded]:
    return sorted(graded, key=lambda g: _by_time(g.signal), reverse=True)


def _direct_reasons(level: Level, graded: list[_Graded]) -> tuple[Reason, ...]:
    return tuple(
        Reason((g.signal.id,), level, g.text_key, f"{level.code}: {g.signal.label}")
        for g in _newest_first(g for g in graded if g.level == level)
    )


def _aggregate_reasons(
    level: Level, findings: list[tuple[ConcernRule, tuple[SignalEvidence, ...]]]
) -> tuple[Reason, ...]:
    return tuple(
        Reason(
            tuple(r.id for r in members),
            level,
            rule.text_key,
            f"{level.code}: {len(members)} concern reports within {rule.within_days} days "
            f"({'; '.join(r.label for r in members)})",
        )
        for rule, members in findings
        if rule.level == level
    )


def _raise_reasons(
    level: Level, screening: list[_Graded], key_groups: list[_Graded]
) -> tuple[Reason, ...]:
    raised = tuple(
        Reason(
            (g.signal.id,),
            level,
            "triage.key_group_raise",
            f"{level.code}: {g.signal.label} (raised from {g.level.code} by a key group)",
        )
        for g in _newest_first(screening)
    )
    groups = tuple(
        Reason(
            (g.signal.id,), level, "triage.key_group", f"{level.code}: key group, {g.signal.label}"
        )
        for g in _newest_first(key_groups)
    )
    return raised + groups


def _apply_override(
    computed: Triage, override: Override, signals: tuple[SignalEvidence, ...]
) -> Triage:
    """The override's level, unless newer evidence than the override decides a higher level.

    An override judges the evidence the counsellor saw; a later suicide-risk answer must not be
    silenced by an earlier downgrade, so such evidence lapses the override (and says so).
    """
    newer = {s.id for s in signals if s.observed_at > override.at}
    deciding = {i for reason in computed.reasons for i in reason.signal_ids}
    # Who and when are on the warning's timeline; a user id here was read out to counsellors.
    stamp = f"set by a counsellor: {override.reason}"
    if computed.level > override.level and deciding & newer:
        lapse = Reason(
            (),
            override.level,
            "triage.override_lapsed",
            f"{override.level.code}: {stamp} (lapsed: newer evidence is {computed.level.code})",
        )
        return replace(computed, reasons=(*computed.reasons, lapse))
    note = Reason(
        (),
        override.level,
        "triage.override",
        f"{override.level.code}: {stamp} (computed: {computed.level.code})",
    )
    return replace(
        computed, level=override.level, reasons=(note, *computed.reasons), overridden=True
    )
