"""Signal labels and warning reasons as message ids with parameters, translated when shown.

A label is stored twice: as English text (``Signal.label``, ``Warning.reason``) for the audit
trail, exports and the policy engine, and as a Babel message id plus JSON parameters so each
viewer reads it in their own language. Rows stored before the ids existed keep their English text.

Parameters are JSON values: text and numbers are shown as they are (instrument abbreviations),
except a day (ISO, as `day` writes it), which a page says as it says every day (11月26日 周四,
`local_time.day_words`) and a printed page as a document writes it (2026年11月26日), while the
stored English keeps it ISO;
``{"name": …, "name_en": …}`` is a name people entered in two languages (a campaign's), shown in
the viewer's; ``{"word": msgid}`` is a word translated for the viewer (levels, concern
categories, life events, bands); ``{"key": …, "params": …}`` is a nested label (the signal behind
a reason); ``{"list": [...], "sep": …}`` joins several values. Labels never carry scores:
department staff read them, and totals are shown only to clinical viewers, from the signal row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Any

from flask_babel import gettext
from flask_babel import pgettext
from jinja2 import pass_context
from jinja2.runtime import Context

from campus import clock
from campus.i18n import N_
from campus.i18n import viewer_locale
from campus.local_time import ISO_DAY
from campus.local_time import Day
from campus.local_time import written_iso_day
from campus.models import BilingualName
from campus.models import name_for
from warning.models import OwnerTier

log = logging.getLogger(__name__)

Params = dict[str, Any]


@dataclass(frozen=True)
class Label:
    """A message id with its parameters; ``english()`` is the text stored next to it."""

    key: str
    params: Params = field(default_factory=dict)

    def english(self) -> str:
        return _render(self.key, self.params, _identity)

    def as_param(self) -> Params:
        """This label nested as another label's parameter."""
        return {"key": self.key, "params": self.params}


def word(msgid: str) -> Params:
    """A parameter translated for the viewer; ``msgid`` must be marked with N_ somewhere."""
    return {"word": msgid}


def name_of(record: BilingualName) -> Params:
    """A campaign's (or any bilingual record's) name as a parameter, in the viewer's language."""
    return {"name": record.name, "name_en": record.name_en}


def joined(items: Sequence[Any], sep: str) -> Params:
    return {"list": list(items), "sep": sep}


def day(when: date | datetime) -> str:
    """Dates in labels are stored ISO (2026-09-12): the same in both languages and unambiguous,
    said in words when shown (`render`). A stored (naive UTC) time is dated on the local
    calendar: a screening finished at 00:30 in Shanghai is dated that day, not the day before as
    in UTC."""
    if isinstance(when, datetime):
        when = clock.local_date(when, clock.institution_zone(None))
    return f"{when:%Y-%m-%d}"


# --------------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------------

LEVEL_WORDS = {"none": N_("none"), "blue": N_("blue"), "yellow": N_("yellow"), "red": N_("red")}
CONCERN_WORDS = {
    "low_mood": N_("low mood"),
    "isolation": N_("isolation"),
    "sleep": N_("sleep"),
    "conflict": N_("conflict"),
    "suicidal_talk": N_("suicidal talk"),
    "self_harm": N_("self harm"),
    "crisis_behaviour": N_("crisis behaviour"),
    "other": N_("other"),
}
LIFE_EVENT_WORDS = {
    "bereavement": N_("bereavement"),
    "family_change": N_("family change"),
    "financial_hardship": N_("financial hardship"),
    "disciplinary_action": N_("disciplinary action"),
    "interpersonal_isolation": N_("interpersonal isolation"),
}

# Severity bands by their code in the instrument definitions (the band's own long label is
# instrument-specific, e.g. "mild depression"; the short word reads in any label).
BAND_WORDS = {
    "minimal": N_("minimal"),
    "mild": N_("mild"),
    "moderate": N_("moderate"),
    "moderately_severe": N_("moderately severe"),
    "severe": N_("severe"),
    "extremely_severe": N_("extremely severe"),
    "normal": N_("normal"),
    "low": N_("low distress"),
    "high": N_("high distress"),
    "very_high": N_("very high distress"),
    "no_serious_distress": N_("no serious distress"),
    "serious_distress": N_("serious distress"),
    "negative": N_("negative"),
    "positive": N_("positive"),
    "non_acute_positive": N_("non-acute positive"),
    "acute_positive": N_("acute positive"),
    "class_I": N_("class I"),
    "class_II": N_("class II"),
    "class_III": N_("class III"),
}


