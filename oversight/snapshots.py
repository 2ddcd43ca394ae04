"""The province view's figures: computed ahead by a sweep, shown with the time they were taken.

Why not live: the province view compares every university over months, so each KPI aggregates the
whole province; at a million warnings and referrals that is ~2.4 s of queries, more than a page
may take. The province needs figures that are minutes old, not seconds, so the scheduler
recomputes every period auditors look at each PROVINCE_REFRESH_MINUTES, and the page and its
exports show the stored tables with their "as of" time. Computing the same KPI functions as the
institution dashboard keeps both pages' definitions one and the same.

A period nobody asked for before is computed when first asked for (once) and kept fresh while
auditors keep opening it. If the scheduler stops, a snapshot older than PROVINCE_MAX_AGE_MINUTES
is recomputed on request instead of being shown, so the page is never silently old.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from io import StringIO

import pandas as pd
from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from oversight import kpis
from oversight.models import ProvinceSnapshot
from referrals.services import ReferralSettings

PROVINCE_GROUPINGS = ("institution", "month")
# A sweep recomputes at most this many periods a tick (each takes ~2 s at a million warnings and
# the tick shares its lease with the escalation sweep); the oldest go first, the rest follow on
# the next ticks: with 15-minute refreshes and 1-minute ticks, 60 periods stay fresh.
REFRESH_BATCH = 4
# Writing "last looked at" on every page view would turn reads into writes; an hour is precise
# enough to decide which periods are still wanted.
TOUCH_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class SnapshotSettings:
    refresh: timedelta
    max_age: timedelta
    keep: timedelta
    referrals: ReferralSettings

    @classmethod
    def from_config(cls, config) -> SnapshotSettings:
        return cls(
            refresh=timedelta(minutes=int(config["PROVINCE_REFRESH_MINUTES"])),
            max_age=timedelta(minutes=int(config["PROVINCE_MAX_AGE_MINUTES"])),
            keep=timedelta(days=int(config["PROVINCE_KEEP_DAYS"])),
            referrals=ReferralSettings.from_config(config),
        )


@dataclass(frozen=True)
class Snapshot:
    view: kpis.View
    computed_at: datetime
    frames: dict[str, pd.DataFrame]


def province_view(session: Session, first: date, last: date, by: str) -> kpis.View:
    """Every university of the province, side by side, for the period, on the province's
    calendar (the app's DISPLAY_TIMEZONE)."""
    offset = kpis.offset_of(clock.institution_zone(None), first)
    return kpis.View(_universities(session), first, last, by, utc_offset=offset)


def _universities(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalars(
            select(Institution.id).where(Institution.kind == "university").order_by(Institution.id)
        )
    )


def snapshot_for(
    session: Session,
    first: date,
    last: date,
    by: str,
    now: datetime,
    settings: SnapshotSettings,
    *,
    reader: Session | None = None,
) -> Snapshot:
    """The province tables for a period: the stored snapshot, or a new one if there is none or
    the one stored is older than the maximum age. `reader` (default: `session`) runs the KPI
    aggregates, e.g. on a read replica; the snapshot is written through `session`, which the
    caller commits."""
    row = _find(session, by, first, last)
    if row is None or row.computed_at < now - settings.max_age:
        view = province_view(session, first, last, by)
        row = _store(session, view, now, settings, reader or session)
    if row.requested_at < now - TOUCH_AFTER:
        row.requested_at = now
    return _decode(row)


def refresh_sweep(
    session: Session, now: datetime, settings: SnapshotSettings, *, reader: Session | None = None
) -> int:
    """Recompute the default period and every period looked at lately once it is REFRESH old;
    forget periods nobody opened for KEEP. Returns how many snapshots were computed."""
    reader = reader or session
    first, last = kpis.default_period(clock.local_date(now, clock.institution_zone(None)))
    computed = 0
    for by in PROVINCE_GROUPINGS:
        if _find(session, by, first, last) is None:
            _store(session, province_view(session, first, last, by), now, settings, reader)
            computed += 1
    session.execute(
        delete(ProvinceSnapshot).where(
            ProvinceSnapshot.requested_at < now - settings.keep,
            or_(ProvinceSnapshot.first_month != first, ProvinceSnapshot.last_month != last),
        )
    )
    due = session.scalars(
        select(ProvinceSnapshot)
        .where(ProvinceSnapshot.computed_at <= now - settings.refresh)
        .order_by(ProvinceSnapshot.computed_at)
        .limit(REFRESH_BATCH)
    ).all()
    for row in due:
        view = province_view(session, row.first_month, row.last_month, row.by)
        _fill(reader, row, view, now, settings)
    session.flush()
    return computed + len(due)


# --- storage -------------------------------------------------------------------------------------


def _find(session: Session, by: str, first: date, last: date) -> ProvinceSnapshot | None:
    return session.scalar(
        select(ProvinceSnapshot).where(
            ProvinceSnapshot.by == by,
            ProvinceSnapshot.first_month == first,
            ProvinceSnapshot.last_month == last,
        )
    )


def _fill(
    reader: Session,
    row: ProvinceSnapshot,
    view: kpis.View,
    now: datetime,
    settings: SnapshotSettings,
) -> None:
    frames = kpis.compute_all(reader, view, now, settings.referrals)
    row.frames = json.dumps(
        {key: frame.to_json(orient="split", index=False) for key, frame in frames.items()}
    )
    row.computed_at = now


def _store(
    session: Session,
    view: kpis.View,
    now: datetime,
    settings: SnapshotSettings,
    reader: Session,
) -> ProvinceSnapshot:
    """Compute and save the period's snapshot (a new row, or the existing one updated). Two
    requests computing the same new period at once both succeed: the second uses the first's row."""
    row = _find(session, view.by, view.first_month, view.last_month)
    if row is None:
        row = ProvinceSnapshot(
            by=view.by, first_month=view.first_month, last_month=view.last_month, requested_at=now
        )
        _fill(reader, row, view, now, settings)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another request stored the same view first: that one is kept
            found = _find(session, view.by, view.first_month, view.last_month)
            assert found is not None  # the unique key refused ours because this row exists
            return found
        return row
    _fill(reader, row, view, now, settings)
    return row


def _decode(row: ProvinceSnapshot) -> Snapshot:
    """The stored tables; the view names the institutions they were computed for."""
    frames = {
        key: pd.read_json(StringIO(payload), orient="split", dtype=False, convert_dates=False)
        for key, payload in json.loads(row.frames).items()
    }
    institutions = tuple(int(i) for i in pd.unique(frames[kpis.KPIS[0].key]["institution_id"]))
    return Snapshot(
        kpis.View(institutions, row.first_month, row.last_month, row.by), row.computed_at, frames
    )
