"""Referral rules: creating a referral from a warning, moving it through its states, stalled
detection, the green-channel sweep, and hospital signals for the warning stage (who may see and
move a referral is in `referrals.permissions`).

Creating and moving are each `check_*` (raises, writes nothing) then `do_*` (writes in the
caller's unit of work) under one commit, as `warning.actions` are.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from campus import audit
from campus import clock
from campus.extensions import set_once
from campus.i18n import N_
from campus.models import Caseload
from campus.models import Hospital
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify
from campus.notifications import notify_many
from campus.submissions import stored_once
from config import Config
from referrals import disclosure
from referrals import permissions
from referrals import states
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from referrals.models import Urgency
from referrals.states import Actor
from warning import caseload
from warning import labels
from warning.models import EarlyWarning
from warning.response import DISCHARGE_FLAG
from warning.services import record_signal

S = ReferralStatus
# Not yet ended: a draft left alone is as lost as a sent referral nobody follows.
OPEN = frozenset({S.DRAFT}) | states.ACTIVE


T = TypeVar("T")


@dataclass(frozen=True)
class ReferralSettings:
    """Deadlines of the recovery stage, from the app config (REFERRAL_…); the defaults are
    config.py's, for callers without an app (batch metrics, demo data)."""

    stalled_days: int = Config.REFERRAL_STALLED_DAYS
    green_channel_booking_hours: int = Config.REFERRAL_GREEN_CHANNEL_HOURS
    expected_closure_days: int = Config.REFERRAL_EXPECTED_CLOSURE_DAYS

    @classmethod
    def from_config(cls, config: Mapping) -> ReferralSettings:
        return cls(
            stalled_days=int(config["REFERRAL_STALLED_DAYS"]),
            green_channel_booking_hours=int(config["REFERRAL_GREEN_CHANNEL_HOURS"]),
            expected_closure_days=int(config["REFERRAL_EXPECTED_CLOSURE_DAYS"]),
        )


class ReferralError(ValueError):
    """A request the rules refuse; the message is shown to the user and nothing is written."""


class InvalidTransition(ReferralError):
    pass


class ConcurrentUpdate(ReferralError):
    """Someone else changed the referral since the form was loaded."""


@dataclass(frozen=True)
class NewReferral:
    hospital_id: int
    reason: str
    urgency: Urgency
    green_channel: bool
    disclosed_fields: list[str]
    consent_by: ConsentBy
    consent_name: str
    consent_method: str
    consent_at: datetime
    screening_summary: str | None = None
    internal_note: str | None = None
    submission: str | None = None  # the form's one-time token


@dataclass(frozen=True)
class Change:
    """What a transition carries besides its target; which parts are required depends on it."""

    target: ReferralStatus
    expected_version: int
    note: str | None = None
    outcome: AssessmentOutcome | None = None
    appointment_at: datetime | None = None
    declined_by: ConsentBy | None = None


# --- creating and moving ----------------------------------------------------------------------


def create_referral(
    session: Session, counsellor: User, warning: EarlyWarning, data: NewReferral, now: datetime
) -> Referral:
    """A draft referral from `warning`, with consent and disclosure recorded; commits.

    The student joins the counsellor's caseload, so a break-glass referral stays in their care.
    The same form sent again (`data.submission`) returns the draft it made and writes nothing.
    """
    hospital = check_new_referral(session, warning, data, now)

    def create() -> Referral:
        check_none_under_way(session, warning, hospital)
        return do_create_referral(session, counsellor, warning, hospital, data, now)

    mine = Referral.created_by_id == counsellor.id
    return stored_once(session, Referral, data.submission, mine, create).record


def update_draft(
    session: Session,
    counsellor: User,
    referral: Referral,
    data: NewReferral,
    expected_version: int,
    now: datetime,
) -> Referral:
    """Correct a draft before it is sent, with the checks a new referral has; commits. Before,
    a wrong hospital or disclosure could be mended only by withdrawing the draft and starting
    again, which left a withdrawn referral on the student's record."""
    hospital = check_update_draft(session, counsellor, referral, data, expected_version, now)
    return _unless_changed_meanwhile(
        session, lambda: do_update_draft(session, counsellor, referral, hospital, data)
    )