# Flags a signal carries, by their code: what the evidence says, as a clinical viewer reads it.
FLAG_WORDS = {
    "safety": N_("safety answer"),
    "phq9_item9": N_("PHQ-9 item 9 (thoughts of death or self-harm)"),
    "asq_acute": N_("ASQ acute positive"),
    "asq_positive": N_("ASQ positive"),
    "phq2_positive": N_("PHQ-2 positive"),
    "gad2_positive": N_("GAD-2 positive"),
    "k6_serious_distress": N_("K6 serious distress"),
    "scl90_item15": N_("SCL-90 item 15 (thoughts of ending one's life)"),
    "scl90_positive": N_("SCL-90 screen positive"),
    "upi_item25": N_("UPI item 25 (thoughts of death)"),
    "upi_class_I": N_("UPI class I"),
    "upi_class_II": N_("UPI class II"),
    "upi_class_III": N_("UPI class III"),
    "reliable_worsening": N_("reliably worse than the previous round"),
    "hospital:severe_disorder": N_("hospital: severe disorder"),
    "hospital:recent_discharge": N_("hospital: recent discharge"),
}
KEY_GROUP_WORDS = {
    "academic_difficulty": N_("academic difficulty"),
    "family_change": N_("family change"),
    "interpersonal_isolation": N_("interpersonal isolation"),
}
# Flags made of a kind and a value ("concern:self_harm"): the words for each kind's values.
_FLAG_KINDS = {
    "concern": (N_("concern report: %(what)s"), CONCERN_WORDS),
    "life_event": (N_("life event: %(what)s"), LIFE_EVENT_WORDS),
    "life": (N_("life event: %(what)s"), LIFE_EVENT_WORDS),
    "key_group": (N_("key group: %(what)s"), KEY_GROUP_WORDS),
}


def flag_names(flags: str | None) -> str:
    """A signal's ";"-joined flags as words in the viewer's language ("safety answer, PHQ-9
    item 9 (…)"); a flag with no words yet is shown as it is rather than hidden."""
    return pgettext("list separator", ", ").join(
        _flag_name(f) for f in (flags or "").split(";") if f
    )


def _flag_name(flag: str) -> str:
    if flag in FLAG_WORDS:
        return gettext(FLAG_WORDS[flag])
    kind, _sep, value = flag.partition(":")
    if kind in _FLAG_KINDS and value in _FLAG_KINDS[kind][1]:
        key, words = _FLAG_KINDS[kind]
        return gettext(key, what=gettext(words[value]))
    return flag


def level_word(code: str) -> Params:
    return word(LEVEL_WORDS.get(code, code))


# --------------------------------------------------------------------------------------------------
# Signal labels
# --------------------------------------------------------------------------------------------------


def screening(
    instrument: str,
    *,
    safety: bool,
    band: str | None,
    campaign: str | Params,
    observed_at: datetime,
) -> Label:
    """ "PHQ-9 safety item positive in 2026 freshman intake, 2026-09-12"; never the answers."""
    params: Params = {"instrument": instrument, "campaign": campaign, "date": day(observed_at)}
    if safety:
        return Label(N_("%(instrument)s safety item positive in %(campaign)s, %(date)s"), params)
    if band:
        return Label(
            N_("%(instrument)s %(band)s in %(campaign)s, %(date)s"),
            params | {"band": word(BAND_WORDS.get(band, band))},
        )
    return Label(N_("%(instrument)s above the screening cut-off in %(campaign)s, %(date)s"), params)


def weekly_report(unit_kind: str, week_start: date) -> Label:
    key = (
        N_("Class weekly report names this student, week of %(date)s")
        if unit_kind == "class"
        else N_("Dorm weekly report names this student, week of %(date)s")
    )
    return Label(key, {"date": day(week_start)})


