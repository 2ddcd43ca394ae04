"""Booking a counselling appointment (心理咨询预约): a student for themself, or staff for them.

`book` is the one way an appointment is made (the waitlist books through it too). It checks the
slot and the student (`check_book`, which writes nothing), then inserts the appointment inside a
savepoint. Two requests for one seat both pass the checks; the database's partial unique index
(`uq_appointment_live_slot`) lets exactly one insert through, and the other's IntegrityError
rolls back that savepoint alone and becomes `BookingError` "taken" with the next free times.

The pre-appointment check (预检) travels with the booking. Its safety question is a safety answer
like the intake's: the check and its red signal are written before the booking is tried and
committed whatever becomes of it, so a slot just taken, a past slot or a limit reached never loses
the warning.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from appointments import booking_permissions
from appointments import urgency
from appointments.models import LIVE_STATES
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import PreCheck
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from campus import audit
from campus import clock
from campus import notifications
from campus.i18n import N_
from campus.models import Student
from campus.models import User
from screening.scoring import SAFETY
from screening.scoring import load_instrument
from screening.scoring import score

if TYPE_CHECKING:
    from warning.models import Signal

log = logging.getLogger(__name__)

# A safety answer given again this soon after a refused pre-check, and not yet acted on, is the
# same answer: a student retrying her booking (a new sign-in starts without the refusal her
# session kept), one signal and one alarm. Answers further apart are each told.
SAME_ANSWER_WINDOW = timedelta(hours=2)
# How many free times a refusal offers instead.
NEXT_FREE_COUNT = 3
# Kinds a student books for themself; a follow-up only with a counsellor they have seen.
SELF_BOOKABLE = frozenset({SessionKind.FIRST_VISIT, SessionKind.FOLLOW_UP, SessionKind.GROUP})
REASON_MAX = 200
STUDENT_PAGE = "/appointments/mine"
COUNSELLOR_PAGE = "/appointments/booked"
BOOKED_WITH_YOU_TEXT = N_("A counselling appointment was booked with you.")


class BookingError(ValueError):
    """A booking refused; nothing of the booking was written.

    `message` is an English source message (shown through gettext, with `params`); `code` names
    the refusal for callers that branch on it ("taken", "past", "limit", ...); `next_free` holds
    the next free times for a lost race or a slot no longer bookable; `problems` every problem of
    a refused pre-check (English source messages); `safety` is true when the pre-check carried a
    safety answer, whose red warning was raised all the same, by `safety_signal_id` when the
    refusal raised it (answers that could not be stored: no check holds it).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        params: Mapping[str, object] | None = None,
        next_free: list[Slot] | None = None,
        problems: list[str] | None = None,
        safety: bool = False,
        safety_signal_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params or {})
        self.next_free = list(next_free or [])
        self.problems = list(problems or [message])
        self.safety = safety
        self.safety_signal_id = safety_signal_id


@dataclass(frozen=True)
class PreCheckAnswers:
    """The pre-appointment check as answered: item number -> option value for each scale."""

    reason: str
    phq2: Mapping[int, object] = field(default_factory=dict)
    gad2: Mapping[int, object] = field(default_factory=dict)
    safety: object = None  # PHQ-9 item 9: 0-3


# The pre-check is these instruments' own definitions: PHQ-2 (Kroenke 2003, cut-off 3) and GAD-2
# (Kroenke 2007, cut-off 3) in screening/instruments, and the PHQ-9's item 9 as safety question.
PHQ2, GAD2, SAFETY_INSTRUMENT, SAFETY_ITEM = "phq2", "gad2", "phq9", 9


# --------------------------------------------------------------------------------------------------
# Free times
# --------------------------------------------------------------------------------------------------


