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
from warning.policy import ConcernRule
from warning.policy import Condition
from warning.policy import Level
from warning.policy import Policy

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
