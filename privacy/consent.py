"""Consent a student withdraws, and gives again: the rules (PIPL art. 15, 28-29).

What a withdrawal means, decided here and stated to the student before they confirm:

- SCREENING: from the moment of withdrawal the student is in no campaign's cohort (so no new
  assignment, and no reminder), their open assignments stop (an untouched one is cancelled, a
  started one can no longer be worked on), and staff pages that showed their screening results
  say "consent withdrawn" instead. Nothing already collected is deleted here (art. 15: a
  withdrawal does not affect processing done before it); the retention schedule decides when it
  goes.
- SENSITIVE_PROCESSING: everything SCREENING does (screening collects sensitive data, so it
  cannot go on without this consent), and the student's rows leave no export except as counts
  (`excluded_from_row_exports`). Processing a safety duty needs continues (art. 13(4): to protect
  a person's life and health in an emergency): an open warning stays with its owner until a
  school counsellor closes it, referrals run to their end, crisis records are kept.

Either way the safety duty never stops; the explanation says so plainly.

`check_*` validate and write nothing; `do_*` write without committing; `withdraw`/`reinstate`
commit once. A double submit meets the partial unique index and is told it is already done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus.extensions import set_once
from campus.i18n import shown_name
from campus.models import EnrolmentStatus
from campus.models import Student
from campus.models import User
from privacy.models import ConsentScope
from privacy.models import ConsentWithdrawal
from privacy.records import legal_hold_for
from privacy.records import retention_for
from referrals.models import Referral
from screening.models import Campaign
from screening.models import CampaignAssignment

# Withdrawing either scope stops screening: screening needs both consents to start.
STOPS_SCREENING = frozenset(ConsentScope)


class WithdrawalError(ValueError):
    """A withdrawal or reinstatement that cannot be done; the message says why."""


# --- is it withdrawn? ------------------------------------------------------------------------


def screening_allowed_clause() -> ColumnElement[bool]:
    """A WHERE clause on `Student`: no live withdrawal stops their screening. Campaign cohorts
    and reminders add it, so a withdrawn student is never assigned nor reminded."""
    return ~exists().where(
        ConsentWithdrawal.student_id == Student.id,
        ConsentWithdrawal.reinstated_at.is_(None),
        ConsentWithdrawal.scope.in_(STOPS_SCREENING),
    )


def live_withdrawals(session: Session, student_id: int) -> dict[ConsentScope, ConsentWithdrawal]:
    """The student's withdrawals in force, by scope."""
    rows = session.scalars(
        select(ConsentWithdrawal).where(
            ConsentWithdrawal.student_id == student_id, ConsentWithdrawal.reinstated_at.is_(None)
        )
    )
    return {row.scope: row for row in rows}


def screening_withdrawal(session: Session, student_id: int) -> ConsentWithdrawal | None:
    """The withdrawal that stops this student's screening (and hides their results from staff),
    or None when they take part."""
    live = live_withdrawals(session, student_id)
    return live.get(ConsentScope.SCREENING) or live.get(ConsentScope.SENSITIVE_PROCESSING)


def excluded_from_row_exports(session: Session, student_ids: Iterable[int]) -> set[int]:
    """Of `student_ids`, those whose rows may leave only as counts (sensitive processing
    withdrawn). For the exports of student rows (`campus.export_rights.student_rows_for`)."""
    ids = list(student_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(ConsentWithdrawal.student_id).where(
                ConsentWithdrawal.student_id.in_(ids),
                ConsentWithdrawal.reinstated_at.is_(None),
                ConsentWithdrawal.scope == ConsentScope.SENSITIVE_PROCESSING,
            )
        )
    )