def _live_count() -> ColumnElement[int]:
    """Seats taken: live appointments, and seats a waitlist offer holds (`appointments.waitlist`),
    so a held seat is not shown free to anybody else."""
    live = (
        select(func.count(Appointment.id))
        .where(Appointment.slot_id == Slot.id, Appointment.state.in_(LIVE_STATES))
        .correlate(Slot)
        .scalar_subquery()
    )
    held = (
        select(func.count(WaitlistEntry.id))
        .where(
            WaitlistEntry.offered_slot_id == Slot.id,
            WaitlistEntry.state == WaitlistState.OFFERED,
        )
        .correlate(Slot)
        .scalar_subquery()
    )
    return live + held


def free_slots_query(
    institution_id: int,
    *,
    after: datetime,
    until: datetime | None = None,
    kinds: Collection[SessionKind] | None = None,
    gender: str | None = None,
    counsellor_id: int | None = None,
) -> Select[tuple[Slot]]:
    """Open slots of the institution starting after `after` (and before `until`) with a seat
    left, earliest first; narrowed to some kinds, a counsellor's gender or one counsellor."""
    stmt = select(Slot).where(
        Slot.institution_id == institution_id,
        Slot.state == SlotState.OPEN,
        Slot.starts_at > after,
        _live_count() < Slot.capacity,
    )
    if until is not None:
        stmt = stmt.where(Slot.starts_at < until)
    if kinds is not None:
        stmt = stmt.where(Slot.kind.in_(list(kinds)))
    if gender:
        stmt = stmt.join(CounsellorProfile, CounsellorProfile.user_id == Slot.counsellor_id).where(
            CounsellorProfile.gender == gender
        )
    if counsellor_id is not None:
        stmt = stmt.where(Slot.counsellor_id == counsellor_id)
    return stmt.order_by(Slot.starts_at, Slot.id)


def free_slots(
    session: Session,
    institution_id: int,
    *,
    after: datetime,
    until: datetime | None = None,
    kinds: Collection[SessionKind] | None = None,
    gender: str | None = None,
    counsellor_id: int | None = None,
    limit: int = 500,
) -> list[Slot]:
    """The free slots `free_slots_query` selects, at most `limit`, with their counsellors: every
    list of times names them."""
    stmt = free_slots_query(
        institution_id,
        after=after,
        until=until,
        kinds=kinds,
        gender=gender,
        counsellor_id=counsellor_id,
    )
    return list(session.scalars(stmt.options(joinedload(Slot.counsellor)).limit(limit)))


class NoFreeTime(enum.StrEnum):
    """Why a student's list of free times is empty, each told in its own words: a page that
    suggested "try without a preference" while none was set, and never said the centre had
    opened no time, contradicted itself."""

    NONE_OPENED = "none_opened"  # the centre has opened no time she may book in the window
    ALL_TAKEN = "all_taken"  # it has, and every seat is taken
    NOT_MATCHING = "not_matching"  # free times there are, none with the counsellor she asked for


def why_no_free_time(
    session: Session,
    institution_id: int,
    *,
    after: datetime,
    until: datetime,
    urgent: bool,
    preference: bool,
) -> NoFreeTime:
    """Why no free time between `after` and `until` matched a student's choices (call it when
    `free_slots` found none): with a `preference` (a counsellor's gender, a counsellor seen
    before), whether free times without it exist; else whether the centre opened any time of
    the kinds she may book (`self_bookable_kinds`) at all."""
    kinds = self_bookable_kinds(None, urgent=urgent)
    if preference and free_slots(
        session, institution_id, after=after, until=until, kinds=kinds, limit=1
    ):
        return NoFreeTime.NOT_MATCHING
    opened = session.scalar(
        select(Slot.id)
        .where(
            Slot.institution_id == institution_id,
            Slot.state == SlotState.OPEN,
            Slot.starts_at > after,
            Slot.starts_at < until,
            Slot.kind.in_(list(kinds)),
        )
        .limit(1)
    )
    return NoFreeTime.NONE_OPENED if opened is None else NoFreeTime.ALL_TAKEN


