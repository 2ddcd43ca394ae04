"""The response policy as data: per warning level, the owner tier, the first-response deadlines,
the follow-up cadence and who is told.

It is a versioned YAML file beside the triage policy (``policies/response_default.yaml``), read with
the triage policy's YAML and validation helpers and stored, simulated and activated per institution
the same way, so a campus with other windows or owners changes a file, not code. Every deadline
records the version whose window set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import is_dataclass
from datetime import timedelta
from functools import cache
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.i18n import N_
from campus.i18n import Message
from warning.models import OwnerTier
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.policy import Level
from warning.policy import PolicyError
from warning.policy import parse_choice
from warning.policy import parse_hours
from warning.policy import parse_int
from warning.policy import parse_list
from warning.policy import parse_version
from warning.policy import reject_unknown
from warning.policy import yaml_data

DEFAULT_RESPONSE_POLICY_PATH = Path(__file__).parent / "policies" / "response_default.yaml"
# The versions the shipped default had before (2026.1: a red's peer watch owed by the class, given
# to classmates the minute the red was set). Deadlines set under them still name them, so no
# campus's own policy may take one of these names.
EARLIER_DEFAULT_VERSIONS = ("response-default-2026.1",)
# What the intervention actions know how to meet; a policy may use any of them at any level.
DEADLINE_KINDS = (
    "acknowledge",
    "assessment",
    "guardian_notified",
    "peer_watch",
    "contact",
    "check_in",
)
# Each kind's name in words (translated where it is shown).
DEADLINE_NAMES = {
    "acknowledge": N_("Acknowledge"),
    "assessment": N_("Professional assessment"),
    "guardian_notified": N_("Notify the guardian"),
    "peer_watch": N_("Arrange the peer watch"),
    "contact": N_("Contact the student"),
    "check_in": N_("Check in with the student"),
    "follow_up": N_("Follow-up contact"),
}
LEVELS = (Level.RED, Level.YELLOW, Level.BLUE)
_TOP_KEYS = frozenset(
    {"version", "levels", "leadership_reminder_hours", "discharge_follow_up_hours"}
)
_LEVEL_KEYS = frozenset(
    {"owner", "deadlines", "follow_up_days", "notify", "notify_department_leader"}
)
_DEADLINE_KEYS = frozenset({"kind", "within_hours", "tier"})
_TIER_NAMES = tuple(tier.name.lower() for tier in OwnerTier)
# A window may be a fraction of an hour in whole minutes ("acknowledge within 30 minutes":
# within_hours: 0.5), at least a quarter of an hour: the sweep runs every minute, and a shorter
# window is no time to respond in.
MIN_WINDOW_HOURS = 0.25
MAX_WINDOW_HOURS = 24 * 90
MAX_FOLLOW_UP_DAYS = 365
# A warning left waiting at school leadership is passed on there at each missed window; its note
# is raised each time and mailed again only this often (a policy without the key: 4 hours).
DEFAULT_LEADERSHIP_REMINDER_HOURS = 4
# At least the hour a red's acknowledgement is passed on in; at most a day, so a warning waiting
# at the top is never left unmailed overnight and through the next day.
MIN_LEADERSHIP_REMINDER_HOURS = 1
MAX_LEADERSHIP_REMINDER_HOURS = 24
# After a hospital discharge the risk is highest: the centre's follow-up contact is brought
# forward to within this many hours (a policy without the key: 48), never later than planned.
DEFAULT_DISCHARGE_FOLLOW_UP_HOURS = 48
MIN_DISCHARGE_FOLLOW_UP_HOURS = 1
MAX_DISCHARGE_FOLLOW_UP_HOURS = 168


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    within: timedelta
    tier: OwnerTier  # the tier that owes it


@dataclass(frozen=True)
class LevelResponse:
    owner: OwnerTier
    deadlines: tuple[DeadlineRule, ...]
    follow_up_every: timedelta
    notify_tiers: tuple[OwnerTier, ...]
    # Red also tells the department leader; the school centre owns the case.
    notify_department_leader: bool = False

    def window(self, kind: str) -> timedelta:
        """How long a deadline of `kind` gives (follow-ups and unknown kinds: the cadence)."""
        return next((r.within for r in self.deadlines if r.kind == kind), self.follow_up_every)


@dataclass(frozen=True)
class ResponsePolicy:
    """A complete, validated response policy; one response for each of red, yellow and blue."""

    version: str
    levels: Mapping[Level, LevelResponse] = field(hash=False)
    # How often school leadership is mailed again about a warning still waiting at the top.
    leadership_reminder_every: timedelta = timedelta(hours=DEFAULT_LEADERSHIP_REMINDER_HOURS)
    # How soon the follow-up contact is due after the hospital reports a discharge.
    discharge_follow_up_within: timedelta = timedelta(hours=DEFAULT_DISCHARGE_FOLLOW_UP_HOURS)

    def for_level(self, level: int) -> LevelResponse:
        """The response owed at `level`; levels outside blue..red take the nearest one."""
        return self.levels[Level(max(Level.BLUE, min(Level.RED, level)))]

    def first_response_levels(self) -> dict[str, Level]:
        """Each first-response deadline kind and the (highest) level whose response owes it."""
        return {rule.kind: level for level in LEVELS[::-1] for rule in self.levels[level].deadlines}


@dataclass(frozen=True)
class SettingChange:
    """One setting a draft changes: `setting` is the field's name (of `ResponsePolicy`, or of a
    level's `LevelResponse` when `level` is set), `now` and `draft` its two values."""

    level: Level | None
    setting: str
    now: object
    draft: object


