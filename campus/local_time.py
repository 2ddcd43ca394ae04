"""The one way a person reads a time: in their institution's zone, to the minute.

Stored times are naive UTC (`campus.clock`); all are read in the reader's institution's zone
(`clock.viewer_zone`, which is also Flask-Babel's zone for the request), so a page and its export
never disagree about a day. A page says a time in words, one way of writing a day (`day_words`)
for them all: what happened with its day and weekday (`|with_weekday`: 12月5日 周六 07:34, the
year only when it is not this one), what a person plans by (a deadline, an appointment, a duty
shift, an inbox note) today or tomorrow where it is (`|due_words`: "today 18:00", "tomorrow
09:00", else as `|with_weekday`), a day alone with its weekday (`|day_words`); `|timed` says one
of them inside `<time datetime="…">`. A document handed to a family, a hospital or a student
writes its days and times as a letter does, with the year, in the document's language and on
its institution's clock (`|written_day`: 2026年12月7日, "7 December 2026"; `|written_time`:
2026年12月7日 6:44), and so does the printed student file (`timed` when `printing`). Exports
(`localise_frame`) keep ISO times (2026-12-05 07:34), and so does `<time datetime>`
(`|localtime`, `|local_date`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_timezone_name
from flask_babel import format_date
from flask_babel import format_datetime
from flask_babel import gettext
from flask_babel import lazy_gettext
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from campus import clock
from campus.i18n import viewer_locale

MINUTES = "yyyy-MM-dd HH:mm"
DAY = "yyyy-MM-dd"


def _moment(value: Any) -> date | None:
    """A naive UTC datetime, or None for nothing (None, NaN, NaT, an empty cell). ISO text is
    read too: a warning event keeps the follow-up time it scheduled as its outcome text."""
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    if value is None or value == "" or (not isinstance(value, date) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else cast(datetime, value.to_pydatetime())
    return value if isinstance(value, date) else None


def is_moment(value: Any) -> bool:
    """Jinja test: a stored time (datetime or pandas Timestamp), not a plain date or text."""
    return isinstance(value, datetime) and not pd.isna(value)


def local_time(value: Any, fmt: str = MINUTES) -> str:
    """A naive-UTC time as the reader's local wall-clock time, to the minute; "" for nothing."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return local_date(moment)
    return str(format_datetime(moment, fmt))


def local_date(value: Any) -> str:
    """The local calendar date of a naive-UTC time (a plain `date` is already one)."""
    moment = _moment(value)
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return str(format_datetime(moment, DAY))


def localise_frame(frame: pd.DataFrame, zone: ZoneInfo, *, as_text: bool = True) -> pd.DataFrame:
    """An export's time columns on the zone's wall clock, each headed with the clock it is read
    on in the reader's language (`zone_header`: 转介时间（北京时间）, "Sent (Beijing time)"): as
    'YYYY-MM-DD HH:MM' text for a CSV, or (`as_text=False`) as naive local datetimes a workbook
    keeps as dates it can sort, filter and subtract. Either way to the minute, as the pages show
    them: a workbook's cell kept the seconds its number format hid, so two times that read the
    same subtracted to a few seconds, and a filter on a minute missed them."""
    out = frame.copy()
    renames = {}
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            local = out[column].dt.tz_localize("UTC").dt.tz_convert(zone)
            if as_text:
                out[column] = local.dt.strftime("%Y-%m-%d %H:%M").where(local.notna(), "")
            else:
                out[column] = local.dt.tz_localize(None).dt.floor("min")
            renames[column] = zone_header(str(column), zone)
    return out.rename(columns=renames)


def zone_header(column: str, zone: ZoneInfo) -> str:
    """A time column's header in a file, with the clock its times are on: 转介时间（北京时间）,
    "Sent (UTC+8)". Every export heads its times so, never with the zone's database key."""
    return gettext("%(column)s (%(zone)s)", column=column, zone=zone_words(zone))