def concern_report(unit_kind: str, category: str, filed_at: datetime) -> Label:
    key = (
        N_("Class concern report: %(category)s, %(date)s")
        if unit_kind == "class"
        else N_("Dorm concern report: %(category)s, %(date)s")
    )
    return Label(key, {"category": word(CONCERN_WORDS[category]), "date": day(filed_at)})


# How a student asking for help would like to be reached (`warning.help.CONTACT_WAYS`).
CONTACT_WAY_WORDS = {
    "phone": N_("by phone"),
    "message": N_("by message"),
    "in_person": N_("in person"),
}


def self_referral(contact_by: str, good_time: str) -> Label:
    if good_time:
        return Label(
            N_("The student asked for help: to be contacted %(way)s, best %(time)s"),
            {"way": word(CONTACT_WAY_WORDS[contact_by]), "time": good_time},
        )
    return Label(
        N_("The student asked for help: to be contacted %(way)s"),
        {"way": word(CONTACT_WAY_WORDS[contact_by])},
    )


def failed_credits(count: float) -> Label:
    return Label(N_("%(credits)s failed credits"), {"credits": f"{count:g}"})


def academic_warning() -> Label:
    return Label(N_("academic warning"))


def absence(rate: float) -> Label:
    return Label(N_("absence %(rate)s"), {"rate": f"{rate:.0%}"})


def academic_difficulty(term: str, reasons: Sequence[Label]) -> Label:
    return Label(
        N_("Academic difficulty in %(term)s: %(reasons)s"),
        {"term": term, "reasons": joined([r.as_param() for r in reasons], ", ")},
    )


def life_event(kind: str, occurred_on: date) -> Label:
    return Label(
        N_("Life event: %(kind)s, %(date)s"),
        {"kind": word(LIFE_EVENT_WORDS[kind]), "date": day(occurred_on)},
    )


HOSPITAL = {
    "hospital:severe_disorder": N_("Hospital reported a severe disorder (inpatient care)"),
    "hospital:recent_discharge": N_("Hospital reported a recent discharge"),
}


def hospital(flag: str) -> Label:
    return Label(HOSPITAL[flag])


def reliable_worsening(
    instrument: str, from_campaign: str | Params, to_campaign: str | Params
) -> Label:
    """No totals: the label is read by department staff; clinical viewers see the scores."""
    return Label(
        N_("%(instrument)s reliably worse: %(before)s → %(after)s"),
        {"instrument": instrument, "before": from_campaign, "after": to_campaign},
    )


def judgement(text: str) -> Label:
    return Label(N_("Counsellor judgement: %(text)s"), {"text": text})


# --------------------------------------------------------------------------------------------------
# Warning reasons
# --------------------------------------------------------------------------------------------------

DIRECT_REASON = N_("%(level)s: %(label)s")
AGGREGATE_REASON = N_("%(level)s: %(count)s concern reports within %(days)s days (%(labels)s)")
RAISED_REASON = N_("%(level)s: %(label)s (raised from %(from_level)s by a key group)")
KEY_GROUP_REASON = N_("%(level)s: key group, %(label)s")
OVERRIDE_REASON = N_("%(level)s: set by a counsellor: %(reason)s (computed: %(computed)s)")
OVERRIDE_LAPSED_REASON = N_(
    "%(level)s: set by a counsellor: %(reason)s (lapsed: newer evidence is %(computed)s)"
)
NO_SIGNAL_REASON = N_("%(level)s: no active signal")
MORE_REASON = N_("%(reason)s (+%(more)s more)")
LAPSED = Label(N_("blue: every signal has lapsed; open until a school counsellor closes it"))


def stored_label(key: str | None, params: Params | None) -> Params | str | None:
    """A stored signal label as a reason's parameter, or None when the signal predates keys."""
    return None if key is None else {"key": key, "params": params or {}}


def with_more(reason: Label, more: int) -> Label:
    if more <= 0:
        return reason
    return Label(MORE_REASON, {"reason": reason.as_param(), "more": more})


# --------------------------------------------------------------------------------------------------
# Policy versions
# --------------------------------------------------------------------------------------------------

# A version id ends in <year>.<number> by convention ("default-2026.1", "response-default-2026.1").
_VERSION = re.compile(r"(?P<year>\d{4})\.(?P<number>\d+)$")


