"""The closure audit: how many referrals that were due to close did close, and how fast.

Definitions (also written on the page):

- A referral is **due to close** in a period when it was sent to a hospital (drafts never count)
  and its expected closure date — the day it was sent plus `expected_closure_days` (90 by
  default) — falls within the period. Dates are calendar dates in the institution's zone (a
  referral sent at 23:30 in Shanghai was sent that day, not the next), the last day included.
- It is **closed** when, before the end of the period, it reached "closed" or ended with a
  documented refusal ("declined") or a withdrawal. "Lost to follow-up" is not closed: that is the
  failure the audit is meant to show.
- **Closure rate** = closed ÷ due to close. With nothing due the rate is shown as "—", not 0 %.
- **Days to closure** = from being sent to being closed, over the closed referrals; the median and
  90th percentile use linear interpolation between the nearest ranks.
- **Stalled**: not ended, with no update for `stalled_days` (14) or more, as of now.
- **Overdue**: not ended and past its expected closure date, as of now.

All arithmetic is done on a DataFrame of referral rows with vectorised pandas operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.i18n import name_column
from campus.models import Department
from campus.models import Hospital
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.services import OPEN
from referrals.services import ReferralSettings
from referrals.states import CLOSED_LOOP

COLUMNS = ["due", "closed", "closure_rate", "median_days", "p90_days", "stalled", "overdue"]
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
    "stalled",
    "overdue",
]


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


def referral_frame(session: Session, user: User, institution_id: int) -> pd.DataFrame:
    """Each referral of the institution whose student `user` may see (roster scope), one row."""
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
        )
        .join(Student, Student.id == Referral.student_id)
        .join(Department, Department.id == Referral.department_id)
        .join(Hospital, Hospital.id == Referral.hospital_id)
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
    """Add the audit's per-referral facts: expected closure, due, closed, days, stalled, overdue.

    Times stay UTC; which day or month a referral falls in is read on the institution's
    calendar (`zone`)."""
    out = frame.copy()
    out["expected_closure"] = out["sent_at"] + pd.Timedelta(days=settings.expected_closure_days)
    expected_local = _local(out["expected_closure"], zone)
    out["due"] = expected_local.between(
        pd.Timestamp(period.start), pd.Timestamp(period.end), inclusive="left"
    )
    closed_loop = out["status"].isin([s.value for s in CLOSED_LOOP])
    ended_local = _local(out["ended_at"], zone)
    out["closed"] = out["due"] & closed_loop & (ended_local < pd.Timestamp(period.end))
    out["days"] = ((out["ended_at"] - out["sent_at"]).dt.total_seconds() / 86_400).where(
        out["closed"]
    )
    is_open = out["status"].isin([s.value for s in OPEN])
    stalled_before = pd.Timestamp(now - timedelta(days=settings.stalled_days))
    out["stalled"] = is_open & (out["last_transition_at"] <= stalled_before)
    out["overdue"] = (
        is_open & out["sent_at"].notna() & (out["expected_closure"] <= pd.Timestamp(now))
    )
    out["month"] = expected_local.dt.strftime("%Y-%m")
    return out


def summarise(annotated: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Closure figures over the referrals due in the period, overall (`by` None) or per group."""
    due = annotated[annotated["due"]]
    keys = [by] if by else (lambda _: "all")
    grouped = due.groupby(keys, sort=True)
    table = pd.DataFrame(
        {
            "due": grouped.size(),
            "closed": grouped["closed"].sum(),
            "median_days": grouped["days"].median(),
            "p90_days": grouped["days"].quantile(0.9),
            "stalled": grouped["stalled"].sum(),
            "overdue": grouped["overdue"].sum(),
        }
    )
    if table.empty and by is None:
        table = pd.DataFrame(
            {c: [0] for c in ("due", "closed", "stalled", "overdue")}, index=["all"]
        )
        table["median_days"] = float("nan")
        table["p90_days"] = float("nan")
    table["closure_rate"] = (table["closed"] / table["due"].where(table["due"] > 0)).astype(float)
    return table[COLUMNS]


def snapshot(annotated: pd.DataFrame) -> dict[str, int]:
    """Referrals stalled and overdue right now, whatever their period."""
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
    month: str | None = None,
) -> pd.DataFrame:
    """The referral rows behind a figure: `which` is due, closed, stalled or overdue."""
    if which not in ("due", "closed", "stalled", "overdue"):
        raise ValueError(f"unknown list: {which}")
    mask = annotated[which].astype(bool)
    if department_id is not None:
        mask &= annotated["department_id"] == department_id
    if hospital_id is not None:
        mask &= annotated["hospital_id"] == hospital_id
    if month:
        mask &= annotated["month"] == month
    return annotated.loc[mask, DRILL_COLUMNS]
