"""The individual screening report (个人心理测评报告): one round's results for one student, in
neutral words a student can read — no item answers, no diagnostic labels, no scores named as
disorders — with the crisis resources first when an answer calls for them.

The wording follows what the student already read after each questionnaire (`screening.intake`:
`elevated`, `has_safety_flag`), so the report never says more, or more alarmingly, than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import Student
from screening import intake
from screening.models import Campaign
from screening.models import ScreeningResult
from screening.scoring import load_instrument

LITERACY = "literacy"


@dataclass(frozen=True)
class ReportLine:
    """One questionnaire of the round, as the student reads it."""

    title: str  # the questionnaire's neutral title ("心情问卷")
    completed_at: datetime
    words: str  # what the result means, in plain words


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    lines: list[ReportLine]
    support: bool  # an answer asked for the crisis resources to be shown
    elevated: bool  # a counsellor will be in touch


def _words(result: ScreeningResult, locale: str) -> str:
    instrument = load_instrument(result.instrument)
    if result.instrument == LITERACY:
        return _(
            "You answered %(n)s of %(count)s questions correctly.",
            n=int(result.total or 0),
            count=len(instrument.items),
        )
    if intake.has_safety_flag(result) or intake.elevated(result):
        return _(
            "Your answers suggest you may be going through a hard time. A counsellor from the "
            "mental health centre will talk with you; you are welcome to contact the centre "
            "yourself at any time."
        )
    if (instrument.severity(result.band) or 0) > 0:
        return _(
            "Your answers show some signs of stress. Sleep, exercise and time with people you "
            "trust help; the mental health centre is there if you would like to talk."
        )
    return _("Your answers are within the usual range.")


def report_of(session: Session, student: Student, campaign_id: int, locale: str) -> Report | None:
    """The student's report of one round, or None when they have no result in it."""
    results = session.scalars(
        select(ScreeningResult)
        .where(ScreeningResult.student_id == student.id, ScreeningResult.campaign_id == campaign_id)
        .order_by(ScreeningResult.completed_at, ScreeningResult.id)
    ).all()
    if not results:
        return None
    lines = [
        ReportLine(
            title=load_instrument(r.instrument).student_title.get(locale),
            completed_at=r.completed_at,
            words=_words(r, locale),
        )
        for r in results
    ]
    return Report(
        campaign=results[0].campaign,
        lines=lines,
        support=any(intake.has_safety_flag(r) for r in results),
        elevated=any(intake.elevated(r) for r in results),
    )
