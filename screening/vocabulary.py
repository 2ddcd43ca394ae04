"""What screening's words mean, for domains that read screening results without scoring them.

The instrument definitions declare each instrument's abbreviation and which of its flags are
safety items; other domains ask here instead of keeping their own copy of those names.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from flask_babel import pgettext

from campus.i18n import viewer_locale
from screening.instruments import UnknownInstrument
from screening.instruments import list_instruments
from screening.instruments import load_instrument
from screening.scoring import SAFETY


def instrument_abbreviation(code: str) -> str:
    """The instrument's short name as staff know it ("PHQ-9"); an unknown code in capitals."""
    try:
        return load_instrument(code).abbreviation
    except UnknownInstrument:
        return code.upper()


def instrument_short_name(code: str) -> str:
    """The instrument's short name as staff read it on a page: its short name in the viewer's
    language where it has one (the literacy check), else its abbreviation ("PHQ-9")."""
    try:
        inst = load_instrument(code)
    except UnknownInstrument:
        return code.upper()
    return inst.short_name.get(viewer_locale()) if inst.short_name else inst.abbreviation


def instrument_name(code: str) -> str:
    """The instrument's full name in the viewer's language ("患者健康问卷抑郁量表（PHQ-9）"): the
    code ("phq9") names a definition file, not something a person reads."""
    try:
        return load_instrument(code).name.get(viewer_locale())
    except UnknownInstrument:
        return code.upper()


def student_title(code: str) -> str:
    """The neutral title a student reads for the instrument ("心情问卷"), in the viewer's
    language: the same words as the top of its questionnaire page, never the clinical name."""
    try:
        return load_instrument(code).student_title.get(viewer_locale())
    except UnknownInstrument:
        return code.upper()


def band_label(code: str, band: str | None) -> str:
    """A result's band as its instrument names it, in the viewer's language ("中度抑郁",
    "Moderate depression"): the words of the results pages and the student file alike. Empty for
    no band; the code itself for a band the instrument no longer defines."""
    if not band:
        return ""
    try:
        found = load_instrument(code).band(band)
    except UnknownInstrument:
        return band
    return found.label.get(viewer_locale()) if found else band


def instrument_names(codes: Iterable[str]) -> str:
    """Several instruments' names, in order, as one text."""
    return pgettext("list separator", ", ").join(instrument_name(c) for c in codes)


@lru_cache(maxsize=1)
def safety_flags() -> frozenset[str]:
    """Every flag that means a safety answer: the generic one and each instrument's safety items."""
    declared = {
        rule.name
        for code in list_instruments()
        for rule in load_instrument(code).flags
        if rule.safety
    }
    return frozenset({SAFETY, *declared})


def has_safety_flag(flags: Iterable[str]) -> bool:
    """Whether any of `flags` reports a safety answer."""
    return not safety_flags().isdisjoint(flags)
