"""The triage and response policies in the reader's words, beside their YAML.

An administrator who opens the policy pages in Chinese should not have to read a YAML file with
English comments to know what the campus does today: which evidence gives which level, who
answers a warning and by when. These render the policy objects the engine runs on (never the
file's comments), so what the page says is what the engine does.
"""

from __future__ import annotations

from datetime import timedelta

from babel.units import format_unit
from flask_babel import get_locale
from flask_babel import gettext
from flask_babel import ngettext
from flask_babel import pgettext

from campus.i18n import N_
from screening.vocabulary import instrument_abbreviation
from warning import labels
from warning.models import OwnerTier
from warning.policy import ConcernRule
from warning.policy import Condition
from warning.policy import Level
from warning.policy import Policy
from warning.response_policy import DEADLINE_NAMES
from warning.response_policy import DeadlineRule
from warning.response_policy import SettingChange

# Where a signal came from, as a rule's `source` test names it.
SOURCE_WORDS = {
    "screening": N_("a screening result"),
    "concern_report": N_("a concern report"),
    "weekly_report": N_("a weekly class or dorm report"),
    "academic": N_("academic data"),
    "life_event": N_("a life event"),
    "self_referral": N_("the student asking for help"),
    "counsellor": N_("a counsellor's judgement"),
    "hospital": N_("a hospital report"),
    "trajectory": N_("the change between screening rounds"),
}

_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)


def window_words(window: timedelta) -> str:
    """A deadline window or interval exactly ("24 hours", "30 minutes", "7 days"): a policy
    page that rounded 36 hours to "2 days" would misstate the policy."""
    if window >= 2 * _DAY and window % _DAY == timedelta(0):
        value, unit = window // _DAY, "duration-day"
    elif window % _HOUR == timedelta(0):
        value, unit = window // _HOUR, "duration-hour"
    else:
        value, unit = int(window.total_seconds() // 60), "duration-minute"
    return format_unit(value, unit, length="long", locale=get_locale())


def source_words(sources: tuple[str, ...]) -> str:
    """A rule's sources as alternatives ("a concern report or a weekly class or dorm report")."""
    words = [gettext(SOURCE_WORDS[s]) if s in SOURCE_WORDS else s for s in sources]
    return pgettext("list separator", " or ").join(words)


def _number(value: float) -> str:
    return f"{value:g}"


def _instrument_words(when: Condition) -> str:
    name = instrument_abbreviation(when.instrument or "")
    low, high = when.total_min, when.total_max
    if low is not None and high is not None:
        return gettext(
            "%(instrument)s total %(low)s to %(high)s",
            instrument=name,
            low=_number(low),
            high=_number(high),
        )
    if low is not None:
        return gettext("%(instrument)s total %(low)s or more", instrument=name, low=_number(low))
    if high is not None:
        return gettext("%(instrument)s total %(high)s or less", instrument=name, high=_number(high))
    return gettext("any %(instrument)s result", instrument=name)


def _prefix_words(prefix: str) -> str:
    kind = prefix.removesuffix(":")
    if kind == "key_group":
        return gettext("member of a key group")
    return gettext("a flag beginning %(prefix)s", prefix=prefix)


def condition_words(when: Condition) -> str:
    """A rule's test as one phrase, its parts joined as the engine joins them (all must hold)."""
    parts = []
    if when.instrument is not None:
        parts.append(_instrument_words(when))
    if when.flag is not None:
        parts.append(labels.flag_names(when.flag))
    if when.any_flag:
        parts.append(gettext("any of: %(flags)s", flags=labels.flag_names(";".join(when.any_flag))))
    if when.flag_prefix is not None:
        parts.append(_prefix_words(when.flag_prefix))
    if when.without_flag is not None:
        parts.append(gettext("without %(flag)s", flag=labels.flag_names(when.without_flag)))
    if when.sources:
        parts.append(gettext("from %(sources)s", sources=source_words(when.sources)))
    return pgettext("conditions all required", " and ").join(parts) or gettext("any signal")


def concern_rule_words(rule: ConcernRule) -> str:
    return ngettext(
        "%(num)s report within %(days)s days (%(sources)s)",
        "%(num)s or more reports within %(days)s days (%(sources)s)",
        rule.reports_min,
        days=rule.within_days,
        sources=source_words(rule.sources),
    )


def key_group_words(policy: Policy) -> str:
    return ngettext(
        "When the student is also %(who)s, %(sources)s is raised %(num)s level.",
        "When the student is also %(who)s, %(sources)s is raised %(num)s levels.",
        policy.key_group_raise,
        who=condition_words(policy.key_group_when),
        sources=source_words(policy.raise_sources),
    )


def expiry_words(policy: Policy, level: str) -> str:
    """How long a signal of `level` (its code) stays active under `policy`."""
    days = policy.expiry_days[Level.from_code(level)]
    if days is None:
        return gettext("until a school counsellor closes the warning")
    return window_words(timedelta(days=days))


# Each setting of the response policy (a field of `ResponsePolicy` or `LevelResponse`) in words,
# for the draft's list of the settings it changes (`response_policy.setting_changes`); a field
# not named here is still listed, by its name.
SETTING_NAMES = {
    "owner": N_("Owned by"),
    "deadlines": N_("First response"),
    "follow_up_every": N_("Follow-up interval"),
    "notify_tiers": N_("Told when the level is set"),
    "notify_department_leader": N_("Department leader told when the level is set"),
    "leadership_reminder_every": N_(
        "Reminders to school leadership of a warning still waiting there"
    ),
    "discharge_follow_up_within": N_("Follow-up contact after a hospital discharge, within"),
}


def setting_name(change: SettingChange) -> str:
    """The changed setting in words, with its level when it is one level's."""
    known = SETTING_NAMES.get(change.setting)
    name = gettext(known) if known else change.setting
    if change.level is None:
        return name
    level = {
        Level.RED: gettext("Red"),
        Level.YELLOW: gettext("Yellow"),
        Level.BLUE: gettext("Blue"),
    }
    return pgettext(
        "a level's setting", "%(level)s: %(setting)s", level=level[change.level], setting=name
    )


def setting_words(value: object) -> str:
    """A setting's value in words: a window exactly, a tier by its name, a first-response step
    as the policy summary says it, a list joined; anything else as written."""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, timedelta):
        return window_words(value)
    if isinstance(value, OwnerTier):
        return labels.tier_label(value)
    if isinstance(value, DeadlineRule):
        step = DEADLINE_NAMES.get(value.kind)
        return gettext(
            "%(step)s: %(tier)s, within %(window)s",
            step=gettext(step) if step else value.kind,
            tier=labels.tier_label(value.tier),
            window=window_words(value.within),
        )
    if isinstance(value, tuple):
        words = [setting_words(item) for item in value]
        return pgettext("list separator", "; ").join(words) if words else gettext("None")
    return str(value)
