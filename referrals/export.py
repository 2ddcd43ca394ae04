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
from referrals.forms import STATUS_LABELS
from referrals.models import ReferralStatus

__all__ = ["COLUMN_LABELS", "readable_referrals", "status_word", "to_csv", "to_xlsx", "yes_no"]

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
    "stalled": _l("Stalled"),
    "overdue": _l("Overdue"),
}


def status_word(code: str) -> str:
    """A referral status as its pages name it; a code we have no word for as itself."""
    try:
        return str(STATUS_LABELS[ReferralStatus(code)])
    except (KeyError, ValueError):
        return str(code)


def yes_no(flag: object) -> str:
    return _("Yes") if bool(flag) else _("No")


WORDS = {"status": status_word, "stalled": yes_no, "overdue": yes_no}


def readable_referrals(frame: pd.DataFrame) -> pd.DataFrame:
    """Referral rows (as the export tier left them) headed and worded for the reader."""
    return readable(frame, COLUMN_LABELS, WORDS)
