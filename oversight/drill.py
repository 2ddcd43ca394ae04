"""Drill-downs: the students and warnings behind a dashboard figure, for roles that may see them.

Every list is queried through `campus.scope.student_filter`, so a viewer sees only the students
their roles admit (administrators and directors of their own institution); the view audits each
list it returns. The province auditor never reaches this module: its filter admits nobody.

The page and the files of a list say the same words: `COLUMN_LABELS` heads both, `worded` turns
codes (red, open, sent, True) into what the page shows; a file is both (`readable`).
"""

from __future__ import annotations

from datetime import date
from datetime import datetime

import pandas as pd
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.i18n import name_column
from campus.models import Department
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from campus.spreadsheets import readable as readable_frame
from oversight.kpis import CAMPAIGNS_OPENED
from oversight.kpis import CONTACTED
from oversight.kpis import LEVEL_NAMES
from oversight.kpis import WARNINGS_OPENED
from oversight.kpis import View
from oversight.kpis import in_view
from oversight.tables import LEVEL_LABELS
from referrals import export as referral_export
from referrals import metrics
from referrals.services import ReferralSettings
from screening.models import Campaign
from screening.models import CampaignAssignment
from warning.models import EarlyWarning

LEVEL_OF = {name: level for level, name in LEVEL_NAMES.items()}
# Each list by its name in the address, with the title a reader sees.
LIST_TITLES = {
    "warned": _l("Students with a warning"),
    "red": _l("Students with a red warning"),
    "yellow": _l("Students with a yellow warning"),
    "blue": _l("Students with a blue warning"),
    "uncontacted": _l("Warned students not yet contacted"),
    "unscreened": _l("Students not yet screened"),
    "stalled": _l("Stalled referrals"),
}
LISTS = tuple(LIST_TITLES)
# The closure audit's columns about how a referral ended, which a stalled one has not.
ENDING_COLUMNS = ("ended_at", "timing", "ended_by", "ended_side")
# Who each row is about, the first columns of every list (`student_id` only for the audit row).
WHO = (
    Student.id.label("student_id"),
    Student.student_number,
    Student.name.label("student_name"),
    Department.name.label("department"),
)

# Each column a list can have, as its page and its files head it (the referral columns of
# "stalled" as the closure audit heads them).
COLUMN_LABELS: dict[str, object] = {
    **referral_export.COLUMN_LABELS,
    "level": _l("Level"),
    "opened_at": _l("Opened"),
    "last_contact_at": _l("Last contact"),
    "campaign": _l("Campaign"),
    "started_at": _lp("column", "Started"),
    "closes_at": _l("Closes"),
}
WARNING_STATUS_LABELS = {"open": _lp("warning", "Open"), "closed": _lp("warning", "Closed")}
# The times a list's page says as a deadline (`campus.local_time.timed`: "today 23:59"): a
# campaign's close, by which its students were to be screened. Its other times read as when
# they happened, a day alone as its day; the list's files keep ISO times.
DUE_COLUMNS = frozenset({"closes_at"})


def _level_word(code: str) -> str:
    return str(LEVEL_LABELS.get(code, code))


def _warning_status_word(code: str) -> str:
    return str(WARNING_STATUS_LABELS.get(code, code))


class UnknownList(ValueError):
    """A drill-down that does not exist (a forged list name)."""


def drill_down(
    session: Session,
    user: User,
    which: str,
    view: View,
    now: datetime,
    settings: ReferralSettings,
) -> pd.DataFrame:
    """The rows behind one figure of `view` (one institution, optional department/month).

    The `student_id` column names the students for the audit trail; `shown` takes it off.
    """
    if which in ("warned", "red", "yellow", "blue", "uncontacted"):
        return _warnings(session, user, which, view)
    if which == "unscreened":
        return _unscreened(session, user, view)
    if which == "stalled":
        return _stalled(session, user, view, now, settings)
    raise UnknownList(which)


