"""The one source of "now".

Everything that depends on time (deadlines, expiry, escalation) asks this module, so tests can move
time forward instead of sleeping. Times are naive UTC throughout the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from campus.models import Institution

_frozen: datetime | None = None
FALLBACK_ZONE = "Asia/Shanghai"


def now() -> datetime:
    """Current naive UTC time, or the frozen time while a test holds it."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (None thaws it)."""
    global _frozen
    _frozen = moment


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward; freezes it at the real time first if needed."""
    set_now(now() + delta)
    return now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    previous = _frozen
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)


# Local time: the rules that speak of "today", "this week" or a calendar date mean the
# institution's calendar, not UTC's (00:00-08:00 in Shanghai is still yesterday in UTC).


def institution_zone(institution: Institution | None) -> ZoneInfo:
    """The institution's time zone; the app's DISPLAY_TIMEZONE when it names none."""
    name = getattr(institution, "timezone", None)
    if not name:
        from flask import current_app
        from flask import has_app_context

        name = current_app.config["DISPLAY_TIMEZONE"] if has_app_context() else FALLBACK_ZONE
    return ZoneInfo(name)


def viewer_zone() -> ZoneInfo:
    """The zone of the signed-in reader's institution (the app's DISPLAY_TIMEZONE otherwise):
    what a person reads, or types as a local time, is in their own institution's zone.

    Kept for the request once known (`remember_viewer_zone` runs before each request, while the
    signed-in user is freshly loaded with their institution), so a page that commits midway does
    not reload the user just to show a time."""
    from flask import g
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and "viewer_zone" in g:
        remembered: ZoneInfo = g.viewer_zone
        return remembered
    user = current_user if current_user and current_user.is_authenticated else None
    zone = institution_zone(user.institution if user is not None else None)
    if has_request_context():
        g.viewer_zone = zone
    return zone


def remember_viewer_zone() -> None:
    """Before each request: learn the reader's zone (see `viewer_zone`)."""
    viewer_zone()


def to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive UTC moment as an aware local time in ``zone``."""
    return moment.replace(tzinfo=UTC).astimezone(zone)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time in ``zone`` (naive or aware) as naive UTC, as stored."""
    aware = local if local.tzinfo is not None else local.replace(tzinfo=zone)
    return aware.astimezone(UTC).replace(tzinfo=None)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date in ``zone`` at the naive UTC ``moment``."""
    return to_local(moment, zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The naive UTC moment the local calendar `day` begins in ``zone`` (its midnight)."""
    return to_utc(datetime.combine(day, time()), zone)