def without_withdrawn_rows(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (one row per student, with `student_id`) less the students whose rows may leave
    only as counts: every export of student rows passes through it before
    `campus.export_rights.student_rows_for`."""
    if frame.empty or "student_id" not in frame.columns:
        return frame
    excluded = excluded_from_row_exports(session, (int(s) for s in frame["student_id"]))
    if not excluded:
        return frame
    return frame[~frame["student_id"].isin(excluded)].reset_index(drop=True)


def withdrawal_history(session: Session, student_id: int) -> list[ConsentWithdrawal]:
    """Every withdrawal of the student, newest first (reinstated ones included)."""
    return list(
        session.scalars(
            select(ConsentWithdrawal)
            .where(ConsentWithdrawal.student_id == student_id)
            .order_by(ConsentWithdrawal.withdrawn_at.desc(), ConsentWithdrawal.id.desc())
        )
    )


# --- what withdrawal means, for this student ---------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """What the withdrawal page says, in the reader's language: what stops, what is kept and
    why, and the safety duty that goes on. Built from the real rules and the student's records."""

    scope: ConsentScope
    stops: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    safety: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """The explanation as plain text, stored with the withdrawal exactly as shown."""
        parts = [_("What stops:"), *self.stops, _("What is kept, and why:"), *self.kept]
        parts += [_("Your safety:"), *self.safety]
        return "\n".join(parts)


def _kept_for(record_type: str) -> str:
    period = retention_for(record_type)
    return period if period is not None else _("as long as the retention schedule says")


def open_assignments(session: Session, student_id: int, now: datetime) -> list[CampaignAssignment]:
    """The student's assignments a withdrawal would stop: not completed, campaign not closed."""
    return list(
        session.scalars(
            select(CampaignAssignment)
            .join(Campaign, Campaign.id == CampaignAssignment.campaign_id)
            .where(
                CampaignAssignment.student_id == student_id,
                CampaignAssignment.completed_at.is_(None),
                Campaign.closes_at > now,
            )
            .order_by(Campaign.opens_at)
        )
    )


def explain(session: Session, student: Student, scope: ConsentScope, now: datetime) -> Explanation:
    """What withdrawing `scope` will mean for `student` now."""
    stops = [
        _("You will get no new mental health screenings."),
        _("Screenings you have not finished stop: you cannot go on answering them."),
        _(
            "Counsellors who open your file see “consent withdrawn” where your screening "
            "results were, instead of the results."
        ),
    ]
    campaigns = [a.campaign for a in open_assignments(session, student.id, now)]
    if campaigns:
        names = "、".join(shown_name(c) for c in campaigns)
        stops.append(_("Screenings this stops now: %(names)s.", names=names))
    if scope is ConsentScope.SENSITIVE_PROCESSING:
        stops.append(
            _(
                "Your sensitive personal information is no longer used for anything new except "
                "your safety: your records leave the system in no file except as counts."
            )
        )
    kept = [
        _(
            "Answers and results you already gave are not deleted because you withdraw: a "
            "withdrawal does not undo what was done before it (PIPL art. 15). They are kept "
            "%(period)s, then deleted.",
            period=_kept_for("screening_result"),
        ),
        _(
            "Your consent records and this withdrawal are kept as proof of what you decided "
            "(%(period)s).",
            period=_kept_for("consent"),
        ),
    ]
    referrals = session.scalar(
        select(exists().where(Referral.student_id == student.id, Referral.ended_at.is_(None)))
    )
    if referrals:
        kept.append(
            _(
                "You have a hospital referral that has not ended: its record is kept and the "
                "centre keeps in touch with the hospital until the referral ends."
            )
        )
    if legal_hold_for(session, student.id):
        kept.append(
            _(
                "Some of your records are under a legal hold: they are kept, and not deleted, "
                "until the hold is lifted."
            )
        )
    # The same words whether or not a warning is open: a student never learns her internal
    # level, and a sentence shown only to students on a red would tell her she is on one.
    safety = [
        _(
            "Withdrawing never stops a safety follow-up: if the centre is looking after your "
            "safety, the counsellor responsible goes on doing so until it is over."
        )
    ]
    return Explanation(scope, stops, kept, safety)


# --- withdraw -------------------------------------------------------------------------------


def check_withdraw(session: Session, student: Student, scope: ConsentScope) -> None:
    """Refuse a withdrawal that is already in force (a second tab, a double submit)."""
    if scope in live_withdrawals(session, student.id):
        raise WithdrawalError(_l("You have already withdrawn this consent."))


def do_withdraw(
    session: Session,
    actor: User,
    student: Student,
    scope: ConsentScope,
    *,
    explanation: str,
    locale: str,
    ip: str | None,
    now: datetime,
) -> ConsentWithdrawal:
    """Write the withdrawal, stop the open assignments and audit it; the caller commits."""
    open_now = open_assignments(session, student.id, now)
    untouched = [a.id for a in open_now if a.started_at is None]
    stopped = [
        f"{a.campaign.name} ({'cancelled' if a.started_at is None else 'stopped'})"
        for a in open_now
    ]
    row = ConsentWithdrawal(
        student_id=student.id,
        institution_id=student.institution_id,
        scope=scope,
        withdrawn_at=now,
        withdrawn_by_id=actor.id,
        explanation=explanation,
        locale=locale,
        ip=ip,
        stopped="; ".join(stopped),
    )
    session.add(row)
    session.flush()
    if untouched:
        # A due assignment holds nothing the student gave (the campaign re-sync drops such rows
        # the same way when a student leaves a cohort); a started one keeps its consent and draft.
        session.execute(
            delete(CampaignAssignment).where(
                CampaignAssignment.id.in_(untouched), CampaignAssignment.started_at.is_(None)
            )
        )
    audit.record_on(
        session,
        row,
        actor=actor,
        action="withdraw_consent",
        record_type="consent_withdrawal",
        detail=f"scope={scope.value} cancelled={len(untouched)} "
        f"stopped={len(open_now) - len(untouched)}",
    )
    return row


def withdraw(
    session: Session,
    actor: User,
    student: Student,
    scope: ConsentScope,
    *,
    explanation: str,
    locale: str,
    ip: str | None,
    now: datetime,
) -> ConsentWithdrawal:
    """Withdraw `scope` for the student, in one commit (or nothing on a refusal or a race)."""
    check_withdraw(session, student, scope)
    try:
        row = do_withdraw(
            session,
            actor,
            student,
            scope,
            explanation=explanation,
            locale=locale,
            ip=ip,
            now=now,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise WithdrawalError(_l("You have already withdrawn this consent.")) from None
    return row


# --- give consent again ---------------------------------------------------------------------


def check_reinstate(session: Session, student: Student, scope: ConsentScope) -> ConsentWithdrawal:
    """The live withdrawal to end; refused when there is none (already given again)."""
    row = live_withdrawals(session, student.id).get(scope)
    if row is None:
        raise WithdrawalError(_l("This consent is in force: there is nothing to give again."))
    return row


def do_reinstate(
    session: Session,
    actor: User,
    student: Student,
    row: ConsentWithdrawal,
    *,
    consent_text: str,
    now: datetime,
) -> int:
    """End the withdrawal (a conditional update: a double submit ends it once) and, when no
    other withdrawal still stops screening, put the student back into the open campaigns whose
    cohort they are in. Returns the assignments added; the caller commits."""
    ended = set_once(
        session,
        ConsentWithdrawal.reinstated_at,
        row.id,
        reinstated_at=now,
        reinstatement_text=consent_text,
    )
    if not ended:
        raise WithdrawalError(_l("This consent is in force: there is nothing to give again."))
    session.expire(row, ["reinstated_at", "reinstatement_text"])
    added = 0
    if screening_withdrawal(session, student.id) is None:
        added = _assign_open_campaigns(session, student, now)
    audit.record_on(
        session,
        row,
        actor=actor,
        action="reinstate_consent",
        record_type="consent_withdrawal",
        detail=f"scope={row.scope.value} assigned={added}",
    )
    return added


def reinstate(
    session: Session,
    actor: User,
    student: Student,
    scope: ConsentScope,
    *,
    consent_text: str,
    now: datetime,
) -> int:
    """Give `scope` consent again, in one commit."""
    row = check_reinstate(session, student, scope)
    try:
        added = do_reinstate(session, actor, student, row, consent_text=consent_text, now=now)
        session.commit()
    except WithdrawalError:
        session.rollback()
        raise
    return added


def _assign_open_campaigns(session: Session, student: Student, now: datetime) -> int:
    """Assignments for the campaigns open now whose cohort takes the student and that do not
    have one for them yet."""
    # Imported here: screening.campaigns asks this module who may be screened.
    from screening.campaigns import cohort_query

    if student.enrolment_status is not EnrolmentStatus.ENROLLED:
        return 0
    campaigns = session.scalars(
        select(Campaign).where(
            Campaign.institution_id == student.institution_id,
            Campaign.opens_at <= now,
            Campaign.closes_at > now,
        )
    ).all()
    have = set(
        session.scalars(
            select(CampaignAssignment.campaign_id).where(
                CampaignAssignment.student_id == student.id
            )
        )
    )
    wanted = [
        c.id
        for c in campaigns
        if c.id not in have
        and session.scalar(cohort_query(c).where(Student.id == student.id)) is not None
    ]
    if wanted:
        session.execute(
            insert(CampaignAssignment),
            [{"campaign_id": c, "student_id": student.id} for c in wanted],
        )
    return len(wanted)