# Clocks their readers call by a name of their own, by zone key (with the keys that are links
# to it): a Chinese administrator reads 北京时间, not "中国时间" or "Asia/Shanghai".
CLOCK_NAMES = dict.fromkeys(
    ("Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"),
    lazy_gettext("Beijing time"),
)


def zone_words(zone: ZoneInfo, at: datetime | None = None) -> str:
    """The clock times are read on, as a reader names it: its own name where people have one
    (北京时间 / Beijing time), else its offset from UTC where the zone keeps one all year ("UTC+6",
    "UTC+5:30", "UTC"), else the zone's name in the reader's language (英国时间), since one
    offset would be wrong for half the year. `at` (default now) picks the year looked at."""
    named = CLOCK_NAMES.get(zone.key)
    if named is not None:
        return str(named)
    year = (at or clock.now()).year
    offsets = {zone.utcoffset(datetime(year, month, 1)) for month in (1, 7)}
    if len(offsets) > 1:
        return zone_name(zone)
    return utc_offset_words(offsets.pop() or timedelta(0))


def utc_offset_words(offset: timedelta) -> str:
    """An offset from UTC as people write it: UTC+8, UTC+5:30, UTC-3, UTC."""
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_day(moment: datetime) -> date:
    """The reader's local calendar date at a naive UTC moment ("today" on a page)."""
    return clock.local_date(moment, clock.viewer_zone())


def zone_name(zone: ZoneInfo) -> str:
    """A zone as a reader names it ("中国时间", "China Time"), never its database key."""
    return get_timezone_name(zone, locale=viewer_locale())


# A day as people plan by it, by the reader's language: this year's without the year (a phone
# line has no room for what the reader knows), another year's with it (a deadline on 1 January,
# read on 31 December, must not look like last January's).
DAY_PATTERNS = {
    "zh": ("M月d日 EEE", "y年M月d日 EEE"),  # 12月14日 周一; 2027年1月1日 周五
    "en": ("EEE d MMM", "EEE d MMM y"),  # Mon 14 Dec; Fri 1 Jan 2027
}


def day_words(value: Any, now: datetime | None = None) -> str:
    """A day as people plan by it: the date with its weekday, the year only when it is not the
    current one ("12月14日 周一", "Mon 14 Dec"; "2027年1月1日 周五"). `value` is a local calendar
    date or a naive-UTC time (its local day); "" for nothing. `now` defaults to the clock's."""
    moment = _moment(value)
    if moment is None:
        return ""
    day = local_day(moment) if isinstance(moment, datetime) else moment
    today = local_day(now or clock.now())
    return _day_text(day, with_year=day.year != today.year)


# A week named by its first day, the weekday set off as people write it: 12月7日（周一）,
# Monday 7 December (another year's with its year).
WEEK_PATTERNS = {
    "zh": ("M月d日（EEE）", "y年M月d日（EEE）"),
    "en": ("EEEE d MMMM", "EEEE d MMMM y"),
}


def week_words(value: Any, now: datetime | None = None) -> str:
    """The first day of a week as a heading names the week by it ("%(day)s起的一周",
    "Week beginning %(day)s"): 12月7日（周一）, Monday 7 December; "" for nothing."""
    moment = _moment(value)
    if moment is None:
        return ""
    day = local_day(moment) if isinstance(moment, datetime) else moment
    this_year, other_year = WEEK_PATTERNS.get(viewer_locale().split("_")[0], WEEK_PATTERNS["en"])
    pattern = this_year if day.year == local_day(now or clock.now()).year else other_year
    return str(format_date(day, pattern))


def dated_words(value: Any, now: datetime | None = None) -> str:
    """A day with its year whatever the year (2026年12月7日 周一): each end of a period that
    crosses a new year says its own, or "2025年12月1日 至 12月7日" reads as one week."""
    moment = _moment(value)
    if moment is None:
        return ""
    return _day_text(local_day(moment) if isinstance(moment, datetime) else moment, with_year=True)


