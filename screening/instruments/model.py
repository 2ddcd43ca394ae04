"""What an instrument definition reads into: frozen dataclasses the scoring engine walks.

The vocabulary of the definition files (rules, conditions, bands) lives here so that both the
parser (`screening.instruments.parser`) and the scoring engine name the same things.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

LOCALES = ("zh_CN", "en")
TOTAL_RULES = frozenset({"sum", "sum_times_2", "mean", "count", "correct_count", "none"})
SUBSCALE_RULES = frozenset({"sum", "sum_times_2", "mean", "count"})
MISSING_RULES = frozenset({"all_required"})
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class DefinitionError(ValueError):
    """A definition or licensed-text file is malformed; the message names the file and problem."""


class UnknownInstrument(LookupError):
    """No definition file exists for the requested code."""


@dataclass(frozen=True)
class Text:
    """A text in every supported locale."""

    zh_CN: str  # noqa: N815 -- the locale code, as the instrument YAML files spell it
    en: str

    def get(self, locale: str) -> str:
        """The text in ``locale``; English for any other locale, so a page never goes blank."""
        return self.zh_CN if locale.lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; a missing bound is open, so "28 and above" is ``Range(28, None)``."""

    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within the bounds, both ends included."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


AT_LEAST_ONE = Range(1, None)


def _lower(bound: float | None) -> float:
    """A lower bound to sort by; an open one comes first."""
    return float("-inf") if bound is None else bound


@dataclass(frozen=True)
class Option:
    """One answer choice: the stored value and what the respondent sees."""

    value: int
    label: Text


@dataclass(frozen=True)
class OptionSet:
    """Answer choices shared by a run of items; reverse keys use its lowest and highest value."""

    code: str
    options: tuple[Option, ...]

    @property
    def values(self) -> frozenset[int]:
        return frozenset(o.value for o in self.options)

    @property
    def low(self) -> int:
        return min(self.values)

    @property
    def high(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class ItemCount:
    """Holds when the number of listed items answered within ``value`` lies within ``count``."""

    items: tuple[int, ...]
    value: Range
    count: Range = AT_LEAST_ONE


@dataclass(frozen=True)
class TotalIn:
    """Holds when the total was computed and lies within ``value``."""

    value: Range


@dataclass(frozen=True)
class SubscaleCount:
    """Holds when the number of listed subscales scored within ``value`` lies within ``count``."""

    subscales: tuple[str, ...]
    value: Range
    count: Range = AT_LEAST_ONE


@dataclass(frozen=True)
class FlagRaised:
    """Holds when an earlier flag rule of the same instrument fired."""

    name: str


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


Condition = ItemCount | TotalIn | SubscaleCount | FlagRaised | AnyOf | AllOf


@dataclass(frozen=True)
class Item:
    """One question. ``scored`` items enter the total; ``required`` ones must be answered."""

    number: int
    text: Text
    options: OptionSet
    reverse: bool
    scored: bool
    required: bool
    subscales: tuple[str, ...]
    asked_if: Condition | None
    correct: int | None
    explanation: Text | None


@dataclass(frozen=True)
class Rule:
    """How a score is computed from its items; ``count`` counts answers within ``counted``."""

    name: str
    items: tuple[int, ...]
    counted: Range | None = None


@dataclass(frozen=True)
class Band:
    """A result category: by score range, by condition, or (neither) whatever is left."""

    code: str
    label: Text
    value: Range | None
    when: Condition | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Subscale:
    code: str
    name: Text
    rule: Rule
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class FlagRule:
    """A named finding; safety flags also raise the generic ``safety`` flag."""

    name: str
    safety: bool
    when: Condition


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    abbreviation: str
    # Where the abbreviation is an English phrase, not a code read the same in every language
    # ("MHL Quiz", beside "PHQ-9"): the short name staff read in their language.
    short_name: Text | None
    name: Text  # the clinical name with its abbreviation, for staff
    # What the student reads as the page's title: neutral ("心情问卷"), because a title such as
    # "suicide risk screening" alarms and primes the very answers it asks for.
    student_title: Text
    instructions: Text
    source: Mapping[str, str]
    licensed: bool
    option_sets: tuple[OptionSet, ...]
    items: tuple[Item, ...]
    total: Rule
    missing_rule: str
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...]

    @property
    def item_numbers(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items)

    def item(self, number: int) -> Item:
        """The item numbered ``number`` (items are numbered 1..N in definition order)."""
        return self.items[number - 1]

    def band(self, code: str | None) -> Band | None:
        """The band ``code`` names; None for no band or one this version no longer defines."""
        return next((b for b in self.bands if b.code == code), None)

    @property
    def bands_by_severity(self) -> tuple[Band, ...]:
        """The bands from the usual range up to the most severe.

        The definition format fixes the order: score-range bands run up with the score (their
        listed order does not matter), while classification bands are tried first to last, so
        they are listed from the most severe down to the catch-all that takes whatever is left.
        """
        ranged = [(b.value.min, b) for b in self.bands if b.value is not None]
        if ranged:
            return tuple(b for _, b in sorted(ranged, key=lambda p: _lower(p[0])))
        return tuple(reversed(self.bands))

    def severity(self, code: str | None) -> int | None:
        """How far above the usual range band ``code`` lies (0: the usual range itself)."""
        ranked = [b.code for b in self.bands_by_severity]
        return ranked.index(code) if code in ranked else None
