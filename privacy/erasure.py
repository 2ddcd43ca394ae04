"""A student's erasure request (PIPL art. 47): requested, reviewed by the centre director, carried
out by the purge (the same code as the retention sweep) and confirmed to the student.

What the director cannot erase is proposed, with its reason, before the decision: an open warning
(the duty of care continues until a counsellor closes it), an open referral, a legal hold (no
approval at all while it is in force), and the student's name and account while they are on the
roll (the roster is the registrar's copy, and the student needs the account to read the outcome).
The director may keep more, naming the legal duty. Audit rows are never erased by a request: they
record who read the student's data, which is what the student may ask about later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus import network
from campus import notifications
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from privacy import holds
from privacy import purge
from privacy import record_types
from privacy.retention_models import OPEN_ERASURE_STATES
from privacy.retention_models import ErasureRequest
from privacy.retention_models import ErasureState

NOTE_MAX = 1000
MY_PAGE = "/privacy/my-data/erasure"
REVIEW_PAGE = "/privacy/erasure"

# Why a part is kept: the words the director picks and the student reads.
KEEP_REASONS: dict[str, str] = {
    "open_warning": N_(
        "An open warning: the centre's duty of care continues until a counsellor closes it."
    ),
    "open_referral": N_("An open hospital referral: it is kept until the referral is closed."),
    "open_leave": N_("An open leave of absence: it is kept until the return is complete."),
    "legal_hold": N_("A legal hold: a complaint, lawsuit or investigation needs the records."),
    "retention_duty": N_("A legal duty to keep this record for its retention period."),
    "on_roll": N_("The student is still enrolled: name and account stay while on the roll."),
    "access_record": N_(
        "The record of who read or changed the data: kept for accountability, never erased on "
        "request."
    ),
}
# The same reasons as the student reads them: an open warning is never named to a student (they
# never see warnings), only a case the centre still follows.
STUDENT_REASONS: dict[str, str] = {
    "open_warning": N_(
        "The centre is still following a case with you: those records stay until it is closed."
    ),
    "open_referral": N_("Your hospital referral is still open: it stays until it is closed."),
    "open_leave": N_("Your leave and return are still under way: those records stay until then."),
    "legal_hold": N_(
        "The law requires the school to keep these records for now (a complaint, lawsuit or "
        "investigation)."
    ),
    "retention_duty": N_("The law requires the school to keep these records for a set time."),
    "on_roll": N_("You are still enrolled: your name and account stay while you are on the roll."),
    "access_record": N_(
        "The record of who looked at your information stays: it protects you, and you may ask "
        "the centre about it."
    ),
}
STATE_WORDS: dict[str, str] = {
    ErasureState.REQUESTED: N_("Requested"),
    ErasureState.UNDER_REVIEW: N_("Under review"),
    ErasureState.APPROVED: N_("Approved"),
    ErasureState.PARTLY_APPROVED: N_("Partly approved"),
    ErasureState.DECLINED: N_("Declined"),
    ErasureState.CARRIED_OUT: N_("Carried out"),
}
# Reasons kept by the purge itself: it never selects an open warning or referral, so the type
# is still purged and only the open records stay (the closed ones of the same kind go).
_OPEN_ONLY = {"open_warning", "open_referral", "open_leave"}


class ErasureError(ValueError):
    """A request or decision that cannot go ahead; `args[0]` is the `Message` saying why."""


@dataclass(frozen=True)
class Decision:
    approve: bool
    kept: dict[str, str]
    reason: str


def open_request(session: Session, student_id: int) -> ErasureRequest | None:
    return session.scalars(
        select(ErasureRequest).where(
            ErasureRequest.student_id == student_id,
            ErasureRequest.state.in_(OPEN_ERASURE_STATES),
        )
    ).first()


def latest(session: Session, student_id: int) -> ErasureRequest | None:
    return session.scalars(
        select(ErasureRequest)
        .where(ErasureRequest.student_id == student_id)
        .order_by(ErasureRequest.id.desc())
        .limit(1)
    ).first()


def check_request(session: Session, student: Student, note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ErasureError(Message(N_("Your note is too long (at most 1,000 characters).")))
    if open_request(session, student.id) is not None:
        raise ErasureError(Message(N_("You already have a request being reviewed.")))
    return note


def request_erasure(session: Session, student: Student, note: str, now: datetime) -> ErasureRequest:
    """Record the request, tell the directors, commit. A double submit is refused, never two."""
    note = check_request(session, student, note)
    request = ErasureRequest(
        institution_id=student.institution_id,
        student_id=student.id,
        state=ErasureState.REQUESTED,
        requested_at=now,
        student_note=note or None,
        kept={},
        counts={},
    )
    session.add(request)
    try:
        session.flush()
    except IntegrityError as error:  # a second request racing the first
        session.rollback()
        raise ErasureError(Message(N_("You already have a request being reviewed."))) from error
    audit.record_on(
        session, request, actor=student.user, action="erasure_requested", record_type="erasure"
    )
    notifications.notify(
        session,
        network.holders(session, student.institution_id, Role.DIRECTOR, now),
        N_("A student asked for their data to be erased: please review the request."),
        f"{REVIEW_PAGE}/{request.id}",
    )
    session.commit()
    return request


def start_review(session: Session, actor: User, request: ErasureRequest, now: datetime) -> None:
    """The director opened the request (the page's load audited the read): under review from
    now. The caller commits."""
    if request.state == ErasureState.REQUESTED:
        request.state = ErasureState.UNDER_REVIEW
        request.review_started_at = now
        request.reviewed_by_id = actor.id


def must_keep(app: Flask, session: Session, request: ErasureRequest) -> dict[str, str]:
    """What the data itself says must stay, {record type: reason}: open records and the roll."""
    kept: dict[str, str] = {}
    student = session.get_one(Student, request.student_id)
    for rtype in record_types.registered(app):
        if not rtype.erasable:
            kept[rtype.key] = "access_record"
            continue
        if rtype.still_open is None or rtype.open_reason is None:
            continue
        covered = rtype.covers() if rtype.covers is not None else true()
        is_open = session.scalar(
            select(
                exists(
                    select(rtype.root.id).where(
                        rtype.student == student.id, rtype.still_open(), covered
                    )
                )
            )
        )
        if is_open:
            kept[rtype.key] = rtype.open_reason
    if student.enrolment_status not in purge.LEFT:
        kept["identity"] = "on_roll"
    return kept


def check_decision(
    app: Flask, session: Session, request: ErasureRequest, decision: Decision
) -> dict[str, str]:
    """What the decision keeps, forced reasons included; refuses what cannot be decided."""
    if request.state not in OPEN_ERASURE_STATES:
        raise ErasureError(Message(N_("This request has already been decided.")))
    known = {t.key for t in record_types.registered(app)}
    for key, reason in decision.kept.items():
        if key not in known or reason not in KEEP_REASONS:
            raise ErasureError(Message(N_("Choose a reason from the list for each part kept.")))
    if len(decision.reason) > NOTE_MAX:
        raise ErasureError(Message(N_("The reason is too long (at most 1,000 characters).")))
    if not decision.approve:
        if not decision.reason.strip():
            raise ErasureError(Message(N_("Say why the request is declined.")))
        return {}
    if holds.in_force(session, request.student_id) is not None:
        raise ErasureError(
            Message(
                N_(
                    "A legal hold is in force for this student: decline with the reason, "
                    "or lift the hold first."
                )
            )
        )
    return {**decision.kept, **must_keep(app, session, request)}


def decide(
    app: Flask,
    session: Session,
    actor: User,
    request: ErasureRequest,
    decision: Decision,
    now: datetime,
) -> ErasureRequest:
    """Record the director's decision and, when approved, carry it out at once."""
    kept = check_decision(app, session, request, decision)
    request.reviewed_by_id = actor.id
    request.decided_at = now
    request.decision_reason = decision.reason.strip() or None
    request.kept = kept
    if not decision.approve:
        request.state = ErasureState.DECLINED
    elif kept:
        request.state = ErasureState.PARTLY_APPROVED
    else:
        request.state = ErasureState.APPROVED
    audit.record_on(
        session,
        request,
        actor=actor,
        action="erasure_decided",
        record_type="erasure",
        outcome=str(request.state),
        detail=",".join(f"{k}={v}" for k, v in sorted(kept.items()))[:500] or None,
    )
    # Told now, while the account (and its mail address) still exists: approving a graduate's
    # request erases both.
    _tell_student(session, request)
    session.commit()
    if request.state != ErasureState.DECLINED:
        carry_out(app, session, request, now)
    return request


def carry_out(app: Flask, session: Session, request: ErasureRequest, now: datetime) -> None:
    """Run the purge for the student over every scheduled type not kept (a type kept for an open
    record is run too: the purge skips the open rows by itself); the student was told at the
    decision."""
    institution = session.get_one(Institution, request.institution_id)
    schedule = purge.schedule_of(app, institution)
    types = tuple(
        t.key
        for t in record_types.registered(app)
        if t.key in schedule.rules
        and (t.key not in request.kept or request.kept[t.key] in _OPEN_ONLY)
    )
    target = purge.Target(institution, schedule, types, now, student_id=request.student_id)
    done = purge.run(app, session, target, kind="erasure", erasure_id=request.id)
    request.counts = dict(done.counts)
    request.state = ErasureState.CARRIED_OUT
    request.carried_out_at = now
    session.commit()


def _tell_student(session: Session, request: ErasureRequest) -> None:
    user_id = session.get_one(Student, request.student_id).user_id
    if user_id is not None:
        notifications.notify(
            session, [user_id], N_("Your erasure request has an answer: see the outcome."), MY_PAGE
        )


def finish_pending(app: Flask, session: Session, institution: Institution, now: datetime) -> int:
    """Carry out approved requests a crash interrupted (the sweep's first step)."""
    pending = session.scalars(
        select(ErasureRequest).where(
            ErasureRequest.institution_id == institution.id,
            ErasureRequest.state.in_((ErasureState.APPROVED, ErasureState.PARTLY_APPROVED)),
        )
    ).all()
    for request in pending:
        carry_out(app, session, request, now)
    return len(pending)