def next_free(
    session: Session, slot: Slot, *, now: datetime, count: int = NEXT_FREE_COUNT
) -> list[Slot]:
    """The next free times of the same kind after `slot` (or after now, if later): what a
    student who just lost `slot` is offered instead."""
    return free_slots(
        session,
        slot.institution_id,
        after=max(now, slot.starts_at - timedelta(seconds=1)),
        kinds=[slot.kind],
        limit=count + 1,
    )[:count]


def self_bookable_kinds(
    counsellor_id: int | None, *, urgent: bool = False
) -> tuple[SessionKind, ...]:
    """The kinds a student's own list offers: first visits, and follow-ups once they asked for a
    counsellor they have seen (`check_book` holds them to one they have attended). A student the
    centre must see soon (`appointments.urgency`) is offered every individual time, whoever's: the
    earliest hour matters more to her than the kind of time it was set aside for."""
    if counsellor_id is None and not urgent:
        return (SessionKind.FIRST_VISIT,)
    return (SessionKind.FIRST_VISIT, SessionKind.FOLLOW_UP)


def counsellors_seen(session: Session, student: Student) -> list[User]:
    """The counsellors `student` has attended a session with, for "the counsellor I saw"."""
    ids = select(Appointment.counsellor_id).where(
        Appointment.student_id == student.id, Appointment.state == AppointmentState.ATTENDED
    )
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))


# --------------------------------------------------------------------------------------------------
# What a session is for the student who comes
# --------------------------------------------------------------------------------------------------

# Sessions that make a student a returning one: an individual session they attended. A group
# session is no intake: the first individual session after it is still a first visit.
INDIVIDUAL = (SessionKind.FIRST_VISIT, SessionKind.FOLLOW_UP)


def returning_since(session: Session, student_ids: Collection[int]) -> dict[int, datetime]:
    """When each student first attended an individual session; a student who never has is not
    in it."""
    if not student_ids:
        return {}
    rows = session.execute(
        select(Appointment.student_id, func.min(Appointment.starts_at))
        .where(
            Appointment.student_id.in_(list(student_ids)),
            Appointment.state == AppointmentState.ATTENDED,
            Appointment.kind.in_(INDIVIDUAL),
        )
        .group_by(Appointment.student_id)
    ).tuples()
    return dict(rows.all())


def visit_kind(kind: SessionKind, starts_at: datetime, since: datetime | None) -> SessionKind:
    """What a session of `kind` at `starts_at` is for a student who first attended one at
    `since` (`returning_since`): an individual session before which she had come is a
    follow-up, one before which she never had is her first visit. A slot's kind says what the
    time offers: a returning student who asks for "any counsellor" is offered first-visit
    times, and staff (or a student the centre must see soon) may take a follow-up time for a
    student who never came; either booking read as the slot's kind before."""
    if kind not in INDIVIDUAL:
        return kind
    if since is not None and since < starts_at:
        return SessionKind.FOLLOW_UP
    return SessionKind.FIRST_VISIT


def visit_kind_for(session: Session, student_id: int, slot: Slot) -> SessionKind:
    """`visit_kind` of `slot` for one student (the appointment or offer a page shows)."""
    return visit_kind(
        slot.kind, slot.starts_at, returning_since(session, [student_id]).get(student_id)
    )


def first_free(
    session: Session,
    student: Student,
    *,
    now: datetime,
    gender: str | None = None,
    counsellor_id: int | None = None,
    urgent: bool = False,
) -> Slot | None:
    """The earliest free slot `student` may book for themself honouring their preferences (a
    counsellor's gender, a counsellor seen before), or None when no free time matches them;
    every individual time when the centre must see her soon (`self_bookable_kinds`)."""
    slots = free_slots(
        session,
        student.institution_id,
        after=now,
        kinds=self_bookable_kinds(counsellor_id, urgent=urgent),
        gender=gender,
        counsellor_id=counsellor_id,
        limit=1,
    )
    return slots[0] if slots else None


# --------------------------------------------------------------------------------------------------
# The no-show policy's hook
# --------------------------------------------------------------------------------------------------


