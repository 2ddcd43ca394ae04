"""The referral state machine, as data: which moves exist, who may make each, and when.

Two actors move a referral: the school counsellor who owns the case (`COUNSELLOR`, needing CLINICAL
capability over the student) and the liaison of the hospital it was sent to (`LIAISON`). A move
may also depend on the assessment outcome: "no disorder" closes straight after the assessment.
Treatment, outpatient or inpatient, ends with the liaison recording its end ("discharged": worded
"treatment ended" for outpatient care), after which the counsellor closes the referral; the
counsellor may also close outpatient care directly, having heard from the student.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from referrals.models import AssessmentOutcome
from referrals.models import ReferralStatus

S = ReferralStatus
O = AssessmentOutcome  # noqa: E741 - a short alias keeps the table readable


class Actor(enum.StrEnum):
    COUNSELLOR = "counsellor"
    LIAISON = "liaison"


C, L = Actor.COUNSELLOR, Actor.LIAISON
BOTH = frozenset({C, L})
ANY_OUTCOME = None

TERMINAL = frozenset({S.CLOSED, S.DECLINED, S.LOST_TO_FOLLOW_UP, S.WITHDRAWN})
# Terminal states that count as a closed loop in the closure audit: care ended or was documented
# as refused or retracted. Lost to follow-up is the failure the audit exists to show.
CLOSED_LOOP = frozenset({S.CLOSED, S.DECLINED, S.WITHDRAWN})
# Sent to the hospital and not yet ended: the states a liaison works on and the sweeps watch.
ACTIVE = frozenset({S.SENT, S.APPOINTMENT_BOOKED, S.ASSESSED, S.IN_TREATMENT, S.DISCHARGED})


@dataclass(frozen=True)
class Move:
    actors: frozenset[Actor]
    # The assessment outcomes under which the move is allowed (None: whatever the outcome).
    outcomes: frozenset[AssessmentOutcome] | None = ANY_OUTCOME


TREATED = frozenset({O.OUTPATIENT, O.INPATIENT})

TRANSITIONS: dict[tuple[ReferralStatus, ReferralStatus], Move] = {
    (S.DRAFT, S.SENT): Move(frozenset({C})),
    (S.DRAFT, S.WITHDRAWN): Move(frozenset({C})),
    (S.SENT, S.APPOINTMENT_BOOKED): Move(BOTH),
    (S.SENT, S.DECLINED): Move(BOTH),
    (S.SENT, S.LOST_TO_FOLLOW_UP): Move(frozenset({C})),
    (S.SENT, S.WITHDRAWN): Move(frozenset({C})),
    # Booked again: the appointment moved, or the student was seen before the time booked.
    (S.APPOINTMENT_BOOKED, S.APPOINTMENT_BOOKED): Move(BOTH),
    (S.APPOINTMENT_BOOKED, S.ASSESSED): Move(frozenset({L})),
    (S.APPOINTMENT_BOOKED, S.DECLINED): Move(BOTH),
    (S.APPOINTMENT_BOOKED, S.LOST_TO_FOLLOW_UP): Move(BOTH),
    (S.APPOINTMENT_BOOKED, S.WITHDRAWN): Move(frozenset({C})),
    (S.ASSESSED, S.CLOSED): Move(frozenset({C}), frozenset({O.NO_DISORDER})),
    (S.ASSESSED, S.IN_TREATMENT): Move(frozenset({L}), TREATED),
    (S.ASSESSED, S.DECLINED): Move(BOTH, TREATED),
    (S.ASSESSED, S.LOST_TO_FOLLOW_UP): Move(frozenset({C}), TREATED),
    (S.IN_TREATMENT, S.DISCHARGED): Move(frozenset({L}), TREATED),
    (S.IN_TREATMENT, S.CLOSED): Move(frozenset({C}), frozenset({O.OUTPATIENT})),
    (S.IN_TREATMENT, S.LOST_TO_FOLLOW_UP): Move(BOTH),
    (S.DISCHARGED, S.CLOSED): Move(frozenset({C})),
    (S.DISCHARGED, S.LOST_TO_FOLLOW_UP): Move(frozenset({C})),
}


def allowed(
    current: ReferralStatus, target: ReferralStatus, outcome: AssessmentOutcome | None
) -> Move | None:
    """The move from `current` to `target` if it exists under `outcome`, else None."""
    move = TRANSITIONS.get((current, target))
    if move is None or (move.outcomes is not None and outcome not in move.outcomes):
        return None
    return move


def next_states(
    current: ReferralStatus, outcome: AssessmentOutcome | None, actor: Actor
) -> list[ReferralStatus]:
    """The states `actor` may move a referral to from `current`, in the order of the chain."""
    return [
        target
        for target in ReferralStatus
        if (move := allowed(current, target, outcome)) is not None and actor in move.actors
    ]
