"""The one source of "now".

Everything that depends on time (deadlines, expiry, escalation) asks this module, so tests can move
time forward instead of sleeping. Times are naive UTC throughout the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


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
