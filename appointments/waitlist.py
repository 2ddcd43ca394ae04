"""The waitlist: a student joins when no free time fits their wishes; a freed seat (a
cancellation, a move, an offer declined or lapsed, a new slot) is offered to the first waiting
student it fits before anybody else can see it free.

An offer holds one slot seat for `WAITLIST_OFFER_HOURS` (never past the slot's start). The
student accepts (the seat is booked for them) or declines (they go back in the queue, and the
seat goes to the next); an offer left unanswered lapses and the seat moves on. Race safety is the
database's: an entry is claimed WAITING → OFFERED → ACCEPTED by conditional updates (a second
cancellation or accept finds nothing to claim), and `uq_waitlist_offered_seat` keeps one offer per
seat, `uq_waitlist_open_student` one open entry per student.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments import booking
from appointments import changes
from appointments import seats
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from campus import audit
from campus import clock
from campus import notifications
from campus.extensions import rows_changed
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Student
from campus.models import User

# The student's "my appointments" (booking.mine), which shows offers, the bar and the waitlist.
STUDENT_PAGE = "/appointments/mine"
# How many waiting entries one freed seat is matched against (the queue's head).
QUEUE_SCAN = 200
# How far ahead a waiting student may wish: slots open two weeks ahead, a term is some months.
WISH_HORIZON_DAYS = 60


@dataclass(frozen=True)
class Wishes:
    """What a waiting student asks for; None / "" means any."""

    kind: SessionKind | None = None
    counsellor_gender: str = ""
    counsellor_id: int | None = None
    earliest_on: date | None = None
    latest_on: date | None = None


def _zone(session: Session, institution_id: int) -> ZoneInfo:
    return clock.institution_zone(session.get(Institution, institution_id))


def _slot_clause(session: Session, institution_id: int, wishes: Wishes) -> ColumnElement[bool]:
    """The wishes as a clause on `Slot` (local dates to UTC bounds in the institution's zone)."""
    clauses: list[ColumnElement[bool]] = [true()]
    if wishes.kind is not None:
        clauses.append(Slot.kind == wishes.kind)
    if wishes.counsellor_id is not None:
        clauses.append(Slot.counsellor_id == wishes.counsellor_id)
    if wishes.counsellor_gender:
        clauses.append(
            Slot.counsellor_id.in_(
                select(CounsellorProfile.user_id).where(
                    CounsellorProfile.gender == wishes.counsellor_gender
                )
            )
        )
    zone = _zone(session, institution_id)
    if wishes.earliest_on is not None:
        start = datetime.combine(wishes.earliest_on, datetime.min.time())
        clauses.append(Slot.starts_at >= clock.to_utc(start, zone))
    if wishes.latest_on is not None:
        end = datetime.combine(wishes.latest_on + timedelta(days=1), datetime.min.time())
        clauses.append(Slot.starts_at < clock.to_utc(end, zone))
    return and_(*clauses)


def wishes_of(entry: WaitlistEntry) -> Wishes:
    return Wishes(
        entry.kind,
        entry.counsellor_gender,
        entry.counsellor_id,
        entry.earliest_on,
        entry.latest_on,
    )


def open_entry(session: Session, student: Student) -> WaitlistEntry | None:
    """The student's waiting or offered entry, if any."""
    return session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.student_id == student.id,
            WaitlistEntry.state.in_((WaitlistState.WAITING, WaitlistState.OFFERED)),
        )
    )


# --------------------------------------------------------------------------------------------------
# Join and leave
# --------------------------------------------------------------------------------------------------