def check_update_draft(
    session: Session,
    counsellor: User,
    referral: Referral,
    data: NewReferral,
    expected_version: int,
    now: datetime,
) -> Hospital:
    """The hospital the corrected draft goes to, if it may be corrected; raises otherwise."""
    if permissions.actor_for(session, counsellor, referral) is not Actor.COUNSELLOR:
        raise PermissionError("not this referral's counsellor")
    if referral.status != S.DRAFT:
        raise ReferralError(N_("Only a draft can be changed: this referral has been sent."))
    if referral.version != expected_version:
        raise ConcurrentUpdate(N_("Someone else updated this referral; reload it and try again."))
    warning = session.get_one(EarlyWarning, referral.warning_id)
    hospital = check_new_referral(session, warning, data, now)
    if hospital.id != referral.hospital_id:
        check_none_under_way(session, warning, hospital)
    return hospital


def do_update_draft(
    session: Session, counsellor: User, referral: Referral, hospital: Hospital, data: NewReferral
) -> Referral:
    referral.hospital_id = hospital.id
    referral.reason = data.reason.strip()
    referral.urgency = data.urgency
    referral.green_channel = data.green_channel
    referral.disclosed_fields = disclosure.validate_fields(data.disclosed_fields)
    referral.screening_summary = (data.screening_summary or "").strip() or None
    referral.internal_note = (data.internal_note or "").strip() or None
    referral.consent_by = data.consent_by
    referral.consent_name = data.consent_name.strip()
    referral.consent_method = data.consent_method
    referral.consent_at = data.consent_at
    referral.consent_recorded_by_id = counsellor.id
    _audit_change(session, counsellor, referral, "referral_draft_edited", None)
    return referral


def _unless_changed_meanwhile(session: Session, write: Callable[[], T]) -> T:
    """`write()` committed, or rolled back with `ConcurrentUpdate` when another request changed
    the referral since it was read (its version moved on)."""
    try:
        result = write()
        session.commit()
    except StaleDataError as error:
        session.rollback()
        raise ConcurrentUpdate(
            N_("Someone else updated this referral; reload it and try again.")
        ) from error
    return result


def check_new_referral(
    session: Session, warning: EarlyWarning, data: NewReferral, now: datetime
) -> Hospital:
    """The partner hospital `data` names, if the referral may be made; raises `ReferralError`
    saying why not otherwise. Writes nothing."""
    hospital = session.get(Hospital, data.hospital_id)
    if hospital is None or hospital.institution_id != warning.student.institution_id:
        raise ReferralError(N_("Choose one of your institution's partner hospitals."))
    if not data.reason.strip():
        raise ReferralError(N_("A referral needs a reason."))
    if "name" not in data.disclosed_fields:
        # A hospital cannot register, nor call back about, a patient it cannot name.
        raise ReferralError(
            N_("The hospital needs the student's name: tick Name among the fields disclosed.")
        )
    if data.consent_at > now:
        raise ReferralError(N_("Consent cannot be dated in the future."))
    return hospital


def check_none_under_way(session: Session, warning: EarlyWarning, hospital: Hospital) -> None:
    """Raises `ReferralError` if the student already has a referral to `hospital` under way: a
    second would alert the hospital twice (twice a green channel) and leave two records of one
    case to keep up. Inside the send-once write, so the same form sent again finds its own
    draft instead of being refused as a clash with it."""
    under_way = select(Referral.id).where(
        Referral.student_id == warning.student_id,
        Referral.hospital_id == hospital.id,
        Referral.status.in_(OPEN),
    )
    if session.scalar(under_way.limit(1)) is not None:
        raise ReferralError(
            N_(
                "This student already has a referral to this hospital under way: update that "
                "one (from the student's page) instead of making another."
            )
        )