def calendar_words(value: Any, now: datetime | None = None) -> str:
    """A calendar day that names no moment (a birth date) in words, with its year and without a
    weekday nobody plans by (2008年8月7日, 7 August 2008), as a letter writes a day (`_written`)
    on the reader's clock; "" for nothing."""
    return _written(value, None, with_time=False)


def _day_text(day: date, *, with_year: bool) -> str:
    this_year, other_year = DAY_PATTERNS.get(viewer_locale().split("_")[0], DAY_PATTERNS["en"])
    return str(format_date(day, other_year if with_year else this_year))


# A calendar month (an oversight period, a table's month row): 2026年11月, November 2026.
MONTH_PATTERNS = {"zh": "y年M月", "en": "MMMM y"}


def _month_day(value: Any) -> Any:
    """A month kept as ISO text (2026-11) as its first day; any other value as it is."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
        return date.fromisoformat(f"{value}-01")
    return value


def month_words(value: Any) -> str:
    """A calendar month in words (2026年11月, "November 2026"): `value` is a day of it or the
    month as ISO text (2026-11, as a dashboard's table and its export keep it); "" for nothing,
    and text that is not a month as it is."""
    moment = _moment(_month_day(value))
    if moment is None:
        return "" if value is None or value == "" else str(value)
    pattern = MONTH_PATTERNS.get(viewer_locale().split("_")[0], MONTH_PATTERNS["en"])
    return str(format_date(moment, pattern))


SHORT_MONTH_PATTERNS = {"zh": ("M月", "y年"), "en": ("MMM", "y")}


def month_axis(months: Sequence[Any]) -> list[tuple[str, str]]:
    """Labels under a chart's months, short enough for a school year side by side: each
    month's short name, and under the first and under each January its year (7月 / 2026年,
    8月, … 1月 / 2027年); the full words stay in the chart's tooltips and its table."""
    month_pattern, year_pattern = SHORT_MONTH_PATTERNS.get(
        viewer_locale().split("_")[0], SHORT_MONTH_PATTERNS["en"]
    )
    labels = []
    for i, value in enumerate(months):
        moment = _moment(_month_day(value))
        if moment is None:
            labels.append((str(value), ""))
            continue
        year = format_date(moment, year_pattern) if i == 0 or moment.month == 1 else ""
        labels.append((str(format_date(moment, month_pattern)), str(year)))
    return labels


# A day under a chart's point: 12月6日 / 6 Dec, its year on a second line where it starts.
SHORT_DAY_PATTERNS = {"zh": ("M月d日", "y年"), "en": ("d MMM", "y")}


def day_axis(values: Sequence[Any]) -> list[tuple[str, str]]:
    """Labels under a chart's points in time (naive-UTC times or local days, oldest first), as
    `month_axis` says months: each local day short and without its weekday (12月6日, "6 Dec"),
    and under the first and under each that begins a new year its year (2026年, 2027年); the
    full day stays in the chart's tooltips and its table. Nothing is ("", "")."""
    day_pattern, year_pattern = SHORT_DAY_PATTERNS.get(
        viewer_locale().split("_")[0], SHORT_DAY_PATTERNS["en"]
    )
    labels: list[tuple[str, str]] = []
    year = None
    for value in values:
        moment = _moment(value)
        if moment is None:
            labels.append(("", ""))
            continue
        day = local_day(moment) if isinstance(moment, datetime) else moment
        shown_year = str(format_date(day, year_pattern)) if day.year != year else ""
        year = day.year
        labels.append((str(format_date(day, day_pattern)), shown_year))
    return labels


def span_words(first: Any, last: Any) -> str:
    """Which of `WORDS` says both ends of a period from `first` to `last`: "day" when they fall
    in one year, else "dated", so that neither end loses its year."""
    ends = [_moment(first), _moment(last)]
    years = {(local_day(m) if isinstance(m, datetime) else m).year for m in ends if m is not None}
    return "day" if len(years) <= 1 else "dated"


