"""The closure audit: which referrals a period had to account for, how each ended, how fast.

Definitions (also written on the page and in the KPI's definition, `oversight.kpis`, both
quoting the settings in force):

- A referral counts once it was sent to a hospital; drafts never do. Its **expected closure
  date** is the day it was sent plus `expected_closure_days` (90 by default).
- A period's audit is read **as of** its end, or now while the period runs; a period that has
  not begun has nothing due.
- **Closed** in the period: it ended in the period as "closed", with a documented refusal
  ("declined") or a withdrawal, whenever it was expected to. Each ended referral is **early**
  (ended before its expected closure date), **on time** (on that date) or **late** (after it);
  the list names how it ended and who ended it.
- **Lost to follow-up** in the period: it ended so in the period. It is not closed: that is the
  failure the audit is meant to show.
- **Overdue**: its expected closure date is over and it had not ended, as of the audit's moment,
  whenever it was sent: a referral left open counts in every period at whose end it is still
  open, until it ends.
- **Due to close** = closed + lost to follow-up + overdue; **closure rate** = closed ÷ due to
  close. With nothing due the rate is shown as "—", not 0 %.
- **Days to closure** = from being sent to being closed, over the closed referrals; the median and
  90th percentile use linear interpolation between the nearest ranks.
- **Stalled**: not ended (a draft too), with no update for `stalled_days` (14 by default) or
  more, as of now, whatever the period.
- Each month of a period is an audit of its own (overdue as of that month's end), so a period's
  figures are not the sum of its months'. Dates are calendar dates in the institution's zone (a
  referral sent at 23:30 in Shanghai was sent that day, not the next), the last day included.

All arithmetic is done on a DataFrame of referral rows with vectorised pandas operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import and_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from campus import clock
from campus.i18n import name_column
from campus.models import Department
from campus.models import Hospital
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from referrals.services import OPEN
from referrals.services import ReferralSettings
from referrals.states import CLOSED_LOOP
from referrals.states import TERMINAL

COLUMNS = [
    "due",
    "closed",
    "closure_rate",
    "closed_late",
    "lost",
    "overdue",
    "median_days",
    "p90_days",
    "stalled",
]
# The lists behind the figures, each a flag of `annotate`: "late" is closed late.
# The audit of a running period reads "now" as the instant just after it (`Period.as_of`).
JUST_AFTER = timedelta(microseconds=1)

LISTS = ("due", "closed", "late", "lost", "overdue", "stalled")
DRILL_COLUMNS = [
    "id",
    "student_id",
    "student_number",
    "student_name",
    "department",
    "hospital",
    "status",
    "sent_at",
    "expected_closure",
    "ended_at",
    "timing",
    "ended_by",
    "ended_side",
    "stalled",
    "overdue",
]
EARLY, ON_TIME, LATE = "early", "on_time", "late"


@dataclass(frozen=True)
class Period:
    """Local calendar days `first` to `last`, both included; `start` and `end` are local
    midnights (naive, in the institution's zone)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    def as_of(self, local_now: datetime) -> datetime | None:
        """The local moment the period's audit is read at: its end, or now while it runs;
        None before it begins. A referral is open at the moment when it ended at or after it:
        "now" is read just after now, so one closed in this very instant has ended (it was
        counted closed and overdue at once)."""
        if local_now < self.start:
            return None
        return min(local_now + JUST_AFTER, self.end)

    def months(self) -> Iterator[tuple[str, Period]]:
        """Each calendar month the period touches ("YYYY-MM"), as the part of it in the period."""
        first = self.first
        while first <= self.last:
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            yield first.strftime("%Y-%m"), Period(first, min(self.last, following - timedelta(1)))
            first = following

    def month(self, key: str) -> Period:
        """The part of the period in month `key` ("YYYY-MM"); ValueError for any other month."""
        for name, part in self.months():
            if name == key:
                return part
        raise ValueError(f"not a month of the period: {key}")


def referral_frame(session: Session, user: User, institution_id: int) -> pd.DataFrame:
    """Each referral of the institution whose student `user` may see (roster scope), one row,
    with who ended it (the person and the side: counsellor or liaison) once it has ended."""
    ending = aliased(ReferralTransition)
    ender = aliased(User)
    stmt = (
        select(
            Referral.id,
            Referral.student_id,
            Referral.status,
            Referral.sent_at,
            Referral.ended_at,
            Referral.last_transition_at,
            Referral.department_id,
            Department.name.label("department"),
            Referral.hospital_id,
            name_column(Hospital).label("hospital"),
            Student.student_number,
            Student.name.label("student_name"),
            ender.name.label("ended_by"),
            ending.by_role.label("ended_side"),
        )
        .join(Student, Student.id == Referral.student_id)
        .join(Department, Department.id == Referral.department_id)
        .join(Hospital, Hospital.id == Referral.hospital_id)
        # A terminal state is entered once and never left: its one transition says who ended it.
        .outerjoin(
            ending,
            and_(
                ending.referral_id == Referral.id,
                ending.to_status == Referral.status,
                Referral.status.in_(TERMINAL),
            ),
        )
        .outerjoin(ender, ender.id == ending.by_id)
        .where(Referral.institution_id == institution_id, student_filter(user, Capability.ROSTER))
        .order_by(Referral.id)
    )
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))
    frame["status"] = frame["status"].map(lambda s: ReferralStatus(s).value)
    for column in ("sent_at", "ended_at", "last_transition_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _local(moments: pd.Series, zone: ZoneInfo) -> pd.Series:
    """Naive UTC times as naive wall-clock times in `zone`, to compare with local calendar days."""
    return moments.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)


