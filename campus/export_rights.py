"""Who may take what out of Xinqiao in a file (PIPL art. 51: access control over export).

A page is read under the audit trail; a file leaves it. So exports are tiered by role, separately
from what the role may see on screen: none, aggregates only (KPI tables), de-identified rows (one
row per student with the name and student number replaced by a pseudonym), identified rows. The
tiers come from `EXPORT_TIERS` in config (overridable per role by `EXPORT_TIER_<ROLE>`); a user with
several roles gets the highest. Every export's audit row says which tier produced it.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import IntEnum

import pandas as pd
from flask import Flask
from flask import abort
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campus.models import User


class ExportTier(IntEnum):
    NONE = 0
    AGGREGATES = 1
    DEIDENTIFIED = 2
    IDENTIFIED = 3


# Columns that name a student directly; a de-identified export drops them.
DIRECT_IDENTIFIERS = (
    "id",  # a record's own number leads back to the student as surely as a name
    "student_number",
    "student_name",
    "name",
    "guardian_name",
    "guardian_phone",
    "phone",
    "room",
    "class",
)
# The header of the pseudonym column in a file, in the reader's language.
PSEUDONYM_LABEL = _l("Student code")


def check_config(app: Flask) -> None:
    """Refuse to start with an export tier that is not one of the four (a typo would otherwise
    deny, or worse, at the first export)."""
    for role, tier in app.config["EXPORT_TIERS"].items():
        if tier.upper() not in ExportTier.__members__:
            names = ", ".join(t.name.lower() for t in ExportTier)
            raise RuntimeError(f"EXPORT_TIER_{role.upper()}={tier!r}: use one of {names}")


def tier_of(user: User) -> ExportTier:
    """The highest export tier among the user's roles (NONE for a role the config does not name)."""
    tiers: dict[str, str] = current_app.config["EXPORT_TIERS"]
    return max(
        (ExportTier[tiers.get(a.role.value, "none").upper()] for a in user.roles),
        default=ExportTier.NONE,
    )


def aggregates_for(user: User) -> ExportTier:
    """The user's tier for a table of counts and rates; 403 below AGGREGATES."""
    tier = tier_of(user)
    if tier < ExportTier.AGGREGATES:
        abort(403, description=_("Your role may not export data."))
    return tier


def student_rows_for(user: User, frame: pd.DataFrame) -> tuple[pd.DataFrame, ExportTier]:
    """`frame` (one row per student, with `student_id`) as the user's tier may export it, and that
    tier: as it is, or de-identified; 403 for a role that may export aggregates only or nothing.

    `student_id` is dropped either way: it is our key, not something a reader of the file needs.
    """
    tier = tier_of(user)
    if tier < ExportTier.DEIDENTIFIED:
        abort(403, description=_only_aggregates())
    if tier is ExportTier.IDENTIFIED:
        return frame.drop(columns=["student_id"]), tier
    shown = frame.drop(columns=[c for c in DIRECT_IDENTIFIERS if c in frame.columns])
    shown.insert(0, "pseudonym", [pseudonym(int(s)) for s in frame["student_id"]])
    return shown.drop(columns=["student_id"]), tier


def pseudonym(student_id: int) -> str:
    """A stable code for one student, keyed with the app's secret: the same student has the same
    code in every de-identified export (so rows can be linked across files), and nobody without
    the key can turn it back into the student."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"export-pseudonym:{student_id}".encode(), hashlib.sha256)
    return "P" + digest.hexdigest()[:10].upper()


def may_export_rows(user: User) -> bool:
    """Whether the page offers the user a file of its list of students."""
    return tier_of(user) >= ExportTier.DEIDENTIFIED


def tier_notice(user: User) -> str | None:
    """What the page says next to an export link, when the file differs from the page."""
    tier = tier_of(user)
    if tier is ExportTier.DEIDENTIFIED:
        return _(
            "Your exports are de-identified: names and student numbers are replaced by a code "
            "that is the same for a student in every export."
        )
    if tier < ExportTier.DEIDENTIFIED:
        return _only_aggregates()
    return None


def _only_aggregates() -> str:
    return _("Your role may export aggregate tables only, not lists of students.")
