"""What happens to a booked appointment afterwards: cancelling, moving it, and the no-show policy.

A student cancels or moves freely until `BOOKING_CANCEL_HOURS` before the start. Later, moving is
refused but cancelling is still allowed — better than a no-show — and recorded LATE_CANCELLED,
counting with no-shows. `NO_SHOW_LIMIT` misses within `NO_SHOW_WINDOW_DAYS` leave booking to the
centre ("booking by the centre only") until the director lifts it. Each change is
`check_*` (validates, writes nothing) then `do_*` (writes, does not commit), and a public
function that commits once or rolls all of it back; a seat a change frees is offered to the
waitlist in the same transaction, before anybody else can see it free.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TypeVar

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from appointments import booking
from appointments import change_permissions as permissions
from appointments import seats
from appointments import waitlist
from appointments.models import Appointment
from appointments.models import AppointmentCancellation
from appointments.models import AppointmentReschedule
from appointments.models import AppointmentState
from appointments.models import BookingBarLift
from appointments.models import PreCheck
from appointments.models import Slot
from appointments.models import SlotState
from campus import audit
from campus import clock
from campus import notifications
from campus.extensions import rows_changed
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Student
from campus.models import User

MISSED_STATES = (AppointmentState.NO_SHOW, AppointmentState.LATE_CANCELLED)
STUDENT_PAGE = "/appointments/mine"
# What a counsellor reads when their day changes (no name, no reason: the page says more).
MOVED_TEXT = N_("A counselling appointment with you was moved to another time.")
MOVED_AWAY_TEXT = N_("A counselling appointment with you was moved away: that time is free again.")
CANCELLED_TEXT = N_("A counselling appointment with you was cancelled: that time is free again.")
REASON_MAX = 300
T = TypeVar("T")


class ChangeError(Exception):
    """A change that cannot be made, with words the person can act on; nothing was written.

    `args[0]` is always a `Message`: a plain `N_` text is wrapped, so a page shows it in the
    reader's language (before, `shown` passed the plain texts through in English)."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(message if isinstance(message, Message) else Message(message), *args)


class BookingRefused(ChangeError):
    """The booking behind a move or an accepted offer was refused (`code` as booking's)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class LateCancellationUnconfirmed(ChangeError):
    """A late cancellation the student has not yet confirmed knowing that it counts."""


# --------------------------------------------------------------------------------------------------
# The policy (read from config, so a centre changes it without a code change)
# --------------------------------------------------------------------------------------------------


def _setting(name: str) -> int:
    return int(current_app.config[name])


def is_late(appointment: Appointment, now: datetime) -> bool:
    """Whether a cancellation now comes after the free-cancellation limit."""
    return appointment.starts_at - now < timedelta(hours=_setting("BOOKING_CANCEL_HOURS"))


@dataclass(frozen=True)
class Bar:
    """Why a student may not book for themself: `misses` no-shows and late cancellations since
    `counted_from` reached `limit`."""

    misses: int
    limit: int
    counted_from: datetime


def _missed_at() -> ColumnElement[datetime]:
    # A late cancellation happened when it was made; a no-show at the appointment's time.
    return func.coalesce(Appointment.cancelled_at, Appointment.starts_at)


def _last_lift(session: Session, student_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(BookingBarLift.lifted_at)).where(BookingBarLift.student_id == student_id)
    )


def booking_bar(session: Session, student: Student, now: datetime) -> Bar | None:
    """The student's bar from booking for themself, or None when they may."""
    limit = _setting("NO_SHOW_LIMIT")
    if limit <= 0:
        return None
    since = now - timedelta(days=_setting("NO_SHOW_WINDOW_DAYS"))
    lifted = _last_lift(session, student.id)
    if lifted is not None and lifted > since:
        since = lifted
    misses = session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.student_id == student.id,
            Appointment.state.in_(MISSED_STATES),
            _missed_at() > since,
            _missed_at() <= now,
        )
    )
    return Bar(misses or 0, limit, since) if (misses or 0) >= limit else None


def may_self_book(session: Session, student: Student, now: datetime | None = None) -> bool:
    """The no-show policy: whether the student may book (or move, or wait for) a time themself.
    The centre's staff book for a barred student; the booking code asks this only of a student
    booking for themself."""
    return booking_bar(session, student, now or clock.now()) is None


# --------------------------------------------------------------------------------------------------
# Cancel
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cancellation:
    """What a cancellation will be: late (counts toward the policy) and/or by the centre."""

    late: bool
    by_centre: bool
    reason: str
    withdraw_slot: bool


