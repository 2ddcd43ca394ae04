"""Trajectories: a student's scores on one instrument across screening rounds, and reliable change.

A rise between two rounds counts as a *reliable* worsening only when it exceeds what measurement
error alone could produce. We use the reliable-change thresholds of the NHS Talking Therapies
(formerly IAPT) programme, which derive from the Jacobson–Truax reliable change index
(Jacobson NS, Truax P. J Consult Clin Psychol 1991;59(1):12-19) with the published reliabilities
of each scale: a change of at least 6 points on the PHQ-9 and at least 4 points on the GAD-7
(NHS Talking Therapies for anxiety and depression manual, v6 2023, "reliable change"; the PHQ-9
criterion matches McMillan D, Gilbody S, Richards D. J Affect Disord 2010;127:122-129).
Instruments without a published criterion are tracked but never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.i18n import name_column
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from screening.models import Campaign
from screening.models import ScreeningResult
from screening.scoring import load_instrument

RELIABLE_WORSENING = "reliable_worsening"
# Minimum rise in total that is a reliable worsening (see the module docstring for sources).
RELIABLE_CHANGE = {"phq9": 6, "gad7": 4}


@dataclass(frozen=True)
class TrajectoryPoint:
    result_id: int
    campaign: str
    completed_at: datetime
    total: float | None
    band: str | None
    reliable_worsening: bool


def trajectory(
    session: Session, student_id: int, instrument: str, *, viewer: User | None = None
) -> list[TrajectoryPoint]:
    """The student's results on `instrument`, oldest first, each marked if it reliably worsened.

    Pass `viewer` to restrict to students that viewer may see clinically; callers that already
    loaded the student through `campus.scope.get_student` (which audits the read) may omit it.
    """
    stmt = (
        select(ScreeningResult, name_column(Campaign))
        .join(Campaign, ScreeningResult.campaign_id == Campaign.id)
        .join(Student, ScreeningResult.student_id == Student.id)
        .where(ScreeningResult.student_id == student_id, ScreeningResult.instrument == instrument)
        .order_by(ScreeningResult.completed_at, ScreeningResult.id)
    )
    if viewer is not None:
        stmt = stmt.where(student_filter(viewer, Capability.CLINICAL))
    points: list[TrajectoryPoint] = []
    previous: ScreeningResult | None = None
    for result, campaign_name in session.execute(stmt).all():
        points.append(
            TrajectoryPoint(
                result_id=result.id,
                campaign=campaign_name,
                completed_at=result.completed_at,
                total=result.total,
                band=result.band,
                reliable_worsening=previous is not None and is_reliable_worsening(previous, result),
            )
        )
        previous = result
    return points


def is_reliable_worsening(before: ScreeningResult, after: ScreeningResult) -> bool:
    """Whether `after` rose over `before` by at least the instrument's reliable-change criterion."""
    threshold = RELIABLE_CHANGE.get(after.instrument)
    if threshold is None or before.total is None or after.total is None:
        return False
    return after.total - before.total >= threshold


def previous_result(session: Session, result: ScreeningResult) -> ScreeningResult | None:
    """The student's latest earlier result on the same instrument from another campaign."""
    return session.scalar(
        select(ScreeningResult)
        .where(
            ScreeningResult.student_id == result.student_id,
            ScreeningResult.instrument == result.instrument,
            ScreeningResult.campaign_id != result.campaign_id,
            ScreeningResult.completed_at <= result.completed_at,
            ScreeningResult.id != result.id,
        )
        .order_by(ScreeningResult.completed_at.desc(), ScreeningResult.id.desc())
        .limit(1)
    )


def check_reliable_change(session: Session, student: Student, result: ScreeningResult) -> bool:
    """Record a trajectory signal if `result` reliably worsened since the last round (no commit)."""
    before = previous_result(session, result)
    if before is None or not is_reliable_worsening(before, result):
        return False
    from warning import labels
    from warning import services as warning_services

    warning_services.record_signal(
        session,
        student=student,
        source="trajectory",
        flags={RELIABLE_WORSENING},
        instrument=result.instrument,
        total=result.total,
        label=labels.reliable_worsening(
            load_instrument(result.instrument).abbreviation,
            labels.name_of(before.campaign),
            labels.name_of(result.campaign),
        ),
        observed_at=result.completed_at,
        evidence_type="screening_result",
        evidence_id=result.id,
    )
    return True
