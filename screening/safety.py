"""Defence in depth for the promise that a stored safety answer always has its red signal.

Every path that stores answers (drafts, submits and re-submissions in `intake`, the paper import)
records the signal in the commit that stores the answer. This sweep looks for a stored safety
answer without one anyway, raises it through the warning stage and records that it had to: an
error in the log and an audit row (`safety_signal_recovered`) in the administrators' audit trail.
It should never find anything; when it does, a path above broke the promise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from campus import audit
from screening import intake
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from screening.scoring import SAFETY
from warning.models import Signal

log = logging.getLogger(__name__)
RECOVERED = "safety_signal_recovered"


@dataclass(frozen=True)
class StoredSafetyAnswer:
    """A draft or a result (or the re-submission kept beside it) holding a safety answer."""

    record_type: str  # its signal's evidence type: "instrument_response" or "screening_result"
    record: InstrumentResponse | ScreeningResult
    assignment: CampaignAssignment
    flags: frozenset[str]


def sweep_unsignalled_safety(session: Session, now: datetime) -> int:
    """Raise the red signal of every stored safety answer that has none; how many it raised.

    Idempotent: the raised signal is recorded on the answer's row, so the next run skips it.
    """
    found = unsignalled(session)
    for answer in found:
        _recover(session, answer, now)
    return len(found)


def unsignalled(session: Session) -> list[StoredSafetyAnswer]:
    """Every stored safety answer without a signal of its own."""
    return [*_unsignalled_drafts(session), *_unsignalled_results(session)]


def _unsignalled_drafts(session: Session) -> Iterator[StoredSafetyAnswer]:
    """Drafts never signalled whose answers hold a safety answer (the scoring engine decides,
    so this reads every unsignalled draft: only students part-way through an instrument)."""
    rows = session.execute(
        _with_assignment(select(InstrumentResponse, CampaignAssignment))
        .join(CampaignAssignment, InstrumentResponse.assignment_id == CampaignAssignment.id)
        .where(InstrumentResponse.safety_signal_id.is_(None))
        .order_by(InstrumentResponse.id)
    ).all()
    for draft, assignment in rows:
        flags = intake.safety_flags(intake.instrument(draft.instrument), draft.answer_map())
        if flags:
            yield StoredSafetyAnswer("instrument_response", draft, assignment, flags)


def _unsignalled_results(session: Session) -> Iterator[StoredSafetyAnswer]:
    """Results whose scored or re-submitted answers hold a safety answer, with neither a signal
    of their own (`safety_signal_id`) nor a hand-off signal carrying the safety flag."""
    handed_off = exists().where(
        Signal.student_id == ScreeningResult.student_id,
        Signal.evidence_type == "screening_result",
        Signal.evidence_id == ScreeningResult.id,
        Signal.flags.contains(SAFETY),
    )
    own = exists().where(Signal.id == ScreeningResult.safety_signal_id)
    rows = session.execute(
        _with_assignment(select(ScreeningResult, CampaignAssignment))
        .join(CampaignAssignment, ScreeningResult.assignment_id == CampaignAssignment.id)
        .where(
            or_(
                ScreeningResult.flags.contains(SAFETY),
                ScreeningResult.resubmitted_answers.is_not(None),
            ),
            and_(~handed_off, ~own),
        )
        .order_by(ScreeningResult.id)
    ).all()
    for result, assignment in rows:
        flags = _result_flags(result)
        if flags:
            yield StoredSafetyAnswer("screening_result", result, assignment, flags)


def _result_flags(result: ScreeningResult) -> frozenset[str]:
    if SAFETY in result.flag_set:
        return result.flag_set
    later = {int(k): v for k, v in (result.resubmitted_answers or {}).items()}
    if not later:
        return frozenset()
    return intake.safety_flags(intake.instrument(result.instrument), later)


def _with_assignment(stmt):
    """`stmt` loading what raising a signal reads: the student and the campaign's name."""
    return stmt.options(
        joinedload(CampaignAssignment.student),
        joinedload(CampaignAssignment.campaign).joinedload(Campaign.institution),
    )


def _recover(session: Session, answer: StoredSafetyAnswer, now: datetime) -> None:
    record = answer.record
    signal = intake.safety_signal(
        session,
        answer.assignment,
        intake.instrument(record.instrument),
        answer.flags,
        answer.record_type,
        record.id,
        now,
    )
    if record.safety_signal_id is None:
        record.safety_signal_id = signal.id
    log.error(
        "safety answer stored without its signal (%s %s, student %s): raised signal %s now",
        answer.record_type,
        record.id,
        answer.assignment.student_id,
        signal.id,
    )
    audit.record(
        session,
        actor=None,
        action=RECOVERED,
        record_type=answer.record_type,
        record_id=record.id,
        student_id=answer.assignment.student_id,
        institution_id=answer.assignment.campaign.institution_id,
        outcome="recovered",
        detail=f"safety answer stored without its signal; signal {signal.id} raised by the sweep",
    )
