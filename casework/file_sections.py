"""The student file's own sections: warnings, family contacts, screening, referrals and leave.

Each loader reads one section's data through the owning domain's services (the warning stage's
timeline, screening's trajectories) with a fixed number of queries whatever the history's length;
the page (`casework.file_views`) has authorised the viewer at the section's capability first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from campus import clock
from campus.local_time import calendar_words
from campus.local_time import day_axis
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from casework import family_contacts
from casework.file_forms import CHANNEL_LABELS
from casework.file_forms import DIRECTION_LABELS
from casework.file_forms import OUTCOME_LABELS
from casework.file_permissions import can_log_family_contact
from casework.student_file import Section
from casework.student_file import register_section
from oversight.charts import trend_line
from privacy import consent as privacy_consent
from referrals.models import LeaveOfAbsence
from referrals.models import Referral
from screening import trajectories
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from screening.vocabulary import instrument_name
from warning import queue
from warning import services as warning_services

Data = Mapping[str, Any]
# Timeline entries the file page shows (the newest); the PDF and the warning page show them all.
TIMELINE_ON_PAGE = 40


def load_warnings(session: Session, viewer: User, student: Student, capability: Capability) -> Data:
    """The open warning, every warning with its level and reason, and the timeline of signals,
    level changes, contacts and follow-ups (the warning stage's own services)."""
    clinical = capability is Capability.CLINICAL
    return {
        "warning": warning_services.open_warning(session, student.id),
        "warnings": queue.warnings_of(session, student),
        "timeline": warning_services.student_timeline(session, student, capability),
        "clinical": clinical,
        # Scores beside screening signals only while the student's consent stands (privacy).
        "results_withdrawn": clinical
        and privacy_consent.screening_withdrawal(session, student.id) is not None,
        "now": clock.now(),
        "on_page": TIMELINE_ON_PAGE,
    }


def load_family(session: Session, viewer: User, student: Student, capability: Capability) -> Data:
    contacts = family_contacts.contacts_of(session, student)
    return {
        # The vocabularies' words once per page, not once per entry.
        "words": {
            "direction": {k: str(v) for k, v in DIRECTION_LABELS.items()},
            "channel": {k: str(v) for k, v in CHANNEL_LABELS.items()},
            "outcome": {k: str(v) for k, v in OUTCOME_LABELS.items()},
        },
        "contacts": contacts,
        "corrected": family_contacts.corrected_ids(contacts),
        "may_log": can_log_family_contact(viewer, student),
    }


def _top(code: str) -> float | None:
    """The instrument's highest score, the top of its chart (None: the data's own)."""
    bands = [b.value.max for b in load_instrument(code).bands if b.value and b.value.max]
    return max(bands, default=None)


def load_screening(
    session: Session, viewer: User, student: Student, capability: Capability
) -> Data:
    """Results by campaign, and per instrument its trajectory (reliable change marked) as a chart
    and a table: one query for the results, one per instrument the student has taken. After the
    student withdrew consent to screening, only that (privacy.consent), not the results."""
    withdrawal = privacy_consent.screening_withdrawal(session, student.id)
    if withdrawal is not None:
        return {"withdrawal": withdrawal, "results": [], "trends": [], "campaigns": []}
    results = list(
        session.scalars(
            select(ScreeningResult)
            .options(selectinload(ScreeningResult.campaign))
            .where(ScreeningResult.student_id == student.id)
            .order_by(ScreeningResult.completed_at.desc(), ScreeningResult.id.desc())
        )
    )
    codes = sorted({r.instrument for r in results})
    trends = []
    for code in codes:
        points = trajectories.trajectory(session, student.id, code)
        name = instrument_name(code)
        chart = trend_line(
            f"trend-{code}",
            _("%(instrument)s over time", instrument=name),
            [calendar_words(p.completed_at) for p in points],
            [p.total for p in points],
            _(
                "%(count)s results from %(first)s to %(last)s; %(marked)s reliable worsening(s).",
                count=len(points),
                first=calendar_words(points[0].completed_at),
                last=calendar_words(points[-1].completed_at),
                marked=sum(p.reliable_worsening for p in points),
            ),
            marked=[p.reliable_worsening for p in points],
            marked_name=_("Reliable worsening"),
            top=_top(code),
            axis=day_axis([p.completed_at for p in points]),
            colon=pgettext("between a label and its value", ": "),
        )
        trends.append({"code": code, "name": name, "points": points, "chart": chart})
    campaigns = list({r.campaign_id: r.campaign for r in results}.values())
    return {"results": results, "trends": trends, "campaigns": campaigns}


def load_referrals(
    session: Session, viewer: User, student: Student, capability: Capability
) -> Data:
    referrals = session.scalars(
        select(Referral)
        .options(selectinload(Referral.hospital))
        .where(Referral.student_id == student.id)
        .order_by(Referral.created_at.desc())
    ).all()
    leaves = session.scalars(
        select(LeaveOfAbsence)
        .where(LeaveOfAbsence.student_id == student.id)
        .order_by(LeaveOfAbsence.start_date.desc())
    ).all()
    return {"referrals": referrals, "leaves": leaves}


def register(app: Flask) -> None:
    """The sections casework itself adds to the file (interviews and crisis records, added by
    their own modules, take orders 50 and 60)."""
    for section in (
        Section(
            "warnings",
            lambda: _("Warnings and follow-up"),
            10,
            Capability.WARNING,
            load_warnings,
            "casework/file/_warnings.html",
        ),
        Section(
            "family",
            lambda: pgettext("section", "Family contacts"),
            20,
            Capability.WARNING,
            load_family,
            "casework/family/_section.html",
        ),
        Section(
            "screening",
            lambda: _("Screening results"),
            30,
            Capability.CLINICAL,
            load_screening,
            "casework/file/_screening.html",
        ),
        Section(
            "referrals",
            lambda: _("Referrals, leave and return"),
            40,
            Capability.CLINICAL,
            load_referrals,
            "casework/file/_referrals.html",
        ),
    ):
        register_section(app, section)