def may_self_book(session: Session, student: Student, now: datetime) -> str | None:
    """Why `student` may not book for themself now (an English source message), or None.

    The no-show policy (`appointments.changes.booking_bar`): after `NO_SHOW_LIMIT` missed or
    late-cancelled appointments, booking is by the centre only until the director lifts it.
    Staff booking on a student's behalf is never barred.
    """
    from appointments import changes  # changes books through this module

    if changes.booking_bar(session, student, now) is None:
        return None
    return N_("Booking is by the centre only for you at the moment. Please call the centre.")


# --------------------------------------------------------------------------------------------------
# Validate, then act
# --------------------------------------------------------------------------------------------------


def check_book(
    session: Session,
    *,
    student: Student,
    slot: Slot,
    booked_by: User,
    kind: SessionKind,
    now: datetime,
) -> None:
    """Raise `BookingError` when this booking may not be made; writes nothing.

    Checked: the booker (the student, or staff allowed to book for them), the slot (the student's
    institution, offered, in the future, of the kind asked, a seat left), the kind the student may
    book (a follow-up with a counsellor she has seen, with anyone when the centre must see her
    soon), the student's bar and the number of live future appointments they hold.
    """
    own = booking_permissions.is_own(booked_by, student)
    if slot.institution_id != student.institution_id:
        # Another institution's slot is as good as a forged id: nothing to book.
        raise BookingError(
            N_("This time does not exist. Choose one from the list."), code="missing"
        )
    if not own and not _may_book_for(session, booked_by, student):
        raise BookingError(
            N_("You may not book an appointment for this student."), code="forbidden"
        )
    if slot.state != SlotState.OPEN:
        raise BookingError(
            N_("This time is no longer offered. Here are the next free times."),
            code="withdrawn",
            next_free=next_free(session, slot, now=now),
        )
    if slot.starts_at <= now:
        raise BookingError(
            N_("This time has already passed. Here are the next free times."),
            code="past",
            next_free=next_free(session, slot, now=now),
        )
    if kind != slot.kind:
        raise BookingError(N_("This time is not offered for this kind of session."), code="kind")
    if own:
        if kind not in SELF_BOOKABLE:
            raise BookingError(N_("This kind of session is booked by the centre."), code="kind")
        if (
            kind == SessionKind.FOLLOW_UP
            and not _has_seen(session, student, slot.counsellor_id)
            and urgency.urgent(session, student.id) is None
        ):
            raise BookingError(
                N_("A follow-up is booked with a counsellor you have already seen."), code="kind"
            )
        barred = may_self_book(session, student, now)
        if barred:
            raise BookingError(barred, code="barred")
    limit = _max_open()
    if _open_count(session, student, now) >= limit:
        raise BookingError(
            N_(
                "You already have an upcoming appointment. To come at another time, change its "
                "time or cancel it."
            )
            if own
            else N_("This student already has an upcoming appointment."),
            code="limit",
            params={"limit": limit},
        )
    if len(_taken_seats(session, slot) | _held_seats(session, slot, student)) >= slot.capacity:
        raise BookingError(
            N_("This time has just been taken. Here are the next free times."),
            code="taken",
            next_free=next_free(session, slot, now=now),
        )