# A day and a time as a letter writes them, by the document's language: the year always (a
# document is kept), no weekday; the hour as a Chinese reader writes it (6:44, not 06:44).
WRITTEN_PATTERNS = {
    "zh": ("y年M月d日", "H:mm", "{day} {time}"),  # 2026年12月7日 6:44
    "en": ("d MMMM y", "HH:mm", "{day}, {time}"),  # 7 December 2026, 06:44
}


def _written(value: Any, zone: ZoneInfo | None, *, with_time: bool) -> str:
    moment = _moment(value)
    if moment is None:
        return ""
    locale = viewer_locale()
    day_pattern, time_pattern, joined = WRITTEN_PATTERNS.get(
        locale.split("_")[0], WRITTEN_PATTERNS["en"]
    )
    if not isinstance(moment, datetime):
        return str(babel_format_date(moment, day_pattern, locale=locale))
    local = clock.to_local(moment, zone or clock.viewer_zone()).replace(tzinfo=None)
    day = str(babel_format_date(local.date(), day_pattern, locale=locale))
    if not with_time:
        return day
    return joined.format(day=day, time=babel_format_time(local.time(), time_pattern, locale=locale))


def _document_zone(context: Context) -> ZoneInfo:
    """The clock a document's times are read on: its institution's (the template's
    `institution`), whoever prints it."""
    return clock.institution_zone(context.get("institution"))


@pass_context
def written_day(context: Context, value: Any) -> str:
    """A day as a printed document writes it, in the language it is printed in (the locale
    `campus.documents.printed_in` forces) and with its year: 2026年12月7日, "7 December 2026".
    `value` is a local calendar date or a naive-UTC time, whose day is read on the document's
    institution's clock; "" for nothing."""
    return _written(value, _document_zone(context), with_time=False)


def written_iso_day(value: str) -> str:
    """A day kept as ISO text (2026-12-07, a label's parameter) as a document writes it:
    2026年12月7日, "7 December 2026"."""
    return _written(date.fromisoformat(value), None, with_time=False)


@pass_context
def written_time(context: Context, value: Any) -> str:
    """A time as a printed document writes it, to the minute on its institution's clock:
    "2026年12月7日 6:44", "7 December 2026, 06:44"; a plain date is its day alone."""
    return _written(value, _document_zone(context), with_time=True)


# A day as a message stores it (2026-12-07).
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Day(str):
    """A day as ISO text (2026-12-07): what the stored English, a log or the command line keep,
    said in words on a page (`day_words`: 12月7日 周一) as a `Message` value, whose `shown()`
    shows it so."""

    def shown(self) -> str:
        return day_words(date.fromisoformat(self))


class Moment(str):
    """A time a refusal names (a clash with a shift already planned): ISO to the minute on the
    institution's clock as text (2026-12-07 08:00, what the English, a log or the command line
    keep), said on a page as it is planned by (`due_words`: 今天 08:00, 12月8日 周二 09:00) by its
    `shown()`, as a `Message` value."""

    utc: datetime

    def __new__(cls, utc: datetime, zone: ZoneInfo) -> Moment:
        moment = super().__new__(cls, clock.to_local(utc, zone).strftime("%Y-%m-%d %H:%M"))
        moment.utc = utc
        return moment

    def shown(self) -> str:
        return due_words(self.utc)


def stored_day(value: Any) -> Any:
    """A value stored with a message (a note's, a task's) as a page says it: a day kept as ISO
    text is a `Day`, any other value is as it is."""
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return Day(value)
    return value