def check_join(session: Session, student: Student, wishes: Wishes, now: datetime) -> None:
    """Validate joining; raises `changes.ChangeError` and writes nothing."""
    if not changes.may_self_book(session, student, now):
        raise changes.ChangeError(N_("Booking is by the centre only for you at the moment."))
    if open_entry(session, student) is not None:
        raise changes.ChangeError(N_("You are already on the waitlist."))
    upcoming = session.scalar(
        select(Appointment.id).where(
            Appointment.student_id == student.id,
            Appointment.state == AppointmentState.BOOKED,
            Appointment.starts_at > now,
        )
    )
    if upcoming is not None:
        raise changes.ChangeError(
            N_("You already have an appointment booked; move it instead of waiting for another.")
        )
    today = clock.local_date(now, _zone(session, student.institution_id))
    if wishes.latest_on is not None and wishes.latest_on < today:
        raise changes.ChangeError(N_("The last day you can come is already past."))
    if (
        wishes.earliest_on is not None
        and wishes.latest_on is not None
        and wishes.earliest_on > wishes.latest_on
    ):
        raise changes.ChangeError(N_("The first day must not come after the last day."))
    horizon = today + timedelta(days=WISH_HORIZON_DAYS)
    if any(day is not None and day > horizon for day in (wishes.earliest_on, wishes.latest_on)):
        # A mistyped year (2030) kept the student waiting for a time that would never come.
        raise changes.ChangeError(
            Message(N_("Choose days within the next %(days)s days."), days=WISH_HORIZON_DAYS)
        )
    if wishes.counsellor_id is not None and (
        session.scalar(
            select(CounsellorProfile.id).where(
                CounsellorProfile.user_id == wishes.counsellor_id,
                CounsellorProfile.institution_id == student.institution_id,
            )
        )
        is None
    ):
        raise changes.ChangeError(N_("Choose a counsellor from the list."))
    if seats.free_seats(
        session,
        student.institution_id,
        now,
        for_student_id=student.id,
        where=_slot_clause(session, student.institution_id, wishes),
        limit=1,
    ):
        raise changes.ChangeError(
            N_("A time that fits your wishes is free now: book it instead of waiting.")
        )


def join(
    session: Session, actor: User, student: Student, wishes: Wishes, now: datetime
) -> WaitlistEntry:
    """Put the student on the waitlist (one open entry each, even under a double submit)."""
    check_join(session, student, wishes, now)
    entry = WaitlistEntry(
        institution_id=student.institution_id,
        student_id=student.id,
        kind=wishes.kind,
        counsellor_gender=wishes.counsellor_gender,
        counsellor_id=wishes.counsellor_id,
        earliest_on=wishes.earliest_on,
        latest_on=wishes.latest_on,
        state=WaitlistState.WAITING,
        joined_at=now,
        queued_at=now,
    )
    try:
        session.add(entry)
        session.flush()
        audit.record_on(session, entry, actor=actor, action="waitlist.join", record_type="waitlist")
        session.commit()
    except IntegrityError:
        session.rollback()
        raise changes.ChangeError(N_("You are already on the waitlist.")) from None
    return entry


def leave(session: Session, actor: User, entry: WaitlistEntry, now: datetime) -> None:
    """Take the student off the list; a seat held for them goes to the next at once."""
    if entry.student.user_id != actor.id:
        raise changes.ChangeError(N_("This is not your waitlist entry."))
    held = (entry.offered_slot, entry.offered_seat)
    claimed = rows_changed(
        session,
        update(WaitlistEntry)
        .where(
            WaitlistEntry.id == entry.id,
            WaitlistEntry.state.in_((WaitlistState.WAITING, WaitlistState.OFFERED)),
        )
        .values(state=WaitlistState.WITHDRAWN, closed_at=now)
        .execution_options(synchronize_session="fetch"),
    )
    if not claimed:
        session.rollback()
        raise changes.ChangeError(N_("You are no longer on the waitlist; nothing was changed."))
    audit.record_on(session, entry, actor=actor, action="waitlist.leave", record_type="waitlist")
    slot, seat = held
    if slot is not None and seat is not None:
        offer_seat(session, slot, seat, now)
    session.commit()


# --------------------------------------------------------------------------------------------------
# Offers
# --------------------------------------------------------------------------------------------------


def _offer_ends(slot: Slot, now: datetime) -> datetime:
    hours = int(current_app.config["WAITLIST_OFFER_HOURS"])
    return min(now + timedelta(hours=hours), slot.starts_at)