def do_create_referral(
    session: Session,
    counsellor: User,
    warning: EarlyWarning,
    hospital: Hospital,
    data: NewReferral,
    now: datetime,
) -> Referral:
    """Write the draft `check_new_referral` allowed, its first transition, the caseload and the
    audit row, in the caller's unit of work (does not commit)."""
    student = warning.student
    referral = Referral(
        institution_id=student.institution_id,
        student_id=student.id,
        warning_id=warning.id,
        hospital_id=hospital.id,
        department_id=student.department_id,
        created_by_id=counsellor.id,
        created_at=now,
        submission=data.submission,
        reason=data.reason.strip(),
        screening_summary=(data.screening_summary or "").strip() or None,
        internal_note=(data.internal_note or "").strip() or None,
        urgency=data.urgency,
        green_channel=data.green_channel,
        disclosed_fields=disclosure.validate_fields(data.disclosed_fields),
        consent_by=data.consent_by,
        consent_name=data.consent_name.strip(),
        consent_method=data.consent_method,
        consent_at=data.consent_at,
        consent_recorded_by_id=counsellor.id,
        status=S.DRAFT,
        last_transition_at=now,
    )
    session.add(referral)
    session.flush()
    session.add(
        ReferralTransition(
            referral_id=referral.id,
            from_status=None,
            to_status=S.DRAFT,
            by_id=counsellor.id,
            by_role=Actor.COUNSELLOR.value,
            at=now,
        )
    )
    caseload.join(session, counsellor, student, now)
    _audit_change(session, counsellor, referral, "referral_created", None)
    return referral


def transition(
    session: Session,
    user: User,
    referral: Referral,
    change: Change,
    now: datetime,
    settings: ReferralSettings,
) -> ReferralTransition:
    """Move `referral` to `change.target` if the state machine and `user`'s role allow it; commits.

    Raises PermissionError when `user` may not make this move, InvalidTransition when the move does
    not exist or lacks what it needs, ConcurrentUpdate when the referral changed meanwhile; in each
    case nothing is written.
    """
    actor = check_transition(session, user, referral, change, now)
    return _unless_changed_meanwhile(
        session, lambda: do_transition(session, user, actor, referral, change, now, settings)
    )


def check_transition(
    session: Session, user: User, referral: Referral, change: Change, now: datetime
) -> Actor:
    """The side `user` acts for, if the state machine lets that side make `change` on this
    version of `referral` at `now` with what the move needs; raises `PermissionError`,
    `InvalidTransition` or `ConcurrentUpdate` otherwise. Writes nothing."""
    actor = permissions.actor_for(session, user, referral)
    if actor is None:
        raise PermissionError("not your referral")
    outcome = change.outcome if change.target is S.ASSESSED else referral.outcome
    move = states.allowed(referral.status, change.target, outcome)
    if move is None:
        raise InvalidTransition(
            f"A referral cannot go from {referral.status.value} to {change.target.value}."
        )
    if actor not in move.actors:
        raise PermissionError(f"{actor.value} may not make this move")
    if referral.version != change.expected_version:
        raise ConcurrentUpdate(N_("Someone else updated this referral; reload it and try again."))
    _check_requirements(referral, change, now)
    return actor