def setting_changes(active: ResponsePolicy, draft: ResponsePolicy) -> list[SettingChange]:
    """Every setting `draft` changes from `active`, whole policy first, then red to blue: the two
    parsed policies are compared field by field (all but the version), so a setting added to the
    policy later is compared as soon as it is parsed, without being named here."""
    found: list[SettingChange] = []

    def compare(now: object, then: object, level: Level | None, setting: str) -> None:
        if is_dataclass(now) and not isinstance(now, type):
            for f in fields(now):
                if f.name != "version":
                    compare(getattr(now, f.name), getattr(then, f.name), level, f.name)
        elif isinstance(now, Mapping) and isinstance(then, Mapping):
            for key in sorted(now.keys() | then.keys(), reverse=True):
                compare(now.get(key), then.get(key), key, setting)
        elif now != then:
            found.append(SettingChange(level, setting, now, then))

    compare(active, draft, None, "")
    return sorted(found, key=lambda c: (c.level is not None, -(c.level or 0)))


def response_policy_from_yaml_text(text: str) -> ResponsePolicy:
    """A response policy from YAML text (a file or an administrator's draft); PolicyError lists
    every problem."""
    data = yaml_data(text)
    if not isinstance(data, Mapping):
        raise PolicyError([Message(N_("the policy must be a mapping of settings"))])
    problems: list[Message] = []
    reject_unknown(data, _TOP_KEYS, "policy", problems)
    version = parse_version(data, problems)
    levels = data.get("levels")
    if not isinstance(levels, Mapping):
        problems.append(Message(N_("levels: required, a response for red, yellow and blue")))
        levels = {}
    reject_unknown(levels, frozenset(level.code for level in LEVELS), "levels", problems)
    parsed = {level: _parse_level_response(levels, level, problems) for level in LEVELS}
    reminder = parse_int(
        data.get("leadership_reminder_hours", DEFAULT_LEADERSHIP_REMINDER_HOURS),
        "leadership_reminder_hours",
        problems,
        MIN_LEADERSHIP_REMINDER_HOURS,
        MAX_LEADERSHIP_REMINDER_HOURS,
    )
    discharge = parse_int(
        data.get("discharge_follow_up_hours", DEFAULT_DISCHARGE_FOLLOW_UP_HOURS),
        "discharge_follow_up_hours",
        problems,
        MIN_DISCHARGE_FOLLOW_UP_HOURS,
        MAX_DISCHARGE_FOLLOW_UP_HOURS,
    )
    if problems:
        raise PolicyError(problems)
    # A level's parser gives None only with a problem, refused above: every level is here.
    complete = {level: response for level, response in parsed.items() if response is not None}
    assert len(complete) == len(LEVELS)
    assert reminder is not None  # refused above when out of range
    assert discharge is not None
    return ResponsePolicy(
        version=version,
        levels=complete,
        leadership_reminder_every=timedelta(hours=reminder),
        discharge_follow_up_within=timedelta(hours=discharge),
    )