def do_book(
    session: Session,
    *,
    student: Student,
    slot: Slot,
    booked_by: User,
    kind: SessionKind,
    submission_token: str | None,
    now: datetime,
) -> Appointment:
    """Insert the appointment into the first free seat of `slot`, each try in its own savepoint;
    does not commit. A seat taken under our feet makes the next seat's try; when none is left,
    `BookingError` "taken". Nothing of a failed try stays in the session.

    `kind` is the kind of time asked for (the slot's, `check_book`); the appointment keeps what
    the session is for this student (`visit_kind_for`): a first-visit time taken by a student
    who came before is stored as her follow-up, as every page shows it."""
    stored_kind = visit_kind_for(session, student.id, slot) if kind == slot.kind else kind
    taken = _taken_seats(session, slot) | _held_seats(session, slot, student)
    for seat in range(1, slot.capacity + 1):
        if seat in taken:
            continue
        appointment = Appointment(
            institution_id=slot.institution_id,
            slot_id=slot.id,
            seat=seat,
            student_id=student.id,
            counsellor_id=slot.counsellor_id,
            starts_at=slot.starts_at,
            kind=stored_kind,
            state=AppointmentState.BOOKED,
            booked_by_id=booked_by.id,
            booked_at=now,
            submission_token=submission_token,
        )
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except IntegrityError:
            if submission_token and _by_token(session, submission_token) is not None:
                raise _DoubleSubmit() from None
            continue
        return appointment
    raise BookingError(
        N_("This time has just been taken. Here are the next free times."),
        code="taken",
        next_free=next_free(session, slot, now=now),
    )


class _DoubleSubmit(Exception):
    """The same form was submitted twice at once and the other request's booking stands."""


def _repeat_of(session: Session, token: str | None, student: Student) -> Appointment:
    """The appointment the other request of a double submit made; when it made none (it was
    refused) or made it for someone else (a forged token), this request is refused too, told
    as a form already sent."""
    repeat = _by_token(session, token) if token else None
    if repeat is None or repeat.student_id != student.id:
        raise BookingError(
            N_("This form was already sent. See My appointments before trying again."),
            code="double",
        )
    return repeat