def _check_requirements(referral: Referral, change: Change, now: datetime) -> None:
    note = (change.note or "").strip()
    if change.target is S.SENT and awaits_guardian_consent(referral, now):
        raise InvalidTransition(
            N_(
                "The student is under 18: a minor's referral needs a guardian's consent. Change "
                "the draft to record the guardian's consent, then send it."
            )
        )
    if change.target is S.ASSESSED and too_early_to_assess(referral, now):
        raise InvalidTransition(
            N_(
                "The appointment has not started yet: record the assessment once the student "
                "has been seen. If the hospital saw the student earlier, change the appointment "
                "time first."
            )
        )
    if change.target is S.APPOINTMENT_BOOKED and change.appointment_at is None:
        raise InvalidTransition(N_("Give the appointment date and time."))
    if (
        change.target is S.APPOINTMENT_BOOKED
        and change.appointment_at is not None
        and referral.sent_at is not None
        and change.appointment_at.date() < referral.sent_at.date()
    ):
        raise InvalidTransition(N_("The appointment cannot be before the referral was sent."))
    if (
        change.target is S.APPOINTMENT_BOOKED
        and referral.status is S.APPOINTMENT_BOOKED
        and change.appointment_at == referral.appointment_at
    ):
        # The form comes filled with the time booked: sent as it came, it changes nothing, and
        # must neither say "updated" nor add a booking to the history and notify the counsellor.
        raise InvalidTransition(
            N_("The appointment is already booked for this time: give the new time to change it.")
        )
    if change.target is S.ASSESSED and change.outcome is None:
        raise InvalidTransition(N_("Give the assessment outcome."))
    if change.target is S.DECLINED and (change.declined_by is None or not note):
        raise InvalidTransition(N_("Record who refused (student or guardian) and why."))
    if change.target in (S.LOST_TO_FOLLOW_UP, S.WITHDRAWN) and not note:
        raise InvalidTransition(N_("Say why in the note."))


def is_minor_on(student: Student, now: datetime) -> bool:
    """Whether `student` is under 18 on the institution's calendar day at `now`."""
    return student.is_minor(clock.local_date(now, clock.institution_zone(student.institution)))


def awaits_guardian_consent(referral: Referral, now: datetime) -> bool:
    """A minor's referral (under 18 on the day at `now`) with the student's own consent only:
    in China a minor's medical referral needs the guardian's. Refused when it is sent, not when
    it is drafted: a counsellor often writes the draft before the guardian can be reached, and
    sending is what hands the student's data to the hospital. Judged on the day it is sent, so a
    student who turns 18 meanwhile may be referred on her own consent."""
    return referral.consent_by is ConsentBy.STUDENT and is_minor_on(referral.student, now)


def too_early_to_assess(referral: Referral, now: datetime) -> bool:
    """Booked for a time still to come: an assessment recorded before the appointment starts
    is almost always a slip (a click on the form the page offered right after the booking). A
    student seen earlier is recorded by first changing the appointment time."""
    return referral.appointment_at is not None and now < referral.appointment_at


def do_transition(
    session: Session,
    user: User,
    actor: Actor,
    referral: Referral,
    change: Change,
    now: datetime,
    settings: ReferralSettings,
) -> ReferralTransition:
    """Make the move `check_transition` allowed: the referral's fields, the transition row, the
    audit row, the other side's notice and any hospital signal, in the caller's unit of work
    (does not commit)."""
    previous = referral.status
    target = change.target
    if target is S.SENT:
        referral.sent_at = now
        referral.department_id = referral.student.department_id
        if referral.green_channel:
            referral.booking_due_at = now + timedelta(hours=settings.green_channel_booking_hours)
    if target is S.APPOINTMENT_BOOKED:
        referral.appointment_at = change.appointment_at
    if target is S.ASSESSED:
        referral.outcome = change.outcome
    if target is S.DECLINED:
        referral.declined_by = change.declined_by
    if target in states.TERMINAL:
        referral.ended_at = now
    referral.status = target
    referral.last_transition_at = now
    step = ReferralTransition(
        referral_id=referral.id,
        from_status=previous,
        to_status=target,
        by_id=user.id,
        by_role=actor.value,
        at=now,
        note=(change.note or "").strip()[:1000] or None,
        appointment_at=change.appointment_at if target is S.APPOINTMENT_BOOKED else None,
    )
    session.add(step)
    _audit_change(session, user, referral, "referral_transition", f"{previous}->{target}")
    _tell_the_other_side(session, referral, target, rebooked=previous is target)
    flag = _hospital_flag(target, change.outcome, referral.outcome)
    if flag is not None:
        hand_to_warning_stage(session, user, referral, flag, now)
    return step