def check_cancel(
    session: Session,
    actor: User,
    appointment: Appointment,
    now: datetime,
    *,
    reason: str = "",
    late_confirmed: bool = False,
    withdraw_slot: bool = False,
) -> Cancellation:
    """Validate a cancellation by the student or by the centre; raises `ChangeError`."""
    own = permissions.is_own(actor, appointment)
    by_centre = not own and permissions.acts_for_centre(actor, appointment.institution_id)
    if not own and not by_centre:
        raise ChangeError(N_("You may not cancel this appointment."))
    if appointment.state != AppointmentState.BOOKED:
        raise ChangeError(N_("This appointment is no longer booked; nothing was changed."))
    if appointment.starts_at <= now:
        raise ChangeError(
            N_("This appointment has already begun; the counsellor records how it went.")
        )
    reason = reason.strip()
    if by_centre:
        if not reason or len(reason) > REASON_MAX:
            raise ChangeError(
                N_("Say why the centre cancels (at most 300 characters); the student reads it.")
            )
        return Cancellation(False, True, reason, withdraw_slot)
    late = is_late(appointment, now)
    if late and not late_confirmed:
        raise LateCancellationUnconfirmed(
            Message(
                N_(
                    "Less than %(hours)s hours are left: this cancellation is recorded as late "
                    "and counts like a missed appointment. Tick the box to confirm."
                ),
                hours=_setting("BOOKING_CANCEL_HOURS"),
            )
        )
    return Cancellation(late, False, "", False)


def do_cancel(
    session: Session, actor: User, appointment: Appointment, now: datetime, what: Cancellation
) -> None:
    """Cancel (claimed with a conditional update, so a double submit cancels once), record who
    and why, tell the student of a centre's cancellation and offer the freed seat to the
    waitlist. Does not commit."""
    state = AppointmentState.LATE_CANCELLED if what.late else AppointmentState.CANCELLED
    claimed = rows_changed(
        session,
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.state == AppointmentState.BOOKED)
        .values(state=state, cancelled_at=now)
        .execution_options(synchronize_session="fetch"),
    )
    if not claimed:
        raise ChangeError(N_("This appointment is no longer booked; nothing was changed."))
    session.add(
        AppointmentCancellation(
            institution_id=appointment.institution_id,
            appointment_id=appointment.id,
            cancelled_by_id=actor.id,
            by_centre=what.by_centre,
            late=what.late,
            reason=what.reason,
            cancelled_at=now,
        )
    )
    audit.record_on(
        session,
        appointment,
        actor=actor,
        action="appointment.cancel",
        record_type="appointment",
        detail=f"late={what.late} by_centre={what.by_centre}",
    )
    if what.by_centre and appointment.student.user_id is not None:
        notifications.notify(
            session,
            [appointment.student.user_id],
            N_("The counselling centre had to cancel your appointment. See why and choose again."),
            f"/appointments/changes/{appointment.id}",
        )
    if appointment.counsellor_id != actor.id:
        notifications.notify(
            session, [appointment.counsellor_id], CANCELLED_TEXT, booking.COUNSELLOR_PAGE
        )
    slot = appointment.slot
    if what.withdraw_slot:
        slot.state = SlotState.WITHDRAWN
    else:
        waitlist.offer_seat(session, slot, appointment.seat, now)


def cancel(
    session: Session,
    actor: User,
    appointment: Appointment,
    now: datetime,
    *,
    reason: str = "",
    late_confirmed: bool = False,
    withdraw_slot: bool = False,
) -> Cancellation:
    """Cancel the appointment in one commit; raises `ChangeError` with nothing written."""
    what = check_cancel(
        session,
        actor,
        appointment,
        now,
        reason=reason,
        late_confirmed=late_confirmed,
        withdraw_slot=withdraw_slot,
    )
    _commit(session, lambda: do_cancel(session, actor, appointment, now, what))
    return what


# --------------------------------------------------------------------------------------------------
# Reschedule
# --------------------------------------------------------------------------------------------------


def chain_root_id(session: Session, appointment: Appointment) -> int:
    """The first appointment of the chain of moves that led to `appointment`."""
    root = session.scalar(
        select(AppointmentReschedule.chain_root_id).where(
            AppointmentReschedule.new_appointment_id == appointment.id
        )
    )
    return root if root is not None else appointment.id


def reschedules_left(session: Session, appointment: Appointment) -> int:
    used = session.scalar(
        select(func.count(AppointmentReschedule.id)).where(
            AppointmentReschedule.chain_root_id == chain_root_id(session, appointment)
        )
    )
    return max(0, _setting("BOOKING_RESCHEDULES_MAX") - (used or 0))


def moves(session: Session, appointment_ids: Collection[int]) -> dict[int, Appointment]:
    """For each of `appointment_ids` that was moved, the appointment it was moved to."""
    if not appointment_ids:
        return {}
    rows = session.execute(
        select(AppointmentReschedule.old_appointment_id, Appointment)
        .join(Appointment, Appointment.id == AppointmentReschedule.new_appointment_id)
        .where(AppointmentReschedule.old_appointment_id.in_(list(appointment_ids)))
    ).tuples()
    return dict(rows.all())


