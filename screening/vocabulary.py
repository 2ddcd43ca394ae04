"""What screening's words mean, for domains that read screening results without scoring them.

The instrument definitions declare each instrument's abbreviation and which of its flags are
safety items; other domains ask here instead of keeping their own copy of those names.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from screening.instruments import UnknownInstrument, list_instruments, load_instrument
from screening.scoring import SAFETY


def instrument_abbreviation(code: str) -> str:
    """The instrument's short name as staff know it ("PHQ-9"); an unknown code in capitals."""
    try:
        return load_instrument(code).abbreviation
    except UnknownInstrument:
        return code.upper()


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