@dataclass(frozen=True)
class Notice:
    """Who hears of a move and what they read: the hospital's liaisons of a referral that
    arrives, the referring counsellor of what the hospital did."""

    to_liaisons: bool
    text: str
    green_channel_text: str | None = None


NOTICES: dict[ReferralStatus, Notice] = {
    S.SENT: Notice(
        to_liaisons=True,
        text=N_("A new referral has arrived for your hospital."),
        green_channel_text=N_(
            "Urgent: a green-channel referral has arrived for your hospital. Please book an "
            "appointment now."
        ),
    ),
    S.APPOINTMENT_BOOKED: Notice(
        to_liaisons=False, text=N_("The hospital has booked an appointment for your referral.")
    ),
    S.ASSESSED: Notice(
        to_liaisons=False, text=N_("The hospital has recorded its assessment for your referral.")
    ),
    S.IN_TREATMENT: Notice(
        to_liaisons=False,
        text=N_("The hospital reports that treatment has begun for your referral."),
    ),
    # A discharge is when the return to school and the follow-ups start: the counsellor acts.
    S.DISCHARGED: Notice(
        to_liaisons=False,
        text=N_(
            "The hospital has recorded a discharge for your referral: plan the follow-up and, "
            "if the student is on leave, the return."
        ),
    ),
}


# An appointment booked again (moved, or brought forward to when the student was seen).
REBOOKED = Notice(to_liaisons=False, text=N_("The appointment for your referral has been changed."))
# Outpatient treatment ended ("discharged" for outpatient care): the counsellor closes the loop.
TREATMENT_ENDED = Notice(
    to_liaisons=False,
    text=N_(
        "The hospital reports that outpatient treatment has ended for your referral: check in "
        "with the student, plan the follow-up and close the referral."
    ),
)


def _tell_the_other_side(
    session: Session, referral: Referral, target: ReferralStatus, *, rebooked: bool = False
) -> None:
    """Queue the notice of `target` (see `NOTICES`) in this unit of work. Its text names no
    student (it also goes by mail); the referrer's inbox note carries the student's name as
    in-app detail while the student is in their clinical scope (`referrer_detail`), the
    liaisons' the name the referral discloses to the hospital (`liaison_detail`)."""
    notice = REBOOKED if rebooked else NOTICES.get(target)
    if target is S.DISCHARGED and referral.outcome is AssessmentOutcome.OUTPATIENT:
        notice = TREATMENT_ENDED
    if notice is None:
        return
    if not notice.to_liaisons:
        told = referral.created_by_id
        detail = referrer_detail(session, referral)
        notify_many(
            session,
            [([told], notice.text, f"/referrals/{referral.id}", {told: detail} if detail else {})],
        )
        return
    text = (referral.green_channel and notice.green_channel_text) or notice.text
    liaisons = _liaisons_of(session, referral)
    detail = liaison_detail(referral)
    notify_many(
        session,
        [
            (
                liaisons,
                text,
                f"/hospital/referrals/{referral.id}",
                dict.fromkeys(liaisons, detail) if detail else {},
                referral.green_channel,
            )
        ],
    )


def liaison_detail(referral: Referral) -> dict[str, object] | None:
    """The in-app detail of a notice to the hospital's liaisons: the student's name, which the
    referral discloses to the hospital (their page shows it), linked to their page of it; None
    when the name is not among the disclosed fields."""
    if "name" not in referral.disclosed:
        return None
    return {"referral_id": referral.id, "name": referral.student.name, "hospital": True}


def referrer_detail(session: Session, referral: Referral) -> dict[str, object] | None:
    """The in-app detail of a notice to the referring counsellor (the student's name, shown as
    in the warning notices), or None when the student has left their clinical scope."""
    referrer = session.get(User, referral.created_by_id)
    if referrer is None or not session.scalar(
        select(Student.id).where(
            Student.id == referral.student_id, permissions.counsellor_clause(referrer)
        )
    ):
        return None
    return {
        "referral_id": referral.id,
        "student_id": referral.student_id,
        "name": referral.student.name,
    }