def book(
    session: Session,
    *,
    student: Student,
    slot: Slot,
    booked_by: User,
    kind: SessionKind,
    submission_token: str | None = None,
    precheck: PreCheckAnswers | None = None,
    raised_signal_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book `slot` for `student` and commit once: the appointment, its pre-check, the audit row
    and the notices to the student and the counsellor.

    A repeat of a submission (same `submission_token`) returns the appointment it made. A refusal
    raises `BookingError` and writes nothing of the booking; a pre-check that came with it is
    committed all the same when it carries a safety answer (its red warning with it), so the
    warning never waits for a free time. `raised_signal_id` is the signal an earlier refusal of
    the same form raised for its safety answer: the same answer sent again, corrected, is told
    by it, not by a second signal (one answer, one line on the timeline, one note to the centre).
    Without it (a new sign-in, a new form) the student's own refused answer of the last
    `SAME_ANSWER_WINDOW`, not yet acted on, tells it the same way (`_raised_before`).
    """
    now = now or clock.now()
    if submission_token and _by_token(session, submission_token) is not None:
        return _repeat_of(session, submission_token, student)
    if not _carries_anything_to_keep(precheck):
        # Nothing a refusal would have to keep: refuse before writing, so the commonest answer
        # of a rush ("taken") costs a few reads, not an insert rolled back. Checked again below,
        # under the student's lock, before anything is booked.
        check_book(session, student=student, slot=slot, booked_by=booked_by, kind=kind, now=now)
    try:
        check = _write_precheck(
            session, student, booked_by, precheck, submission_token, raised_signal_id, now
        )
    except _DoubleSubmit:
        return _repeat_of(session, submission_token, student)
    safety = check is not None and check.safety_signal_id is not None
    try:
        _lock_student(session, student)
        check_book(session, student=student, slot=slot, booked_by=booked_by, kind=kind, now=now)
        appointment = do_book(
            session,
            student=student,
            slot=slot,
            booked_by=booked_by,
            kind=kind,
            submission_token=submission_token,
            now=now,
        )
    except BookingError as refused:
        refused.safety = safety
        _keep_safety_only(session, check)
        raise
    except _DoubleSubmit:
        _keep_safety_only(session, check)
        return _repeat_of(session, submission_token, student)
    if check is not None:
        check.appointment_id = appointment.id
    tell(session, appointment, student)
    if not booking_permissions.is_own(booked_by, student):
        audit.record_on(
            session, appointment, actor=booked_by, action="book_for", record_type="appointment"
        )
    session.commit()
    return appointment


# --------------------------------------------------------------------------------------------------
# The pre-appointment check
# --------------------------------------------------------------------------------------------------


def check_precheck(answers: PreCheckAnswers) -> list[str]:
    """The problems of a pre-check (English source messages), empty when it can be stored."""
    problems = []
    if not answers.reason.strip():
        problems.append(N_("Say in a few words what you would like to talk about."))
    elif len(answers.reason.strip()) > REASON_MAX:
        problems.append(N_("Keep the reason under 200 characters."))
    # One message for what is unanswered: "every question" covers the last one too.
    if not all(
        _valid_items(code, given) for code, given in ((PHQ2, answers.phq2), (GAD2, answers.gad2))
    ):
        problems.append(N_("Answer every question of the short check."))
    elif _safety_value(answers.safety) is None:
        problems.append(N_("Answer the last question."))
    return problems


def is_safety_answer(answers: PreCheckAnswers) -> bool:
    """Whether the safety question was answered above "not at all" (PHQ-9 item 9 ≥ 1)."""
    return bool(_safety_flags(answers.safety))


def _write_precheck(
    session: Session,
    student: Student,
    booked_by: User,
    answers: PreCheckAnswers | None,
    token: str | None,
    raised_id: int | None,
    now: datetime,
) -> PreCheck | None:
    """The check and its safety signal, flushed in the caller's transaction (None without one).

    Invalid answers refuse the booking, but a valid safety answer among them still raises its
    signal and is committed before the refusal, so nothing a student said about harming
    themselves is dropped for a missing reason or a blank item.
    """
    if answers is None:
        return None
    if token:
        stored = session.scalar(select(PreCheck).where(PreCheck.submission_token == token))
        if stored is not None:
            return stored
    problems = check_precheck(answers)
    flags = _safety_flags(answers.safety)
    raised = _raised_before(session, student, raised_id, flags, now)
    if problems:
        signal_id = raised.id if raised is not None else None
        if flags and raised is None:
            signal_id = _safety_signal(session, student, flags, None, now)
            session.commit()
        raise BookingError(
            problems[0],
            code="precheck",
            problems=problems,
            safety=bool(flags),
            safety_signal_id=signal_id,
        )
    phq2 = score(PHQ2, {int(k): v for k, v in _stored(answers.phq2).items()})
    gad2 = score(GAD2, {int(k): v for k, v in _stored(answers.gad2).items()})
    check = PreCheck(
        institution_id=student.institution_id,
        student_id=student.id,
        reason=answers.reason.strip(),
        phq2_answers=_stored(answers.phq2),
        phq2_total=int(phq2.total or 0),
        phq2_band=phq2.band.code if phq2.band else "",
        gad2_answers=_stored(answers.gad2),
        gad2_total=int(gad2.total or 0),
        gad2_band=gad2.band.code if gad2.band else "",
        safety_answer=_safety_value(answers.safety) or 0,
        flags=";".join(sorted(phq2.flags | gad2.flags | flags)),
        submitted_by_id=booked_by.id,
        submitted_at=now,
        submission_token=token,
    )
    session.add(check)
    try:
        session.flush()
    except IntegrityError:
        # The same form, sent twice at once: the other request stored this check first. The
        # check is this transaction's first write, so rolling it all back loses nothing else.
        session.rollback()
        raise _DoubleSubmit() from None
    if raised is not None:
        # The answer it told is stored now, unless a refusal of the time stored it already.
        if raised.evidence_id is None:
            raised.evidence_id = check.id
        check.safety_signal_id = raised.id
        session.flush()
    elif flags:
        check.safety_signal_id = _safety_signal(session, student, flags, check.id, now)
        session.flush()
    return check


def _raised_before(
    session: Session,
    student: Student,
    raised_id: int | None,
    flags: frozenset[str],
    now: datetime,
) -> Signal | None:
    """The signal that already tells `student`'s safety answer in `flags`, while it still does
    (on her open warning, no new safety finding); None when the answer needs its own.

    That is the signal a refusal of the same form raised (`raised_id`, from her session), else
    her latest one of a refused pre-check (no booked check carries it) from the last
    `SAME_ANSWER_WINDOW` that nobody has acted on yet: she signed in again, or opened a new
    form, and sent the same answer. The id from the session is held to the same test, so a
    forged one finds nothing and a signal is raised as ever."""
    from warning import services as warning_services
    from warning.models import Signal

    if not flags:
        return None
    refused = select(Signal).where(
        Signal.student_id == student.id,
        Signal.evidence_type == PRECHECK_EVIDENCE,
        ~select(PreCheck.id)
        .where(PreCheck.safety_signal_id == Signal.id, PreCheck.appointment_id.is_not(None))
        .exists(),
    )
    same_form = session.scalar(refused.where(Signal.id == raised_id)) if raised_id else None
    raised = same_form or session.scalar(
        refused.where(Signal.observed_at >= now - SAME_ANSWER_WINDOW, warning_services.unreviewed())
        .order_by(Signal.observed_at.desc(), Signal.id.desc())
        .limit(1)
    )
    if raised is None or warning_services.new_safety_flags(session, raised.id, flags):
        return None
    return raised


def _carries_anything_to_keep(answers: PreCheckAnswers | None) -> bool:
    """Whether a refused booking would still store something of these answers (a safety
    answer) or report them (invalid answers, told before any refusal of the time)."""
    return answers is not None and (is_safety_answer(answers) or bool(check_precheck(answers)))


def _keep_safety_only(session: Session, check: PreCheck | None) -> None:
    """After a refused booking: commit a pre-check that carries a safety answer (with its signal),
    roll back anything else, so a refusal writes nothing but the warning."""
    if check is not None and check.safety_signal_id is not None:
        session.commit()
    else:
        session.rollback()


def _safety_signal(
    session: Session,
    student: Student,
    flags: frozenset[str],
    precheck_id: int | None,
    now: datetime,
) -> int:
    """Hand the safety answer to the warning stage as intake does: a screening signal with the
    PHQ-9 safety flags, which the triage policy makes red. Imported here so the appointment
    tables load without the warning stage."""
    from warning import labels
    from warning import services as warning_services

    signal = warning_services.record_signal(
        session,
        student=student,
        source="screening",
        flags=flags,
        observed_at=now,
        label=warning_services.screening_label(
            SAFETY_INSTRUMENT, flags, None, labels.word(PRECHECK_NAME), now
        ),
        instrument=SAFETY_INSTRUMENT,
        evidence_type=PRECHECK_EVIDENCE,
        evidence_id=precheck_id,
        now=now,
    )
    return signal.id


PRECHECK_NAME = N_("the pre-appointment check")
PRECHECK_EVIDENCE = "appointment_precheck"


def _safety_value(raw: object) -> int | None:
    value = _whole(raw)
    if value is None:
        return None
    options = load_instrument(SAFETY_INSTRUMENT).item(SAFETY_ITEM).options.values
    return value if value in options else None


def _safety_flags(raw: object) -> frozenset[str]:
    """The PHQ-9 flags of the safety answer when it is one (the instrument says which)."""
    value = _safety_value(raw)
    if value is None:
        return frozenset()
    flags = score(SAFETY_INSTRUMENT, {SAFETY_ITEM: value}).flags
    return flags if SAFETY in flags else frozenset()


def _valid_items(code: str, given: Mapping[int, object]) -> bool:
    inst = load_instrument(code)
    if set(given) != set(inst.item_numbers):
        return False
    for number, raw in given.items():
        value = _whole(raw)
        if value is None or value not in inst.item(number).options.values:
            return False
    return True


def _stored(given: Mapping[int, object]) -> dict[str, int]:
    """Validated answers as a result stores them: item number (text) -> value."""
    return {str(number): _whole(raw) or 0 for number, raw in sorted(given.items())}


def _whole(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


# --------------------------------------------------------------------------------------------------
# Small reads
# --------------------------------------------------------------------------------------------------


def _max_open() -> int:
    from flask import current_app

    return int(current_app.config.get("BOOKING_MAX_OPEN", 1))


def upcoming_query(student: Student, now: datetime) -> Select[tuple[Appointment]]:
    """The student's booked appointments still to come, soonest first: what the "open
    appointments" limit counts and every "your appointments" list shows."""
    return (
        select(Appointment)
        .where(
            Appointment.student_id == student.id,
            Appointment.state == AppointmentState.BOOKED,
            Appointment.starts_at > now,
        )
        .order_by(Appointment.starts_at)
    )


def upcoming(session: Session, student: Student, now: datetime) -> list[Appointment]:
    return list(session.scalars(upcoming_query(student, now)))


def at_open_limit(upcoming_appointments: Sequence[Appointment]) -> bool:
    """Whether a student with `upcoming_appointments` (`upcoming`) already has as many as may be
    open (`BOOKING_MAX_OPEN`): `check_book` refuses another, so the staff booking page says so,
    with the one booked, instead of offering times that can only be refused."""
    return len(upcoming_appointments) >= _max_open()


def _open_count(session: Session, student: Student, now: datetime) -> int:
    counted = upcoming_query(student, now).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(counted)) or 0