def _claim_for_offer(
    session: Session, entry: WaitlistEntry, slot: Slot, seat: int, now: datetime
) -> bool:
    """WAITING → OFFERED with the seat held, or False when the entry or seat went elsewhere."""
    try:
        with session.begin_nested():
            claimed = rows_changed(
                session,
                update(WaitlistEntry)
                .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.WAITING)
                .values(
                    state=WaitlistState.OFFERED,
                    offered_slot_id=slot.id,
                    offered_seat=seat,
                    offered_at=now,
                    offer_expires_at=_offer_ends(slot, now),
                )
                .execution_options(synchronize_session="fetch"),
            )
    except IntegrityError:  # the seat is already offered to somebody
        return False
    if claimed:
        session.refresh(entry)
        if entry.student.user_id is not None:
            notifications.notify(
                session,
                [entry.student.user_id],
                N_(
                    "A counselling time you waited for is free and held for you for a short "
                    "while. Accept or decline it."
                ),
                STUDENT_PAGE,
                urgent=True,
            )
        audit.record_on(session, entry, actor=None, action="waitlist.offer", record_type="waitlist")
    return bool(claimed)


def offer_seat(session: Session, slot: Slot, seat: int, now: datetime) -> WaitlistEntry | None:
    """Offer a freed seat to the first waiting student it fits, in the caller's transaction
    (not committed). None when nobody waits for it: then it is simply free."""
    if slot.state != SlotState.OPEN or slot.starts_at <= now:
        return None
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.institution_id == slot.institution_id,
            WaitlistEntry.state == WaitlistState.WAITING,
        )
        .order_by(WaitlistEntry.queued_at, WaitlistEntry.id)
        .limit(QUEUE_SCAN)
    ).all()
    for entry in waiting:
        if entry.declined_slot_id == slot.id:
            continue
        fits = session.scalar(
            select(Slot.id).where(
                Slot.id == slot.id, _slot_clause(session, slot.institution_id, wishes_of(entry))
            )
        )
        if fits is None or not changes.may_self_book(session, entry.student, now):
            continue
        if _claim_for_offer(session, entry, slot, seat, now):
            return entry
    return None


def offer_free_seats(session: Session, now: datetime) -> int:
    """Offer free seats (new slots, seats nobody took) to waiting students in queue order, each
    the first free time that fits them. Not committed; returns the offers made."""
    offered = 0
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.state == WaitlistState.WAITING)
        .order_by(WaitlistEntry.queued_at, WaitlistEntry.id)
        .limit(QUEUE_SCAN)
    ).all()
    for entry in waiting:
        if not changes.may_self_book(session, entry.student, now):
            continue
        clause = _slot_clause(session, entry.institution_id, wishes_of(entry))
        if entry.declined_slot_id is not None:
            clause = and_(clause, Slot.id != entry.declined_slot_id)
        for free in seats.free_seats(session, entry.institution_id, now, where=clause, limit=3):
            if _claim_for_offer(session, entry, free.slot, free.seat, now):
                offered += 1
                break
    return offered


def _check_offer(session: Session, actor: User, entry: WaitlistEntry, now: datetime) -> None:
    if entry.student.user_id != actor.id:
        raise changes.ChangeError(N_("This is not your waitlist entry."))
    if entry.state != WaitlistState.OFFERED or entry.offered_slot_id is None:
        raise changes.ChangeError(N_("There is no offer waiting for you; nothing was changed."))
    assert entry.offer_expires_at is not None  # set with every offer
    if entry.offer_expires_at <= now:
        raise changes.ChangeError(
            N_("This offer has lapsed and the time went to the next student.")
        )


