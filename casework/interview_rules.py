"""The interview rule set: which screening results put a student on the interview list.

A rule set is a YAML file (`casework/interview_rules/default.yaml`, or an institution's own
`<INTERVIEW_RULES_DIR>/<institution code>.yaml`), read strictly: an unknown key, an instrument,
band or flag no instrument definition declares, or a missing version is an error naming the rule,
so a typo can never silently drop students from the list. Instrument, band and flag names are
checked against the instrument definitions, never kept here.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from campus.i18n import N_
from campus.i18n import Message
from screening import vocabulary
from screening.instruments import UnknownInstrument
from screening.instruments import list_instruments
from screening.instruments import load_instrument
from warning import labels
from warning.labels import Label
from warning.policy import Level

DEFAULT_FILE = Path(__file__).with_name("interview_rules") / "default.yaml"
TIERS = ("school", "department")
DEADLINES = ("campaign", "warning")
LEVELS = {"red": Level.RED, "yellow": Level.YELLOW, "blue": Level.BLUE}
_TOP_KEYS = {"version", "deadline_days", "reminder_days", "warning_deadline_kind", "rules"}
_RULE_KEYS = {"name", "when", "tier", "deadline"}
_CONDITION_KEYS = ({"level"}, {"instrument", "band"}, {"flag"}, {"safety"})


class InterviewRulesError(ValueError):
    """A rule set that cannot be used; `problems` lists every reason, as messages."""

    def __init__(self, problems: list[Message]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Finding:
    """What a rule looks at in one scored result: its instrument, band, flags and the level the
    triage policy implies for it alone."""

    instrument: str
    band: str | None
    flags: frozenset[str]
    level: int


@dataclass(frozen=True)
class Rule:
    name: str
    tier: str
    deadline: str
    level: int | None = None
    instrument: str | None = None
    band: str | None = None
    flag: str | None = None
    safety: bool = False

    def matches(self, finding: Finding) -> bool:
        if self.level is not None:
            return finding.level == self.level
        if self.band is not None:
            return finding.instrument == self.instrument and finding.band == self.band
        if self.flag is not None:
            return self.flag in finding.flags
        return self.safety and vocabulary.has_safety_flag(finding.flags)

    def reason(self, finding: Finding) -> Label:
        """Why the student is listed, as a label staff read in their language (no scores)."""
        abbreviation = vocabulary.instrument_abbreviation(finding.instrument)
        if self.level is not None:
            return Label(
                N_("%(instrument)s result at %(level)s level"),
                {"instrument": abbreviation, "level": labels.level_word(Level(self.level).code)},
            )
        if self.band is not None:
            band = labels.BAND_WORDS.get(self.band, self.band)
            return Label(
                N_("%(instrument)s %(band)s"),
                {"instrument": abbreviation, "band": labels.word(band)},
            )
        if self.flag is not None:
            flag = labels.FLAG_WORDS.get(self.flag, self.flag)
            return Label(N_("%(flag)s"), {"flag": labels.word(flag)})
        return Label(N_("safety answer on %(instrument)s"), {"instrument": abbreviation})


@dataclass(frozen=True)
class RuleSet:
    version: str
    deadline_days: int
    reminder_days: int
    warning_deadline_kind: str
    rules: tuple[Rule, ...]
    text: str

    def matched(self, finding: Finding) -> list[Rule]:
        return [rule for rule in self.rules if rule.matches(finding)]


def parse(text: str) -> RuleSet:
    """The rule set in `text`; `InterviewRulesError` listing every problem otherwise."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InterviewRulesError(
            [Message(N_("The rule set is not valid YAML: %(error)s"), error=str(exc))]
        ) from None
    if not isinstance(data, Mapping):
        raise InterviewRulesError([Message(N_("The rule set must be a mapping of settings."))])
    problems: list[Message] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(Message(N_("Unknown setting '%(key)s'."), key=str(key)))
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(Message(N_("The rule set needs a version (text).")))
    deadline_days = _whole(data.get("deadline_days", 14), "deadline_days", 1, 120, problems)
    reminder_days = _whole(data.get("reminder_days", 3), "reminder_days", 0, 30, problems)
    kind = data.get("warning_deadline_kind", "assessment")
    if not isinstance(kind, str) or not kind:
        problems.append(Message(N_("warning_deadline_kind must be a deadline kind.")))
    raw_rules = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(Message(N_("The rule set needs a non-empty list of rules.")))
    else:
        for number, raw in enumerate(raw_rules, start=1):
            rule = _rule(raw, number, problems)
            if rule is not None:
                rules.append(rule)
        names = [r.name for r in rules]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(Message(N_("Two rules are named '%(name)s'."), name=name))
    if problems:
        raise InterviewRulesError(problems)
    return RuleSet(
        str(version).strip(), deadline_days, reminder_days, str(kind), tuple(rules), text
    )


def _whole(value: Any, key: str, low: int, high: int, problems: list[Message]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            Message(
                N_("%(key)s must be a whole number from %(low)s to %(high)s."),
                key=key,
                low=low,
                high=high,
            )
        )
        return low
    return value


