"""Who the centre must see soon: a student with an open red warning, and by when her
professional assessment (专业评估) is owed.

Booking asks here so a student in that state is not held to the ordinary rules meant for a calm
first contact: she is offered every individual time (a follow-up time with any counsellor is her
first visit if she has not come before), and the staff booking for her read whether the earliest
free time comes before the assessment is due. The student herself is never told why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import WarningStatus
from warning.policy import Level

# The response policy's step a red warning owes from the centre within its first day.
ASSESSMENT = "assessment"


@dataclass(frozen=True)
class Urgent:
    """A student the centre must see soon. `assessment_due` is when her professional assessment
    is owed (the earliest not yet done, overdue or not); None when it is done or none is owed."""

    assessment_due: datetime | None


def urgent(session: Session, student_id: int) -> Urgent | None:
    """`Urgent` for a student whose open warning is red; None for anyone else."""
    warning_id = session.scalar(
        select(EarlyWarning.id).where(
            EarlyWarning.student_id == student_id,
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level >= Level.RED,
        )
    )
    if warning_id is None:
        return None
    due = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.warning_id == warning_id,
            Deadline.kind == ASSESSMENT,
            Deadline.met_at.is_(None),
            Deadline.superseded_at.is_(None),
        )
    )
    return Urgent(assessment_due=due)