def accept(session: Session, actor: User, entry: WaitlistEntry, now: datetime) -> Appointment:
    """Book the held seat for the student in one commit. A double submit or a lapse in between
    finds nothing to claim; a seat lost to a concurrent booking puts the student back in the
    queue with a message."""
    _check_offer(session, actor, entry, now)
    student = entry.student
    if not changes.may_self_book(session, student, now):
        raise changes.ChangeError(N_("Booking is by the centre only for you at the moment."))
    slot, seat = entry.offered_slot, entry.offered_seat
    # An offer names its seat.
    assert slot is not None
    assert seat is not None
    try:
        claimed = rows_changed(
            session,
            update(WaitlistEntry)
            .where(
                WaitlistEntry.id == entry.id,
                WaitlistEntry.state == WaitlistState.OFFERED,
                WaitlistEntry.offer_expires_at > now,
            )
            .values(state=WaitlistState.ACCEPTED, closed_at=now)
            .execution_options(synchronize_session="fetch"),
        )
        if not claimed:
            raise changes.ChangeError(N_("There is no offer waiting for you; nothing was changed."))
        appointment = changes.book_in(session, student=student, slot=slot, booked_by=actor, now=now)
        booking.tell(session, appointment, student)
        entry.appointment_id = appointment.id
        if appointment.seat != seat:  # a group slot's other seat: the held one is free again
            session.flush()
            offer_seat(session, slot, seat, now)
        audit.record_on(
            session, entry, actor=actor, action="waitlist.accept", record_type="waitlist"
        )
        session.commit()
    except changes.BookingRefused as refused:
        session.rollback()
        _requeue(session, entry, now)
        if refused.code == "taken":
            raise changes.ChangeError(
                N_("Sorry, that time was taken after all. You are still on the waitlist.")
            ) from None
        raise changes.ChangeError(
            Message(N_("%(why)s You are still on the waitlist."), why=refused.args[0])
        ) from None
    except Exception:
        session.rollback()
        raise
    return appointment


def _requeue(session: Session, entry: WaitlistEntry, now: datetime) -> None:
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.OFFERED)
        .values(
            state=WaitlistState.WAITING,
            offered_slot_id=None,
            offered_seat=None,
            offer_expires_at=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    session.commit()


def decline(session: Session, actor: User, entry: WaitlistEntry, now: datetime) -> None:
    """Decline the offer: the student waits on (behind those already waiting, and never offered
    this time again) and the seat goes to the next in one commit."""
    _check_offer(session, actor, entry, now)
    slot, seat = entry.offered_slot, entry.offered_seat
    # An offer names its seat.
    assert slot is not None
    assert seat is not None
    try:
        claimed = rows_changed(
            session,
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.OFFERED)
            .values(
                state=WaitlistState.WAITING,
                queued_at=now,
                declined_slot_id=slot.id,
                offered_slot_id=None,
                offered_seat=None,
                offer_expires_at=None,
            )
            .execution_options(synchronize_session="fetch"),
        )
        if not claimed:
            raise changes.ChangeError(N_("There is no offer waiting for you; nothing was changed."))
        audit.record_on(
            session, entry, actor=actor, action="waitlist.decline", record_type="waitlist"
        )
        offer_seat(session, slot, seat, now)
        session.commit()
    except Exception:
        session.rollback()
        raise


def expiry_sweep(session: Session, now: datetime) -> int:
    """Lapse unanswered offers (each seat then goes to the next waiting student) and offer free
    seats to whoever waits (new slots opened). Idempotent; commits. Returns offers lapsed."""
    lapsed = session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.state == WaitlistState.OFFERED, WaitlistEntry.offer_expires_at <= now
        )
    ).all()
    count = 0
    for entry in lapsed:
        slot, seat = entry.offered_slot, entry.offered_seat
        if not rows_changed(
            session,
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.OFFERED)
            .values(state=WaitlistState.EXPIRED, closed_at=now)
            .execution_options(synchronize_session="fetch"),
        ):
            continue
        count += 1
        audit.record_on(
            session, entry, actor=None, action="waitlist.expire", record_type="waitlist"
        )
        if entry.student.user_id is not None:
            notifications.notify(
                session,
                [entry.student.user_id],
                N_(
                    "The time held for you from the waitlist was not taken in time and went to "
                    "the next student. Join the waitlist again if you still need a time."
                ),
                STUDENT_PAGE,
            )
        if slot is not None and seat is not None:
            session.flush()
            offer_seat(session, slot, seat, now)
    offer_free_seats(session, now)
    session.commit()
    return count


def entry_for(session: Session, user: User, entry_id: int) -> WaitlistEntry | None:
    """The user's own entry `entry_id`, or None (forged, another student's)."""
    return session.scalar(
        select(WaitlistEntry)
        .join(Student, Student.id == WaitlistEntry.student_id)
        .where(WaitlistEntry.id == entry_id, Student.user_id == user.id)
    )