def moment_words(value: Any, now: datetime | None = None) -> str:
    """A naive-UTC time as its local day and weekday, then the time (12月8日 周二 14:00; with the
    year when it is not this year's): the booking pages' times, a time's facts, the home page.
    A plain date is its day alone, nothing is "" (as `local_time`)."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return day_words(moment, now)
    return f"{day_words(moment, now)} {local_time(moment, 'HH:mm')}"


def due_words(value: Any, now: datetime | None = None) -> str:
    """When something is due, as a person plans by it: "today 18:00", "tomorrow 09:00",
    "yesterday 18:00" (the reader's local calendar: 23:30 in Shanghai is still today), else the
    day with its weekday and the time (12月10日 周四 14:00). Every deadline a person reads on a
    page says it so (a peer's task, a staff deadline, an inbox note), and so does a counselling
    appointment's or a duty shift's time; exports and printed forms keep ISO times. A peer's
    task names no period in its text: this is where its urgency shows."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return day_words(moment, now)
    now = now or clock.now()
    day, today = local_day(moment), local_day(now)
    at = local_time(moment, "HH:mm")
    relative = {
        today: gettext("today %(time)s", time=at),
        today + timedelta(days=1): gettext("tomorrow %(time)s", time=at),
        today - timedelta(days=1): gettext("yesterday %(time)s", time=at),
    }
    return relative.get(day) or moment_words(moment, now)


def due_words_start(value: Any, now: datetime | None = None) -> str:
    """`due_words` where the time begins a line or a sentence: "Tomorrow 10:00", "Today 04:12"
    in English (a Chinese 明天 has no case); mid-sentence uses keep "tomorrow 10:00"."""
    words = due_words(value, now)
    return words[:1].upper() + words[1:]


def machine_time(value: Any) -> str:
    """A time for a program to read, as a page's `<time datetime>` gives it: the reader's local
    wall-clock time to the minute with its offset from UTC (2026-12-07T09:12+08:00), a plain date
    as its ISO day (2026-12-07); "" for nothing."""
    moment = _moment(value)
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return clock.to_local(moment, clock.viewer_zone()).isoformat(timespec="minutes")


# How `timed` says a time, by the name a template gives: a record of when something happened
# ("moment": 12月5日 周六 07:34), a deadline or a note's time read as it is planned by ("due":
# 今天 14:00), a day ("day": 12月7日 周一), a day with its year ("dated": 2026年12月7日 周一), a
# calendar month ("month": 2026年11月), a week's first day ("week": 12月7日（周一）), a calendar
# day that names no moment, such as a birth date ("calendar": 2008年8月7日).
WORDS = {
    "moment": moment_words,
    "due": due_words,
    "due_start": due_words_start,  # the same, beginning a line ("Today 14:00")
    "day": day_words,
    "dated": dated_words,
    "month": month_words,
    "week": week_words,
    "calendar": calendar_words,
}


@pass_context
def timed(context: Context, value: Any, words: str = "moment") -> str:
    """A time where a person reads it: in words (`WORDS[words]`) inside `<time datetime="…">`
    holding it for programs (`machine_time`); on a printed page (the template's `printing` is
    true) as a document writes it, with its year and no weekday, in the language it is printed
    in (`written_time`: 2026年12月5日 7:34, "5 December 2026, 07:34"; `written_day` for a day:
    2026年12月5日; a month as `month_words`), kept on one line. "" for nothing."""
    moment = _moment(_month_day(value) if words == "month" else value)
    if moment is None:
        return ""
    if words == "month":  # a month is its calendar's: no zone, no day (<time datetime="2026-11">)
        held = f"{moment:%Y-%m}"
        if context.get("printing"):
            return month_words(moment)
        return Markup('<time datetime="{}">{}</time>').format(held, month_words(moment))
    if context.get("printing"):
        # On one line (static/documents.css), not 2026年11月27 over 日 in a narrow column.
        written = written_day if words in ("day", "dated", "week", "calendar") else written_time
        return Markup('<span class="doc-date">{}</span>').format(written(context, moment))
    return Markup('<time datetime="{}">{}</time>').format(
        machine_time(moment), WORDS[words](moment)
    )