def moved_to(session: Session, appointment: Appointment) -> Appointment | None:
    """Where a moved appointment lives now: the last of its chain of moves (moved again and
    again, the latest); None when it was never moved."""
    found: Appointment | None = None
    seen = {appointment.id}
    while True:
        later = moves(session, [found.id if found else appointment.id])
        nxt = next(iter(later.values()), None)
        if nxt is None or nxt.id in seen:
            return found
        seen.add(nxt.id)
        found = nxt


def check_reschedule(
    session: Session, actor: User, appointment: Appointment, slot: Slot | None, now: datetime
) -> None:
    """Validate moving `appointment` to `slot` (the booking's own checks follow when it is
    booked, in the same transaction). The student moves
    their own within the limits (in time, number of moves, the no-show policy); the centre
    moves any of its appointments. A move keeps the kind of time booked (the slot's, as the
    counsellor published it): a first visit moved into a group session's seat was no longer the
    visit the student asked for."""
    own = permissions.is_own(actor, appointment)
    if not own and not permissions.acts_for_centre(actor, appointment.institution_id):
        raise ChangeError(N_("You may not change this appointment."))
    if appointment.state != AppointmentState.BOOKED or appointment.starts_at <= now:
        raise ChangeError(N_("This appointment is no longer booked; nothing was changed."))
    if own:
        if is_late(appointment, now):
            raise ChangeError(
                Message(
                    N_(
                        "An appointment can be moved until %(hours)s hours before it. You can "
                        "still cancel it (recorded as late) or call the centre."
                    ),
                    hours=_setting("BOOKING_CANCEL_HOURS"),
                )
            )
        if reschedules_left(session, appointment) <= 0:
            raise ChangeError(
                Message(
                    N_(
                        "This appointment has been moved %(times)s times already, the most "
                        "allowed. Cancel it and book again, or call the centre."
                    ),
                    times=_setting("BOOKING_RESCHEDULES_MAX"),
                )
            )
        if not may_self_book(session, appointment.student, now):
            raise ChangeError(N_("Booking is by the centre only for you at the moment."))
    if (
        slot is None
        or slot.institution_id != appointment.institution_id
        or slot.id == appointment.slot_id
        or slot.kind != appointment.slot.kind
    ):
        raise ChangeError(N_("Choose one of the free times listed."))
    if seats.free_seat_in(session, slot, now, for_student_id=appointment.student_id) is None:
        raise seats_taken()


def book_in(
    session: Session, *, student: Student, slot: Slot, booked_by: User, now: datetime
) -> Appointment:
    """Book through `appointments.booking` (its checks, its seat insert) in the caller's
    transaction, without committing or telling anyone (the caller says what happened); a refusal
    is a `ChangeError` with its words."""
    try:
        booking.check_book(
            session, student=student, slot=slot, booked_by=booked_by, kind=slot.kind, now=now
        )
        appointment = booking.do_book(
            session,
            student=student,
            slot=slot,
            booked_by=booked_by,
            kind=slot.kind,
            submission_token=None,
            now=now,
        )
    except booking.BookingError as refused:
        if refused.code == "taken":  # its "here are the next free times" belongs to its page
            raise BookingRefused(seats_taken().args[0], code=refused.code) from None
        raise BookingRefused(
            Message(refused.message, **refused.params), code=refused.code
        ) from None
    return appointment


def seats_taken() -> ChangeError:
    return ChangeError(N_("That time was just taken by someone else. Please choose another."))


def do_reschedule(
    session: Session, actor: User, appointment: Appointment, slot: Slot, now: datetime
) -> Appointment:
    """Book the new time and cancel the old in the caller's transaction (the caller commits or
    rolls back both); the old seat goes to the waitlist."""
    root = chain_root_id(session, appointment)
    claimed = rows_changed(
        session,
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.state == AppointmentState.BOOKED)
        .values(state=AppointmentState.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session="fetch"),
    )
    if not claimed:
        raise ChangeError(N_("This appointment is no longer booked; nothing was changed."))
    # The old time is released first (the booking's "one upcoming appointment" counts it), in
    # this same transaction: a refused new booking rolls the release back with it.
    new = book_in(session, student=appointment.student, slot=slot, booked_by=actor, now=now)
    by_centre = not permissions.is_own(actor, appointment)
    session.add_all(
        [
            AppointmentCancellation(
                institution_id=appointment.institution_id,
                appointment_id=appointment.id,
                cancelled_by_id=actor.id,
                by_centre=by_centre,
                late=False,
                reason="",
                cancelled_at=now,
            ),
            AppointmentReschedule(
                institution_id=appointment.institution_id,
                old_appointment_id=appointment.id,
                new_appointment_id=new.id,
                chain_root_id=root,
                rescheduled_by_id=actor.id,
                rescheduled_at=now,
            ),
        ]
    )
    audit.record_on(
        session,
        appointment,
        actor=actor,
        action="appointment.reschedule",
        record_type="appointment",
        detail=f"to={new.id}",
    )
    # The reason and answers she gave when booking are for whoever holds the session.
    session.execute(
        update(PreCheck)
        .where(PreCheck.appointment_id == appointment.id)
        .values(appointment_id=new.id)
        .execution_options(synchronize_session="fetch")
    )
    _tell_moved(session, actor, appointment, new)
    waitlist.offer_seat(session, appointment.slot, appointment.seat, now)
    return new


