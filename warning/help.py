"""A student asks for help (自主求助): the self-referral the product promises every student.

Her request is a signal like any other evidence, so it goes where the response network sends a
warning: the triage policy makes a self-referral at least yellow (`self_referral` in
`policies/default.yaml`), and the response policy gives that level's owner a deadline to contact
her. She is told who will get in touch, never a level.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import Student
from campus.submissions import stored_once
from warning import labels
from warning import services
from warning.models import Signal
from warning.models import SignalSource

# How she would like to be reached; the staff see the choice on the timeline.
CONTACT_WAYS = ("phone", "message", "in_person")


def ask_for_help(
    session: Session,
    student: Student,
    *,
    contact_by: str,
    good_time: str,
    submission: str,
    now: datetime,
) -> Signal:
    """Record her request as a self-referral signal and re-triage her; commits. The same form
    sent again (`submission`) returns the request it recorded: a double tap is one request."""
    if contact_by not in CONTACT_WAYS:
        raise ValueError(f"unknown contact way {contact_by!r}")

    def record() -> Signal:
        return services.record_signal(
            session,
            student=student,
            source=SignalSource.SELF_REFERRAL,
            observed_at=now,
            label=labels.self_referral(contact_by, good_time.strip()[:100]),
            recorded_by=student.user,
            now=now,
            submission=submission,
        )

    mine = Signal.student_id == student.id
    return stored_once(session, Signal, submission, mine, record).record


def last_request(session: Session, student: Student) -> datetime | None:
    """When she last asked, so the page can say it was received rather than invite a repeat."""
    asked: datetime | None = session.scalar(
        select(func.max(Signal.observed_at)).where(
            Signal.student_id == student.id, Signal.source == SignalSource.SELF_REFERRAL
        )
    )
    return asked
