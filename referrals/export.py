"""Closure exports: the formula-safe CSV and XLSX writers shared by every domain live in
`campus.spreadsheets`; the closure views reach them through this name.

A file of referrals is headed and worded as the closure list reads (学号, 已转介, 是/否), in
the reader's language: an administrator auditing closure rates reads it, not our column names.
The oversight drill-down of stalled referrals reuses these words for the same columns.
"""

from __future__ import annotations

import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from campus.export_rights import PSEUDONYM_LABEL
from campus.spreadsheets import readable
from campus.spreadsheets import to_csv
from campus.spreadsheets import to_xlsx
from referrals import metrics
from referrals.forms import STATUS_LABELS
from referrals.models import ReferralStatus
from referrals.states import Actor

__all__ = [
    "COLUMN_LABELS",
    "readable_referrals",
    "side_word",
    "status_word",
    "timing_word",
    "to_csv",
    "to_xlsx",
    "yes_no",
]

# Each column of a referral list (metrics.DRILL_COLUMNS) as its page heads it.
COLUMN_LABELS: dict[str, object] = {
    "id": "#",
    "pseudonym": PSEUDONYM_LABEL,
    "student_number": _l("Student number"),
    "student_name": _l("Name"),
    "department": _l("Department"),
    "hospital": _l("Hospital"),
    "status": _l("Status"),
    "sent_at": _lp("column", "Sent"),
    "expected_closure": _l("Expected closure"),
    "ended_at": _l("Ended"),
    "timing": _l("Against the expected date"),
    "ended_by": _l("Ended by"),
    "stalled": _l("Stalled"),
    "overdue": _lp("closure audit", "Overdue"),
}
# An ended referral against its expected closure date (`metrics.EARLY`, `ON_TIME`, `LATE`).
TIMING_LABELS: dict[str, object] = {
    metrics.EARLY: _lp("closure timing", "Early"),
    metrics.ON_TIME: _lp("closure timing", "On time"),
    metrics.LATE: _lp("closure timing", "Late"),
}
# Who ended a referral, by the side they acted for (`referrals.states.Actor`).
SIDE_LABELS: dict[str, object] = {
    Actor.COUNSELLOR.value: _l("Counselling centre"),
    Actor.LIAISON.value: _l("Hospital"),
}


def status_word(code: str) -> str:
    """A referral status as its pages name it; a code we have no word for as itself."""
    try:
        return str(STATUS_LABELS[ReferralStatus(code)])
    except (KeyError, ValueError):
        return str(code)


def yes_no(flag: object) -> str:
    return _("Yes") if bool(flag) else _("No")


def timing_word(code: str) -> str:
    return str(TIMING_LABELS.get(code, code))


def side_word(code: str) -> str:
    return str(SIDE_LABELS.get(code, code))


WORDS = {"status": status_word, "timing": timing_word, "stalled": yes_no, "overdue": yes_no}


def with_ender(frame: pd.DataFrame) -> pd.DataFrame:
    """Who ended each referral as one cell, the person and the side they acted for (王芳（医院）),
    in place of `metrics.referral_frame`'s two columns: the list and its files say it alike."""
    out = frame.drop(columns=["ended_side"])
    named = frame["ended_by"].notna()
    out["ended_by"] = [
        _("%(name)s (%(side)s)", name=name, side=side_word(side)) if shown else None
        for name, side, shown in zip(frame["ended_by"], frame["ended_side"], named, strict=True)
    ]
    return out


def readable_referrals(frame: pd.DataFrame) -> pd.DataFrame:
    """Referral rows (as the export tier left them) headed and worded for the reader."""
    return readable(with_ender(frame), COLUMN_LABELS, WORDS)