def annotate(
    frame: pd.DataFrame,
    period: Period,
    now: datetime,
    settings: ReferralSettings,
    zone: ZoneInfo,
) -> pd.DataFrame:
    """Add the audit's per-referral facts for `period`: expected closure, closed, lost, timing,
    late, overdue, due, days, stalled.

    Times stay UTC; which day a referral falls on is read on the institution's calendar
    (`zone`)."""
    out = frame.copy()
    sent = out["sent_at"].notna()
    expected_day = _local(out["sent_at"], zone).dt.normalize() + pd.Timedelta(
        days=settings.expected_closure_days
    )
    out["expected_closure"] = expected_day.dt.date.astype(object).where(sent, None)
    ended_local = _local(out["ended_at"], zone)
    ended = sent & ended_local.notna()
    in_period = ended_local.between(
        pd.Timestamp(period.start), pd.Timestamp(period.end), inclusive="left"
    )
    status = out["status"]
    out["closed"] = ended & in_period & status.isin([s.value for s in CLOSED_LOOP])
    out["lost"] = ended & in_period & (status == ReferralStatus.LOST_TO_FOLLOW_UP.value)
    ended_day = ended_local.dt.normalize()
    timing = np.select(
        [ended_day < expected_day, ended_day == expected_day, ended_day > expected_day],
        [EARLY, ON_TIME, LATE],
        default="",
    )
    out["timing"] = pd.Series(timing, index=out.index).where(ended, None)
    out["late"] = out["closed"] & (out["timing"] == LATE)
    out["overdue"] = _overdue(sent, expected_day, ended_local, period.as_of(_now_in(now, zone)))
    out["due"] = out["closed"] | out["lost"] | out["overdue"]
    out["days"] = ((out["ended_at"] - out["sent_at"]).dt.total_seconds() / 86_400).where(
        out["closed"]
    )
    stalled_before = pd.Timestamp(now - timedelta(days=settings.stalled_days))
    is_open = status.isin([s.value for s in OPEN])
    out["stalled"] = is_open & (out["last_transition_at"] <= stalled_before)
    return out


def _now_in(now: datetime, zone: ZoneInfo) -> datetime:
    return clock.to_local(now, zone).replace(tzinfo=None)


def _overdue(
    sent: pd.Series, expected_day: pd.Series, ended_local: pd.Series, as_of: datetime | None
) -> pd.Series:
    """Sent, its expected closure day over and not ended, at the local moment `as_of`."""
    if as_of is None:
        return pd.Series(False, index=sent.index)
    moment = pd.Timestamp(as_of)
    day_over = expected_day + pd.Timedelta(days=1) <= moment
    return sent & day_over & (ended_local.isna() | (ended_local >= moment))


def summarise(annotated: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Closure figures of the period, overall (`by` None) or per group: the groups with anything
    due or stalled."""
    rows = annotated[annotated["due"] | annotated["stalled"]]
    keys = [by] if by else (lambda _: "all")
    grouped = rows.groupby(keys, sort=True)
    table = pd.DataFrame(
        {
            "due": grouped["due"].sum(),
            "closed": grouped["closed"].sum(),
            "closed_late": grouped["late"].sum(),
            "lost": grouped["lost"].sum(),
            "overdue": grouped["overdue"].sum(),
            "median_days": grouped["days"].median(),
            "p90_days": grouped["days"].quantile(0.9),
            "stalled": grouped["stalled"].sum(),
        }
    )
    if table.empty and by is None:
        counts = ("due", "closed", "closed_late", "lost", "overdue", "stalled")
        table = pd.DataFrame({c: [0] for c in counts}, index=["all"])
        table["median_days"] = float("nan")
        table["p90_days"] = float("nan")
    table["closure_rate"] = (table["closed"] / table["due"].where(table["due"] > 0)).astype(float)
    return table[COLUMNS]


def by_month(
    frame: pd.DataFrame,
    period: Period,
    now: datetime,
    settings: ReferralSettings,
    zone: ZoneInfo,
) -> pd.DataFrame:
    """Every month of the period as an audit of its own (overdue as of that month's end), one
    row a month, nothing due reading as nothing. Referrals stalled now count in the month that
    holds today only: a stall is a fact of today, not of every month."""
    months = {
        key: summarise(annotate(frame, part, now, settings, zone)) for key, part in period.months()
    }
    table = pd.concat(months.values()).set_axis(pd.Index(list(months), name="month"))
    table.loc[table.index != _now_in(now, zone).strftime("%Y-%m"), "stalled"] = 0
    return table


def snapshot(
    frame: pd.DataFrame, now: datetime, settings: ReferralSettings, zone: ZoneInfo
) -> dict[str, int]:
    """Referrals stalled and overdue right now, whatever their period."""
    today = _now_in(now, zone).date()
    annotated = annotate(frame, Period(today, today), now, settings, zone)
    return {
        "stalled": int(annotated["stalled"].sum()),
        "overdue": int(annotated["overdue"].sum()),
    }


def drill_down(
    annotated: pd.DataFrame,
    *,
    which: str = "due",
    department_id: int | None = None,
    hospital_id: int | None = None,
) -> pd.DataFrame:
    """The referral rows behind a figure: `which` is one of `LISTS`."""
    if which not in LISTS:
        raise ValueError(f"unknown list: {which}")
    mask = annotated[which].astype(bool)
    if department_id is not None:
        mask &= annotated["department_id"] == department_id
    if hospital_id is not None:
        mask &= annotated["hospital_id"] == hospital_id
    return annotated.loc[mask, DRILL_COLUMNS]