def _liaisons_of(session: Session, referral: Referral) -> list[int]:
    """The liaisons of the hospital `referral` is addressed to, in its institution."""
    return list(
        session.scalars(
            select(RoleAssignment.user_id).where(
                RoleAssignment.role == Role.HOSPITAL_LIAISON,
                RoleAssignment.hospital_id == referral.hospital_id,
                RoleAssignment.institution_id == referral.institution_id,
            )
        )
    )


def reaches_nobody(session: Session, referral: Referral) -> bool:
    """Whether no working liaison account of the referral's hospital would see it: sent, it
    waits in Xinqiao where nobody at the hospital reads it, green channel or not."""
    return not liaisons_per_hospital(session, referral.institution_id).get(referral.hospital_id)


def liaisons_per_hospital(session: Session, institution_id: int) -> dict[int, int]:
    """How many working liaison accounts each of the institution's hospitals has (none: absent)."""
    counted = session.execute(
        select(RoleAssignment.hospital_id, func.count(func.distinct(User.id)))
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.role == Role.HOSPITAL_LIAISON,
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.hospital_id.is_not(None),
            User.active.is_(True),
        )
        .group_by(RoleAssignment.hospital_id)
    )
    return {hospital_id: number for hospital_id, number in counted if hospital_id is not None}


def _hospital_flag(
    target: ReferralStatus, outcome: AssessmentOutcome | None, assessed: AssessmentOutcome | None
) -> str | None:
    """The warning-stage signal of a move: an inpatient assessment, a discharge from hospital
    (the end of outpatient treatment is no "recent discharge")."""
    if target is S.ASSESSED and outcome is AssessmentOutcome.INPATIENT:
        return "hospital:severe_disorder"
    if target is S.DISCHARGED and assessed is AssessmentOutcome.INPATIENT:
        return DISCHARGE_FLAG
    return None


def _audit_change(
    session: Session, user: User, referral: Referral, action: str, detail: str | None
) -> None:
    audit.record_on(
        session,
        referral,
        actor=user,
        action=action,
        record_type="referral",
        detail=detail,
    )


# --- the warning stage ------------------------------------------------------------------------


def hand_to_warning_stage(
    session: Session, user: User, referral: Referral, flag: str, observed_at: datetime
) -> None:
    """Give the warning stage a hospital signal (red by the default policy) in this unit of work."""
    record_signal(
        session,
        student=referral.student,
        source="hospital",
        flags={flag},
        observed_at=observed_at,
        label=labels.hospital(flag),
        evidence_type="referral",
        evidence_id=referral.id,
        recorded_by=user,
        now=observed_at,
    )


def _responsible_users(session: Session, referral: Referral) -> set[int]:
    """The centre directors of the institution, the referring counsellor and the caseload's."""
    directors = session.scalars(
        select(RoleAssignment.user_id).where(
            RoleAssignment.role == Role.DIRECTOR,
            RoleAssignment.institution_id == referral.institution_id,
        )
    )
    caseload = session.scalars(
        select(Caseload.counsellor_id).where(Caseload.student_id == referral.student_id)
    )
    return {referral.created_by_id, *directors, *caseload}


def open_referral(session: Session, user: User, student_id: int) -> Referral | None:
    """The student's most recent referral still under way, if `user` may read referrals of the
    student (see `permissions.counsellor_clause`); None otherwise."""
    return session.scalar(
        select(Referral)
        .join(Student, Student.id == Referral.student_id)
        .where(
            Referral.student_id == student_id,
            Referral.status.in_(OPEN),
            permissions.counsellor_clause(user),
        )
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(1)
    )


# --- stalled and overdue ----------------------------------------------------------------------