@cache
def default_response_policy() -> ResponsePolicy:
    """The shipped default (the brief's table), parsed once per process."""
    return response_policy_from_yaml_text(default_response_yaml())


def default_response_yaml() -> str:
    return DEFAULT_RESPONSE_POLICY_PATH.read_text(encoding="utf-8")


@lru_cache(maxsize=32)
def _parsed(yaml_text: str) -> ResponsePolicy:
    return response_policy_from_yaml_text(yaml_text)


def active_response_policies(
    session: Session, institution_ids: set[int]
) -> dict[int, ResponsePolicy]:
    """Each institution's active response policy (the default where none was activated), in one
    query whatever the number of institutions."""
    stored = dict(
        session.execute(
            select(PolicyVersion.institution_id, PolicyVersion.yaml_text).where(
                PolicyVersion.institution_id.in_(institution_ids),
                PolicyVersion.kind == PolicyKind.RESPONSE,
                PolicyVersion.status == PolicyStatus.ACTIVE,
            )
        )
        .tuples()
        .all()
    )
    return {
        i: _parsed(stored[i]) if i in stored else default_response_policy() for i in institution_ids
    }


def active_response_policy(session: Session, institution_id: int) -> ResponsePolicy:
    """The institution's active response policy, or the shipped default."""
    return active_response_policies(session, {institution_id})[institution_id]


@dataclass(frozen=True)
class ResponsePolicies:
    """One institution's response policies: the one in force and every one it has activated
    (in force or retired), by version. A deadline was set by the version it records: one of
    these, or the shipped default under one of its names; one recording none (set before
    deadlines did) or a version no longer readable is read by the policy in force."""

    active: ResponsePolicy
    by_version: Mapping[str, ResponsePolicy] = field(hash=False)

    @staticmethod
    def default_versions() -> tuple[str, ...]:
        """The names a deadline set by the shipped default records."""
        return (default_response_policy().version, *EARLIER_DEFAULT_VERSIONS)


def response_policies(session: Session, institution_ids: set[int]) -> dict[int, ResponsePolicies]:
    """Each institution's response policies (the default in force where none was activated), in
    one query whatever the number of institutions. A stored version that no longer parses is left
    out: its deadlines are read by the policy in force."""
    rows = session.execute(
        select(
            PolicyVersion.institution_id,
            PolicyVersion.version,
            PolicyVersion.status,
            PolicyVersion.yaml_text,
        ).where(
            PolicyVersion.institution_id.in_(institution_ids),
            PolicyVersion.kind == PolicyKind.RESPONSE,
            PolicyVersion.status.in_((PolicyStatus.ACTIVE, PolicyStatus.RETIRED)),
        )
    ).tuples()
    versions: dict[int, dict[str, ResponsePolicy]] = {i: {} for i in institution_ids}
    active: dict[int, ResponsePolicy] = {}
    for institution_id, version, status, text in rows:
        try:
            policy = _parsed(text)
        except PolicyError:
            continue
        versions[institution_id][version] = policy
        if status == PolicyStatus.ACTIVE:
            active[institution_id] = policy
    return {
        i: ResponsePolicies(active.get(i, default_response_policy()), versions[i])
        for i in institution_ids
    }


