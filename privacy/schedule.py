"""The retention schedule: how long each kind of record is kept, and what happens after.

A schedule is a YAML file (`privacy/retention/default.yaml`, or an institution's own
`<RETENTION_DIR>/<institution code>.yaml`), read strictly like the triage policy and the interview
rules: an unknown key, a record type no domain registered, a clock or action the record type does
not allow, or a missing version is an error naming the line, so a typo can never silently keep
(or delete) a student's records. Start-up checks every file in the directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).with_name("retention") / "default.yaml"
CLOCKS = ("left", "closed", "created")
ACTIONS = ("delete", "anonymise")
_TOP_KEYS = {"version", "record_types"}
_RULE_KEYS = {"from", "years", "action"}


class ScheduleError(ValueError):
    """A schedule that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """One record type's line: the clock, how many years, and the action after."""

    clock: str
    years: int
    action: str


@dataclass(frozen=True)
class Schedule:
    version: str
    rules: Mapping[str, Rule]


def parse(text: str, allowed: Mapping[str, tuple[frozenset[str], frozenset[str]]]) -> Schedule:
    """Read a schedule; `allowed` is {record type: (clocks, actions)} of the registered types.

    Every problem is collected before raising, so one start-up names them all."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScheduleError([f"not YAML: {error}"]) from error
    if not isinstance(data, dict):
        raise ScheduleError(["a schedule is a mapping with 'version' and 'record_types'"])
    problems = [f"unknown key {key!r}" for key in sorted(set(data) - _TOP_KEYS, key=str)]
    version = data.get("version")
    if not isinstance(version, str | int | float) or not str(version).strip():
        problems.append("'version' is missing")
    types = data.get("record_types")
    rules: dict[str, Rule] = {}
    if not isinstance(types, dict):
        problems.append("'record_types' must be a mapping of record type to its rule")
        types = {}
    for name, line in types.items():
        rule = _rule(str(name), line, allowed, problems)
        if rule is not None:
            rules[str(name)] = rule
    if problems:
        raise ScheduleError(problems)
    return Schedule(str(version), rules)


def _rule(
    name: str,
    line: Any,
    allowed: Mapping[str, tuple[frozenset[str], frozenset[str]]],
    problems: list[str],
) -> Rule | None:
    if name not in allowed:
        problems.append(f"{name}: no domain registered this record type")
        return None
    if not isinstance(line, dict):
        problems.append(f"{name}: a rule is a mapping with 'from', 'years' and 'action'")
        return None
    before = len(problems)
    problems.extend(f"{name}: unknown key {k!r}" for k in sorted(set(line) - _RULE_KEYS, key=str))
    clocks, actions = allowed[name]
    clock, years, action = line.get("from"), line.get("years"), line.get("action")
    if clock not in clocks:
        problems.append(f"{name}: 'from' must be one of {', '.join(sorted(clocks))}")
    if isinstance(years, bool) or not isinstance(years, int) or not 0 < years <= 100:
        problems.append(f"{name}: 'years' must be a whole number from 1 to 100")
        years = 0
    if action not in actions:
        problems.append(f"{name}: 'action' must be one of {', '.join(sorted(actions))}")
    if len(problems) > before:
        return None
    return Rule(str(clock), years, str(action))


def merged(default: Schedule, own: Schedule) -> Schedule:
    """An institution's schedule over the default: its lines win, the others stay."""
    return Schedule(f"{default.version}+{own.version}", {**default.rules, **own.rules})


def schedule_for(
    code: str | None,
    directory: str | None,
    allowed: Mapping[str, tuple[frozenset[str], frozenset[str]]],
) -> Schedule:
    """The schedule of an institution: its own file over the default, or the default alone."""
    default = parse(DEFAULT_FILE.read_text(encoding="utf-8"), allowed)
    if code and directory:
        own_file = Path(directory) / f"{code}.yaml"
        if own_file.is_file():
            return merged(default, parse(own_file.read_text(encoding="utf-8"), allowed))
    return default


def check_dir(
    directory: str | None, allowed: Mapping[str, tuple[frozenset[str], frozenset[str]]]
) -> None:
    """Read the default and every institution file at start-up: a bad file stops the app with
    its problems named, never a purge that deletes by a schedule nobody meant."""
    parse(DEFAULT_FILE.read_text(encoding="utf-8"), allowed)
    if not directory:
        return
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            parse(path.read_text(encoding="utf-8"), allowed)
        except ScheduleError as error:
            raise ScheduleError([f"{path.name}: {p}" for p in error.problems]) from error