def stalled_clause(now: datetime, settings: ReferralSettings) -> ColumnElement[bool]:
    """Open referrals with no transition for `stalled_days` or more."""
    return and_(
        Referral.status.in_(OPEN),
        Referral.last_transition_at <= now - timedelta(days=settings.stalled_days),
    )


def stalled_since(referral: Referral, settings: ReferralSettings) -> datetime | None:
    """When an open referral becomes (or became) stalled; None once it has ended."""
    if referral.status not in OPEN:
        return None
    return referral.last_transition_at + timedelta(days=settings.stalled_days)


def is_stalled(referral: Referral, now: datetime, settings: ReferralSettings) -> bool:
    since = stalled_since(referral, settings)
    return since is not None and since <= now


def booking_overdue(referral: Referral, now: datetime) -> bool:
    """Sent, with a booking deadline (an urgent or green-channel referral) that has passed and
    no appointment yet: the liaison's page and the counsellor's both mark it."""
    return (
        referral.status == S.SENT
        and referral.booking_due_at is not None
        and referral.booking_due_at <= now
    )


def liaison_order(now: datetime) -> tuple[ColumnElement, ...]:
    """The liaison's list, most pressing first: a booking deadline passed, then those still to
    book, then those under way; within each the most urgent, the green channel, the newest."""
    return (
        case((and_(Referral.status == S.SENT, Referral.booking_due_at <= now), 0), else_=1),
        case((Referral.status == S.SENT, 0), (Referral.status.in_(states.ACTIVE), 1), else_=2),
        case(
            (Referral.urgency == Urgency.EMERGENCY, 0),
            (Referral.urgency == Urgency.URGENT, 1),
            else_=2,
        ),
        Referral.green_channel.desc(),
        Referral.sent_at.desc(),
    )


# --- green channel ----------------------------------------------------------------------------


def sweep_green_channel(session: Session, now: datetime, settings: ReferralSettings) -> int:
    """Escalate, once, each green-channel referral not booked by its deadline; commits.

    The director(s) and the school counsellors of the case are notified; `escalated_at` records
    it, so a rerun (or a restart) never notifies twice.
    """
    return escalate_green_channel(session, overdue_green_channel(session, now), now)


def green_channel_overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Green-channel referrals sent and still not booked at their deadline: what the sweep
    escalates, the home pages say and the list's "overdue" filter shows, escalated or not."""
    return and_(
        Referral.green_channel.is_(True),
        Referral.status == S.SENT,
        Referral.booking_due_at <= now,
    )


def overdue_green_channel(session: Session, now: datetime) -> list[int]:
    """Ids of green-channel referrals past their booking deadline and not yet escalated."""
    return list(
        session.scalars(
            select(Referral.id).where(
                green_channel_overdue_clause(now), Referral.escalated_at.is_(None)
            )
        )
    )


def escalate_green_channel(session: Session, referral_ids: list[int], now: datetime) -> int:
    """Claim and escalate each of ``referral_ids``; returns how many this call escalated. Commits.

    Each referral is claimed by a conditional UPDATE (``escalated_at IS NULL``): of two sweeps that
    read the same overdue list, only the one whose UPDATE changes the row notifies; the other's
    UPDATE matches no row (PostgreSQL makes it wait for the winner's commit, then re-checks). The
    claim is not a user's edit, so it leaves the referral's version alone.
    """
    escalated = 0
    for referral_id in referral_ids:
        if not set_once(session, Referral.escalated_at, referral_id, escalated_at=now):
            continue
        escalated += 1
        # The claim just matched the row; referrals are never deleted.
        referral = session.get_one(Referral, referral_id, populate_existing=True)
        notify(
            session,
            _responsible_users(session, referral),
            N_("A green-channel referral has no appointment booked by its deadline."),
            f"/referrals/{referral.id}",
            urgent=True,
        )
        audit.record_on(
            session,
            referral,
            actor=None,
            action="green_channel_escalated",
            record_type="referral",
        )
    session.commit()
    return escalated