def _taken_seats(session: Session, slot: Slot) -> set[int]:
    return set(
        session.scalars(
            select(Appointment.seat).where(
                Appointment.slot_id == slot.id, Appointment.state.in_(LIVE_STATES)
            )
        )
    )


def _held_seats(session: Session, slot: Slot, student: Student) -> set[int]:
    """Seats of `slot` a waitlist offer holds for anybody but `student` (appointments.waitlist):
    not free to them until the offer is answered or lapses."""
    held = select(WaitlistEntry.offered_seat).where(
        WaitlistEntry.offered_slot_id == slot.id,
        WaitlistEntry.state == WaitlistState.OFFERED,
        WaitlistEntry.student_id != student.id,
    )
    return {seat for seat in session.scalars(held) if seat is not None}


def booked_with_token(session: Session, token: str | None) -> Appointment | None:
    """The appointment a form with this one-time token already booked, if any: a second submit
    of it books nothing (`book` returns this one)."""
    return _by_token(session, token) if token else None


def _by_token(session: Session, token: str) -> Appointment | None:
    return session.scalar(select(Appointment).where(Appointment.submission_token == token))


def _has_seen(session: Session, student: Student, counsellor_id: int) -> bool:
    return (
        session.scalar(
            select(Appointment.id)
            .where(
                Appointment.student_id == student.id,
                Appointment.counsellor_id == counsellor_id,
                Appointment.state == AppointmentState.ATTENDED,
            )
            .limit(1)
        )
        is not None
    )


def _may_book_for(session: Session, user: User, student: Student) -> bool:
    return (
        session.scalar(
            select(Student.id).where(
                Student.id == student.id, booking_permissions.book_for_clause(user)
            )
        )
        is not None
    )


def _lock_student(session: Session, student: Student) -> None:
    """Serialise one student's bookings (PostgreSQL row lock; SQLite writes one at a time), so
    two tabs cannot both pass the "one upcoming appointment" check."""
    session.execute(select(Student.id).where(Student.id == student.id).with_for_update())


def tell(session: Session, appointment: Appointment, student: Student) -> None:
    """The confirmation to the student and the counsellor, in one write; no name, no reason."""
    notes: list[notifications.Note] = [
        ([appointment.counsellor_id], BOOKED_WITH_YOU_TEXT, COUNSELLOR_PAGE)
    ]
    if student.user_id is not None:
        notes.append(
            (
                [student.user_id],
                N_(
                    "Your counselling appointment is booked. "
                    "The time and place are in your appointment details."
                ),
                STUDENT_PAGE,
            )
        )
    notifications.notify_many(session, notes)