def policy_name(version: str, kind: str = "triage") -> str:
    """A policy version as people say it, "Triage policy (2026, version 1)": the version id is
    a code the policy file carries, read by the engine, not by a counsellor."""
    title = gettext("Triage policy") if kind == "triage" else gettext("Response policy")
    found = _VERSION.search(version)
    if found is None:
        return gettext("%(policy)s (version %(version)s)", policy=title, version=version)
    return gettext(
        "%(policy)s (%(year)s, version %(number)s)",
        policy=title,
        year=found["year"],
        number=int(found["number"]),
    )


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def render(
    key: str | None, params: Mapping[str, Any] | None, fallback: str = "", *, printed: bool = False
) -> str:
    """The label in the viewer's language, its days in words (11月26日 周四) or, `printed`, as
    a printed document writes them (2026年11月26日); ``fallback`` (the stored English) when
    there is no key.

    A catalog entry whose placeholders do not match is logged and shown in English rather than
    breaking the page a counsellor needs.
    """
    if not key:
        return fallback
    said = written_iso_day if printed else _day_words
    try:
        return _render(key, params or {}, gettext, said)
    except (KeyError, ValueError, TypeError):
        log.warning("label %r does not render in this language; showing English", key)
        try:
            return _render(key, params or {}, _identity)
        except (KeyError, ValueError, TypeError):
            return fallback


@pass_context
def labelled(
    context: Context, key: str | None, params: Mapping[str, Any] | None, fallback: str = ""
) -> str:
    """`render` for a template: a printed one (its `printing` is true) writes its days as a
    document does."""
    return render(key, params, fallback, printed=bool(context.get("printing")))


LEVEL_CODES = {0: "none", 1: "blue", 2: "yellow", 3: "red"}


def without_level(text: str, level: int | None) -> str:
    """A reason or change shown after a badge or words that already name ``level``: the level
    it opens with ("红色：", "red: ") left out, so the level is said once ("红色 医院报告…", not
    "红色 红色：医院报告…"). A text opening with any other level keeps it: that says more."""
    code = LEVEL_CODES.get(level) if level is not None else None
    if code is None:
        return text
    for word in (gettext(LEVEL_WORDS[code]), code):
        for separator in ("：", ": "):
            if text.startswith(word + separator):
                return text[len(word + separator) :]
    return text


def english(key: str, params: Mapping[str, Any]) -> str:
    """The English text of a stored key and parameters (what ``label``/``reason`` store)."""
    return _render(key, params, _identity)


def _identity(msgid: str) -> str:
    return msgid


def _day_words(value: str) -> str:
    return Day(value).shown()


def _render(
    key: str,
    params: Mapping[str, Any],
    translate: Callable[[str], str],
    said: Callable[[str], str] = _identity,
) -> str:
    """The label through `translate`, its days through `said` (ISO as stored by default)."""
    values = {name: _value(value, translate, said) for name, value in params.items()}
    return translate(key) % values if values else translate(key)


def _separator(sep: str, translate: Callable[[str], str]) -> str:
    """The stored separator is English (", "); Chinese lists join with 、 or ；, so it is translated
    when shown like every other part of a label."""
    return sep if translate is _identity else pgettext("list separator", sep)


def _value(value: Any, translate: Callable[[str], str], said: Callable[[str], str]) -> Any:
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return said(value)
    if not isinstance(value, Mapping):
        return value
    if "word" in value:
        return translate(value["word"])
    if "name" in value:
        locale = "en" if translate is _identity else viewer_locale()
        return name_for(value["name"], value.get("name_en"), locale)
    if "key" in value:
        return _render(value["key"], value.get("params") or {}, translate, said)
    if "list" in value:
        return _separator(value.get("sep", ", "), translate).join(
            str(_value(v, translate, said)) for v in value["list"]
        )
    raise ValueError(f"unknown label parameter {value!r}")


def tier_label(tier: int) -> str:
    """A tier of the response network in the viewer's language ("school leadership")."""
    return {
        OwnerTier.DORM: gettext("dorm"),
        OwnerTier.CLASS: gettext("class"),
        OwnerTier.DEPARTMENT: gettext("department"),
        OwnerTier.SCHOOL: gettext("counselling centre"),
        OwnerTier.LEADERSHIP: gettext("school leadership"),
    }[OwnerTier(tier)]