def shown(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """The columns a reader sees, and the ids of the students in them for the audit row."""
    return frame.drop(columns=["student_id"]), [int(s) for s in frame["student_id"]]


def worded(frame: pd.DataFrame, which: str) -> pd.DataFrame:
    """The rows of list `which` with codes as the words a reader sees (columns keep names)."""
    if which == "stalled":
        words = referral_export.WORDS
    else:
        words = {"level": _level_word, "status": _warning_status_word}
    return readable_frame(frame, {}, words)


def time_words(frame: pd.DataFrame) -> dict[str, str]:
    """Each column of `frame` that holds times or days, and how its page says them (`timed`'s
    "due", "moment" or "day"), told by its first value."""
    words = {}
    for column in frame.columns:
        first = frame[column].first_valid_index()
        value = None if first is None else frame[column][first]
        if isinstance(value, datetime):
            words[column] = "due" if column in DUE_COLUMNS else "moment"
        elif isinstance(value, date):
            words[column] = "day"
    return words


def readable(frame: pd.DataFrame, which: str) -> pd.DataFrame:
    """The rows of list `which` for a file: worded, and headed in the reader's language."""
    return readable_frame(worded(frame, which), COLUMN_LABELS)


def _warnings(session: Session, user: User, which: str, view: View) -> pd.DataFrame:
    stmt = (
        select(
            *WHO,
            EarlyWarning.level,
            EarlyWarning.status,
            EarlyWarning.opened_at,
            EarlyWarning.last_contact_at,
        )
        .join(Student, Student.id == EarlyWarning.student_id)
        .join(Department, Department.id == EarlyWarning.department_id)
        .where(in_view(view, WARNINGS_OPENED), student_filter(user, Capability.WARNING))
        .order_by(EarlyWarning.opened_at, EarlyWarning.id)
    )
    if which in LEVEL_OF:
        stmt = stmt.where(EarlyWarning.level == LEVEL_OF[which])
    if which == "uncontacted":
        stmt = stmt.where(~CONTACTED)
    frame = _frame(session, stmt)
    frame["level"] = frame["level"].map(LEVEL_NAMES)
    frame["status"] = frame["status"].map(lambda s: getattr(s, "value", s))
    return frame


def _unscreened(session: Session, user: User, view: View) -> pd.DataFrame:
    stmt = (
        select(
            *WHO,
            name_column(Campaign).label("campaign"),
            Campaign.closes_at,
            CampaignAssignment.started_at,
        )
        .join(Campaign, Campaign.id == CampaignAssignment.campaign_id)
        .join(Student, Student.id == CampaignAssignment.student_id)
        .join(Department, Department.id == Student.department_id)
        .where(
            in_view(view, CAMPAIGNS_OPENED),
            CampaignAssignment.completed_at.is_(None),
            student_filter(user, Capability.ROSTER),
        )
        .order_by(Campaign.name, Student.student_number)
    )
    return _frame(session, stmt)


def _stalled(
    session: Session, user: User, view: View, now: datetime, settings: ReferralSettings
) -> pd.DataFrame:
    """Referrals stalled now, through the referral stage's own closure-audit drill-down: a
    stall is a fact of today, whatever the view's months, so each is audited as of today
    (overdue now, too)."""
    frames = []
    for institution_id in view.institution_ids:
        frame = metrics.referral_frame(session, user, institution_id)
        zone = clock.institution_zone(session.get(Institution, institution_id))
        today = clock.local_date(now, zone)
        annotated = metrics.annotate(frame, metrics.Period(today, today), now, settings, zone)
        frames.append(
            metrics.drill_down(annotated, which="stalled", department_id=view.department_id)
        )
    # An open referral has not ended: no end, timing or who ended it to show.
    return pd.concat(frames, ignore_index=True).drop(columns=["id", *ENDING_COLUMNS])


def _frame(session: Session, stmt) -> pd.DataFrame:
    return pd.DataFrame(session.execute(stmt).all(), columns=list(stmt.selected_columns.keys()))
