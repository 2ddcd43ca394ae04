"""The periods a dashboard can show, chosen as a month, a term or a school year.

Terms as Chinese universities keep them: the autumn term (秋季学期) runs September to January, the
spring term (春季学期) February to July; the school year (学年) September to August. Each period
knows the one before it, so a headline figure can say how it moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from campus.local_time import month_words

AUTUMN, SPRING = "autumn", "spring"


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "term" or "year"
    key: str  # "month:2026-09", "term:2026-autumn", "year:2026"
    first: date  # first day of the first month
    last: date  # first day of the last month (included)

    def label(self) -> str:
        if self.kind == "month":
            return month_words(self.first)  # 2026年11月, November 2026
        if self.kind == "year":
            return _("School year %(start)s–%(end)s", start=self.first.year, end=self.last.year)
        if self.first.month == 9:
            return _("Autumn term %(start)s–%(end)s", start=self.first.year, end=self.last.year)
        return _("Spring term %(year)s", year=self.first.year)


def shift(day: date, months: int) -> date:
    """The first of the month `months` after (or, negative, before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month(day: date) -> Period:
    first = date(day.year, day.month, 1)
    return Period("month", f"month:{first:%Y-%m}", first, first)


def term(day: date) -> Period:
    """The term `day` falls in: September–January is autumn, February–July spring; August,
    between terms, counts with the spring term just ended."""
    if day.month >= 9 or day.month == 1:
        start = day.year if day.month >= 9 else day.year - 1
        return Period("term", f"term:{start}-{AUTUMN}", date(start, 9, 1), date(start + 1, 1, 1))
    return Period("term", f"term:{day.year}-{SPRING}", date(day.year, 2, 1), date(day.year, 7, 1))


def school_year(day: date) -> Period:
    start = day.year if day.month >= 9 else day.year - 1
    return Period("year", f"year:{start}", date(start, 9, 1), date(start + 1, 8, 1))


def previous(period: Period) -> Period:
    """The period just before, of the same kind (the spring term before an autumn term)."""
    step = {"month": month, "term": term, "year": school_year}[period.kind]
    return step(shift(period.first, -1))


def parse(key: str) -> Period:
    """A picker's value back to its period; ValueError for anything not offered."""
    kind, _sep, rest = key.partition(":")
    try:
        if kind == "month":
            year, number = rest.split("-")
            found = month(date(int(year), int(number), 1))
        elif kind == "term":
            year, half = rest.split("-")
            found = term(date(int(year), 9 if half == AUTUMN else 3, 1))
        elif kind == "year":
            found = school_year(date(int(rest), 9, 1))
        else:
            raise ValueError(key)
    except (TypeError, ValueError) as error:
        raise ValueError(key) from error
    if found.key != key:
        raise ValueError(key)
    return found


def choices(today: date, months: int = 24, terms: int = 6, years: int = 4) -> dict[str, list]:
    """The pickers' options, newest first: recent months, terms and school years."""
    found: dict[str, list[Period]] = {"month": [month(today)], "term": [term(today)]}
    found["year"] = [school_year(today)]
    for kind, count in (("month", months), ("term", terms), ("year", years)):
        while len(found[kind]) < count:
            found[kind].append(previous(found[kind][-1]))
    return found
