"""Appointment tables: bookable slots and the appointments booked into them.

A slot is one bookable time of one counsellor, made from the counsellor's weekly availability when
booking opens (or added by hand). An appointment is one student's claim on a slot; the database,
not Python, keeps two live appointments out of one slot (`uq_appointment_live_slot`), so a lost
race is an IntegrityError the booking code turns into "taken, here are the next free times".
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus import clock
from campus.encryption import EncryptedText
from campus.extensions import Model, db
from campus.models import Student, User


class CounsellorProfile(Model):
    """What the centre needs to know of one counsellor beyond their account: the gender students
    may ask for, whether they are a trainee whose notes a supervisor co-signs, and their working
    time (full-time equivalent), which the clinical-load figure divides by."""

    __tablename__ = "counsellor_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    gender: Mapped[str] = mapped_column(
        String(10), default=""
    )  # "M", "F" as Student.gender; "" unsaid
    is_trainee: Mapped[bool] = mapped_column(Boolean, default=False)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    fte: Mapped[float] = mapped_column(Float, default=1.0)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id])


class SessionKind(enum.StrEnum):
    """Which kind of session a slot offers and an appointment is for."""

    FIRST_VISIT = "first_visit"
    FOLLOW_UP = "follow_up"
    GROUP = "group"


class SlotState(enum.StrEnum):
    OPEN = "open"  # bookable (when no live appointment holds it)
    WITHDRAWN = "withdrawn"  # taken off by the counsellor or an exception; never bookable


class AppointmentState(enum.StrEnum):
    """Booked until the session's outcome is recorded or it is cancelled.

    The live states hold their slot; a cancelled appointment frees it for the waitlist."""

    BOOKED = "booked"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"  # by the student within the limit, or by the centre
    LATE_CANCELLED = "late_cancelled"  # by the student after the limit: recorded, slot freed


LIVE_STATES = (AppointmentState.BOOKED, AppointmentState.ATTENDED, AppointmentState.NO_SHOW)
# Enum columns store the member's name, as everywhere in Xinqiao.
_LIVE_SQL = "state IN ({})".format(", ".join(f"'{state.name}'" for state in LIVE_STATES))


class Slot(Model):
    """One bookable time of one counsellor, in UTC, in one room."""

    __tablename__ = "appointment_slot"
    __table_args__ = (
        # A counsellor is never offered twice at one start time.
        Index("uq_slot_counsellor_start", "counsellor_id", "starts_at", unique=True),
        Index("ix_slot_institution_start", "institution_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    room: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[SessionKind] = mapped_column(db.Enum(SessionKind, native_enum=False, length=20))
    # Group sessions take more than one student; a one-to-one slot has capacity 1.
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[SlotState] = mapped_column(
        db.Enum(SlotState, native_enum=False, length=20), default=SlotState.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    counsellor: Mapped[User] = relationship()


class Appointment(Model):
    """One student's booking of a slot, and — once held — its outcome."""

    __tablename__ = "appointment"
    __table_args__ = (
        # Two students can never hold the same one-to-one slot: one live appointment per slot
        # and seat. A one-to-one slot has seat 1 only; a group slot's seats are 1..capacity.
        Index(
            "uq_appointment_live_slot",
            "slot_id",
            "seat",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        Index("ix_appointment_student", "student_id", "state"),
        Index("ix_appointment_counsellor_start", "counsellor_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slot.id"))
    seat: Mapped[int] = mapped_column(Integer, default=1)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    # Copied from the slot so a counsellor's day and the figures need no join.
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[SessionKind] = mapped_column(db.Enum(SessionKind, native_enum=False, length=20))
    state: Mapped[AppointmentState] = mapped_column(
        db.Enum(AppointmentState, native_enum=False, length=20), default=AppointmentState.BOOKED
    )
    # Who booked: the student themself, or staff on their behalf.
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    booked_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The form's one-time token: a double submit books once.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    slot: Mapped[Slot] = relationship()
    student: Mapped[Student] = relationship()
    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


# ==================================================================================================
# Changes after booking: cancellations, reschedules, reminders, the no-show bar's lifts and the
# waitlist (appointments/changes.py, appointments/waitlist.py)
# ==================================================================================================


class AppointmentCancellation(Model):
    """Who cancelled an appointment, when, whether late (it counts with no-shows) and the
    centre's reason, which the student reads. One per appointment: a double submit cancels once."""

    __tablename__ = "appointment_cancellation"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    cancelled_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    by_centre: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # The centre's words to the student ("the counsellor is ill"); never clinical.
    reason: Mapped[str] = mapped_column(String(300), default="")
    cancelled_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    appointment: Mapped[Appointment] = relationship()


class AppointmentReschedule(Model):
    """One move of a booking to another time: the old appointment (cancelled) and the new one,
    and the first appointment of the chain, whose moves `BOOKING_RESCHEDULES_MAX` limits."""

    __tablename__ = "appointment_reschedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    old_appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    new_appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    chain_root_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    rescheduled_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    rescheduled_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class AppointmentReminder(Model):
    """A reminder sent, `hours_before` the start; the unique key makes a re-run send none."""

    __tablename__ = "appointment_reminder"
    __table_args__ = (
        Index("uq_appointment_reminder", "appointment_id", "hours_before", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"))
    hours_before: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class BookingBarLift(Model):
    """The director lifting a student's "booking by the centre only": misses before `lifted_at`
    no longer count. Kept as history; the bar itself is never stored, always counted."""

    __tablename__ = "booking_bar_lift"
    __table_args__ = (Index("ix_booking_bar_lift_student", "student_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    lifted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    lifted_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    reason: Mapped[str] = mapped_column(String(300), default="")


class WaitlistState(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a freed time is held for the student until `offer_expires_at`
    ACCEPTED = "accepted"
    EXPIRED = "expired"  # the offer lapsed unanswered; the time went to the next
    WITHDRAWN = "withdrawn"  # the student left the list


OPEN_WAITLIST_STATES = (WaitlistState.WAITING, WaitlistState.OFFERED)
_OPEN_WAITLIST_SQL = "state IN ({})".format(
    ", ".join(f"'{state.name}'" for state in OPEN_WAITLIST_STATES)
)
_OFFERED_SQL = f"state = '{WaitlistState.OFFERED.name}'"


class WaitlistEntry(Model):
    """A student waiting for a time that fits their wishes; while OFFERED, one slot seat is held
    for them and shown to nobody else. The database keeps one open entry per student and one
    offer per seat, so two concurrent cancellations or accepts cannot double a hold."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        Index(
            "uq_waitlist_open_student",
            "student_id",
            unique=True,
            sqlite_where=text(_OPEN_WAITLIST_SQL),
            postgresql_where=text(_OPEN_WAITLIST_SQL),
        ),
        Index(
            "uq_waitlist_offered_seat",
            "offered_slot_id",
            "offered_seat",
            unique=True,
            sqlite_where=text(_OFFERED_SQL),
            postgresql_where=text(_OFFERED_SQL),
        ),
        Index("ix_waitlist_queue", "institution_id", "state", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    # Wishes; None / "" is "any".
    kind: Mapped[SessionKind | None] = mapped_column(
        db.Enum(SessionKind, native_enum=False, length=20)
    )
    counsellor_gender: Mapped[str] = mapped_column(String(10), default="")
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    earliest_on: Mapped[date | None] = mapped_column(Date)  # the institution's local dates
    latest_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[WaitlistState] = mapped_column(
        db.Enum(WaitlistState, native_enum=False, length=20), default=WaitlistState.WAITING
    )
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # Place in the queue: the join, or the moment a declined offer put the student back.
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    offered_slot_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_slot.id"))
    offered_seat: Mapped[int | None] = mapped_column(Integer)
    offered_at: Mapped[datetime | None] = mapped_column(DateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The time last declined is not offered to the same student again.
    declined_slot_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_slot.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    student: Mapped[Student] = relationship()
    counsellor: Mapped[User | None] = relationship(foreign_keys=[counsellor_id])
    offered_slot: Mapped[Slot | None] = relationship(foreign_keys=[offered_slot_id])


# --------------------------------------------------------------------------------------------------
# Booking (appointments.booking): the pre-appointment check (预检) a student answers when booking
# --------------------------------------------------------------------------------------------------


class PreCheck(Model):
    """A student's pre-appointment check: the reason in a few words, PHQ-2, GAD-2 and the safety
    question (PHQ-9 item 9), scored with the screening instruments' own definitions.

    Kept even when the booking it came with fails (the slot was just taken): a safety answer is
    stored with its red signal in the same commit, whatever becomes of the booking; its
    `appointment_id` is then empty. The counsellor of the appointment reads it before the session.
    """

    __tablename__ = "appointment_precheck"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    # The student's own words: clinical free text, encrypted at rest.
    reason: Mapped[str] = mapped_column(EncryptedText)
    phq2_answers: Mapped[dict[str, int]] = mapped_column(JSON)
    phq2_total: Mapped[int] = mapped_column(Integer)
    phq2_band: Mapped[str] = mapped_column(String(40))
    gad2_answers: Mapped[dict[str, int]] = mapped_column(JSON)
    gad2_total: Mapped[int] = mapped_column(Integer)
    gad2_band: Mapped[str] = mapped_column(String(40))
    # PHQ-9 item 9, 0-3; any answer above "not at all" is a safety answer.
    safety_answer: Mapped[int] = mapped_column(Integer)
    flags: Mapped[str] = mapped_column(String(200), default="")  # ";"-joined, like Signal.flags
    safety_signal_id: Mapped[int | None] = mapped_column(Integer)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The booking form's token: a double submit keeps one check.
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    student: Mapped[Student] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    @property
    def flag_set(self) -> frozenset[str]:
        return frozenset(f for f in self.flags.split(";") if f)