def _tell_moved(session: Session, actor: User, old: Appointment, new: Appointment) -> None:
    """Who learns of a move, in words that fit it: the student when the centre moved it, and
    each counsellor whose day it changes, unless they made the move themselves."""
    notes: list[tuple[list[int], str, str]] = []
    if old.student.user_id is not None:
        notes.append(
            (
                [old.student.user_id],
                N_("The counselling centre moved your appointment. See the new time."),
                STUDENT_PAGE,
            )
        )
    if new.counsellor_id == old.counsellor_id:
        notes.append(([new.counsellor_id], MOVED_TEXT, booking.COUNSELLOR_PAGE))
    else:
        notes.append(([old.counsellor_id], MOVED_AWAY_TEXT, booking.COUNSELLOR_PAGE))
        notes.append(([new.counsellor_id], booking.BOOKED_WITH_YOU_TEXT, booking.COUNSELLOR_PAGE))
    notifications.notify_many(session, [note for note in notes if actor.id not in note[0]])


def reschedule(
    session: Session, actor: User, appointment: Appointment, slot: Slot | None, now: datetime
) -> Appointment:
    """Move the appointment to `slot` atomically: the new booking and the old cancellation
    commit together, and a failed new booking leaves the old one as it was."""
    check_reschedule(session, actor, appointment, slot, now)
    assert slot is not None  # check_reschedule refuses a missing slot
    return _commit(session, lambda: do_reschedule(session, actor, appointment, slot, now))


# --------------------------------------------------------------------------------------------------
# The director lifts a bar
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarredStudent:
    student: Student
    misses: int


def barred_students(session: Session, institution_id: int, now: datetime) -> list[BarredStudent]:
    """The institution's students whose misses (since the window's start or their last lift)
    reach the limit, most misses first."""
    limit = _setting("NO_SHOW_LIMIT")
    if limit <= 0:
        return []
    window = now - timedelta(days=_setting("NO_SHOW_WINDOW_DAYS"))
    lifts = (
        select(BookingBarLift.student_id, func.max(BookingBarLift.lifted_at).label("lifted"))
        .group_by(BookingBarLift.student_id)
        .subquery()
    )
    misses = func.count(Appointment.id)
    rows = session.execute(
        select(Student, misses)
        .join(Appointment, Appointment.student_id == Student.id)
        .outerjoin(lifts, lifts.c.student_id == Student.id)
        .where(
            Student.institution_id == institution_id,
            Appointment.state.in_(MISSED_STATES),
            _missed_at() > window,
            _missed_at() <= now,
            or_(lifts.c.lifted.is_(None), _missed_at() > lifts.c.lifted),
        )
        .group_by(Student.id)
        .having(misses >= limit)
        .order_by(misses.desc(), Student.name)
    ).tuples()
    return [BarredStudent(student, count) for student, count in rows]


def check_lift(session: Session, actor: User, student: Student, reason: str, now: datetime) -> str:
    if not permissions.can_lift_bar(actor, student.institution_id):
        raise ChangeError(N_("Only the centre director may lift this."))
    if booking_bar(session, student, now) is None:
        raise ChangeError(N_("This student may already book for themself; nothing was changed."))
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise ChangeError(N_("Say why the bar is lifted (at most 300 characters)."))
    return reason


def lift_bar(session: Session, actor: User, student: Student, reason: str, now: datetime) -> None:
    """Let the student book for themself again: misses before now stop counting. Audited."""
    reason = check_lift(session, actor, student, reason, now)

    def work() -> None:
        lift = BookingBarLift(
            institution_id=student.institution_id,
            student_id=student.id,
            lifted_by_id=actor.id,
            lifted_at=now,
            reason=reason,
        )
        session.add(lift)
        session.flush()
        audit.record_on(
            session, student, actor=actor, action="booking_bar.lift", record_type="student"
        )

    _commit(session, work)


def _commit(session: Session, work: Callable[[], T]) -> T:
    try:
        result = work()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result