def _rule(raw: Any, number: int, problems: list[Message]) -> Rule | None:
    where = f"#{number}"
    if not isinstance(raw, Mapping):
        problems.append(Message(N_("Rule %(rule)s must be a mapping."), rule=where))
        return None
    name = raw.get("name")
    if isinstance(name, str) and name:
        where = name
    else:
        problems.append(Message(N_("Rule %(rule)s needs a name."), rule=where))
    start = len(problems)
    for key in sorted(set(raw) - _RULE_KEYS):
        problems.append(
            Message(N_("Rule %(rule)s: unknown key '%(key)s'."), rule=where, key=str(key))
        )
    tier = raw.get("tier", "school")
    if tier not in TIERS:
        problems.append(
            Message(N_("Rule %(rule)s: tier must be school or department."), rule=where)
        )
    deadline = raw.get("deadline", "campaign")
    if deadline not in DEADLINES:
        problems.append(
            Message(N_("Rule %(rule)s: deadline must be campaign or warning."), rule=where)
        )
    condition = _condition(raw.get("when"), where, problems)
    if condition is None or len(problems) > start or not isinstance(name, str) or not name:
        return None
    return Rule(name=name, tier=str(tier), deadline=str(deadline), **condition)


def _condition(when: Any, where: str, problems: list[Message]) -> dict[str, Any] | None:
    if not isinstance(when, Mapping) or set(when) not in _CONDITION_KEYS:
        problems.append(
            Message(
                N_(
                    "Rule %(rule)s: 'when' must be one of {level}, {instrument, band}, {flag} "
                    "or {safety: true}."
                ),
                rule=where,
            )
        )
        return None
    if "level" in when:
        if when["level"] not in LEVELS:
            problems.append(
                Message(N_("Rule %(rule)s: level must be red, yellow or blue."), rule=where)
            )
            return None
        return {"level": int(LEVELS[when["level"]])}
    if "band" in when:
        return _band(str(when["instrument"]), str(when["band"]), where, problems)
    if "flag" in when:
        if str(when["flag"]) not in declared_flags():
            problems.append(
                Message(
                    N_("Rule %(rule)s: no instrument declares the flag '%(flag)s'."),
                    rule=where,
                    flag=str(when["flag"]),
                )
            )
            return None
        return {"flag": str(when["flag"])}
    if when["safety"] is not True:
        problems.append(Message(N_("Rule %(rule)s: safety can only be true."), rule=where))
        return None
    return {"safety": True}


def _band(code: str, band: str, where: str, problems: list[Message]) -> dict[str, Any] | None:
    try:
        bands = {b.code for b in load_instrument(code).bands}
    except UnknownInstrument:
        problems.append(
            Message(N_("Rule %(rule)s: unknown instrument '%(code)s'."), rule=where, code=code)
        )
        return None
    if band not in bands:
        problems.append(
            Message(
                N_("Rule %(rule)s: %(code)s has no band '%(band)s' (it has %(bands)s)."),
                rule=where,
                code=code,
                band=band,
                bands=", ".join(sorted(bands)),
            )
        )
        return None
    return {"instrument": code, "band": band}


@lru_cache(maxsize=1)
def declared_flags() -> frozenset[str]:
    """Every flag an instrument definition declares, by a rule or a band."""
    names: set[str] = set()
    for code in list_instruments():
        inst = load_instrument(code)
        names.update(rule.name for rule in inst.flags)
        names.update(flag for band in inst.bands for flag in band.flags)
    return frozenset(names)


@lru_cache(maxsize=32)
def _parsed(text: str) -> RuleSet:
    return parse(text)


def default_rules() -> RuleSet:
    return _parsed(DEFAULT_FILE.read_text(encoding="utf-8"))


def rules_for(institution_code: str, rules_dir: str | None) -> RuleSet:
    """The institution's own rule set when its file exists in `rules_dir`, else the default."""
    if rules_dir:
        own = Path(rules_dir) / f"{institution_code}.yaml"
        if own.is_file():
            return _parsed(own.read_text(encoding="utf-8"))
    return default_rules()


def check_dir(rules_dir: str | None) -> None:
    """Parse every institution's rule set in `rules_dir` now, so a bad file stops the app from
    starting instead of failing a student's submission later; `InterviewRulesError` names the
    file and every problem."""
    if not rules_dir:
        return
    for path in sorted(Path(rules_dir).glob("*.yaml")):
        try:
            _parsed(path.read_text(encoding="utf-8"))
        except InterviewRulesError as exc:
            raise InterviewRulesError(
                [
                    Message(N_("In %(file)s: %(problem)s"), file=path.name, problem=p)
                    for p in exc.problems
                ]
            ) from None


def stored(text: str) -> RuleSet:
    """A rule set a campaign recorded (already validated when first used)."""
    return _parsed(text)


def tier_of(rules: Iterable[Rule]) -> str:
    """School when any rule met is school tier; department only when all of them are."""
    return "department" if all(r.tier == "department" for r in rules) else "school"
