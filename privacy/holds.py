"""Legal holds: the director keeps everything of one student while a complaint, a lawsuit or an
investigation needs it. The sweep and an erasure skip the student and say so."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Student
from campus.models import User
from privacy.retention_models import LegalHold

REASON_MAX = 1000


class HoldError(ValueError):
    """A hold that cannot be placed or lifted; `args[0]` is the `Message` saying why."""


def in_force(session: Session, student_id: int) -> LegalHold | None:
    return session.scalars(
        select(LegalHold).where(LegalHold.student_id == student_id, LegalHold.lifted_at.is_(None))
    ).first()


def check_place(session: Session, student: Student, reason: str) -> str:
    """The reason, cleaned; refuses an empty or overlong reason and a second hold."""
    reason = reason.strip()
    if not reason:
        raise HoldError(Message(N_("Give the legal reason for the hold.")))
    if len(reason) > REASON_MAX:
        raise HoldError(Message(N_("The reason is too long (at most 1,000 characters).")))
    if in_force(session, student.id) is not None:
        raise HoldError(Message(N_("This student is already under a legal hold.")))
    return reason


def place(session: Session, actor: User, student: Student, reason: str, now: datetime) -> LegalHold:
    """Place a hold (audited) and commit."""
    reason = check_place(session, student, reason)
    hold = LegalHold(
        institution_id=student.institution_id,
        student_id=student.id,
        reason=reason,
        placed_by_id=actor.id,
        placed_at=now,
    )
    session.add(hold)
    session.flush()
    audit.record_on(
        session, hold, actor=actor, action="legal_hold_placed", record_type="legal_hold"
    )
    session.commit()
    return hold


def lift(session: Session, actor: User, hold: LegalHold, now: datetime) -> None:
    """Lift a hold (audited) and commit; lifting one already lifted is refused."""
    if hold.lifted_at is not None:
        raise HoldError(Message(N_("This hold was already lifted.")))
    hold.lifted_at = now
    hold.lifted_by_id = actor.id
    audit.record_on(
        session, hold, actor=actor, action="legal_hold_lifted", record_type="legal_hold"
    )
    session.commit()