def _parse_level_response(
    levels: Mapping[str, Any], level: Level, problems: list[Message]
) -> LevelResponse | None:
    where = f"levels.{level.code}"
    value = levels.get(level.code)
    if not isinstance(value, Mapping):
        problems.append(
            Message(N_("%(where)s: required, a mapping with owner and deadlines"), where=where)
        )
        return None
    count = len(problems)
    reject_unknown(value, _LEVEL_KEYS, where, problems)
    owner = _parse_tier(value.get("owner"), f"{where}.owner", problems)
    deadlines = parse_list(
        value.get("deadlines"), f"{where}.deadlines", _parse_deadline, problems, required=True
    )
    kinds = [rule.kind for rule in deadlines]
    for kind in sorted({k for k in kinds if kinds.count(k) > 1}):
        problems.append(
            Message(N_("%(where)s: deadline %(kind)s is listed twice"), where=where, kind=kind)
        )
    _check_acknowledged_first(deadlines, where, problems)
    days = parse_int(
        value.get("follow_up_days"), f"{where}.follow_up_days", problems, 1, MAX_FOLLOW_UP_DAYS
    )
    notify = parse_list(
        value.get("notify"), f"{where}.notify", _parse_tier, problems, required=True
    )
    leader = value.get("notify_department_leader", False)
    if not isinstance(leader, bool):
        problems.append(
            Message(N_("%(where)s: true or false"), where=f"{where}.notify_department_leader")
        )
    if len(problems) > count or owner is None or days is None:
        return None
    return LevelResponse(owner, tuple(deadlines), timedelta(days=days), tuple(notify), leader)


def _check_acknowledged_first(
    deadlines: list[DeadlineRule], where: str, problems: list[Message]
) -> None:
    """An acknowledgement due after another first response (acknowledge in 48 hours, the
    assessment in 24) cannot be met as written: whoever assesses has acknowledged. Such a
    policy would escalate warnings whose work was done, so it is refused."""
    acknowledge = next((rule for rule in deadlines if rule.kind == "acknowledge"), None)
    if acknowledge is None:
        return
    for rule in deadlines:
        if rule.within < acknowledge.within:
            problems.append(
                Message(
                    N_(
                        "%(where)s: %(acknowledge)s (acknowledge) is due within %(hours)s hours, "
                        "after %(step)s (%(kind)s, %(other)s hours); a warning is acknowledged "
                        "before anything else"
                    ),
                    where=where,
                    acknowledge=Message(DEADLINE_NAMES["acknowledge"]),
                    hours=_hours(acknowledge.within),
                    step=Message(DEADLINE_NAMES[rule.kind]),
                    kind=rule.kind,
                    other=_hours(rule.within),
                )
            )


def _hours(window: timedelta) -> int | float:
    """A window in hours as a policy writes it: 24, or 0.5 for thirty minutes."""
    hours = window / timedelta(hours=1)
    return int(hours) if hours.is_integer() else round(hours, 2)


def _parse_deadline(value: Any, where: str, problems: list[Message]) -> DeadlineRule | None:
    if not isinstance(value, Mapping):
        problems.append(
            Message(
                N_("%(where)s: a deadline must be a mapping with kind, within_hours and tier"),
                where=where,
            )
        )
        return None
    count = len(problems)
    reject_unknown(value, _DEADLINE_KEYS, where, problems)
    kind = parse_choice(value.get("kind"), DEADLINE_KINDS, f"{where}.kind", problems)
    within = parse_hours(
        value.get("within_hours"),
        f"{where}.within_hours",
        problems,
        MIN_WINDOW_HOURS,
        MAX_WINDOW_HOURS,
    )
    tier = _parse_tier(value.get("tier"), f"{where}.tier", problems)
    if len(problems) > count or within is None or tier is None:
        return None
    return DeadlineRule(kind, within, tier)


def _parse_tier(value: Any, where: str, problems: list[Message]) -> OwnerTier | None:
    name = parse_choice(value, _TIER_NAMES, where, problems)
    return None if name is None else OwnerTier[name.upper()]
