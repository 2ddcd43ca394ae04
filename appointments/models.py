"""Appointment tables: bookable slots and the appointments booked into them.

A slot is one bookable time of one counsellor, made from the counsellor's weekly availability when
booking opens (or added by hand). An appointment is one student's claim on a slot; the database,
not Python, keeps two live appointments out of one slot (`uq_appointment_live_slot`), so a lost
race is an IntegrityError the booking code turns into "taken, here are the next free times".
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus import clock
from campus.extensions import Model, db
from campus.models import BilingualName, Student, User


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
# Counsellors' time: weekly availability, its exceptions, the academic calendar and the duty roster
# (值班表). Slots are made from these by `appointments.availability.open_week`.
# ==================================================================================================


class AvailabilityTemplate(Model):
    """One weekly window a counsellor offers, e.g. Tuesdays 14:00–17:00 in room 302, 50-minute
    first visits with a 10-minute break between them, from one day until another.

    Times are wall-clock times of the institution's zone: a Tuesday afternoon stays a Tuesday
    afternoon whatever UTC says. One template offers one kind of session because a slot has one;
    a counsellor who takes several kinds keeps a template per kind."""

    __tablename__ = "availability_template"
    __table_args__ = (Index("ix_availability_template_counsellor", "counsellor_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday … 6 Sunday, as date.weekday()
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    session_minutes: Mapped[int] = mapped_column(Integer, default=50)
    break_minutes: Mapped[int] = mapped_column(Integer, default=10)
    room: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[SessionKind] = mapped_column(db.Enum(SessionKind, native_enum=False, length=20))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # None: until removed
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


class ExceptionReason(enum.StrEnum):
    """Why a counsellor is away: the page shows it, the students never see it."""

    LEAVE = "leave"
    HOLIDAY = "holiday"
    OTHER = "other"


class AvailabilityException(Model):
    """Days (or hours of days) a counsellor's templates do not apply: leave, a holiday, a
    training. Without times the whole days are off; with times only that window each day."""

    __tablename__ = "availability_exception"
    __table_args__ = (Index("ix_availability_exception_counsellor", "counsellor_id", "last_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    starts: Mapped[time | None] = mapped_column(Time)
    ends: Mapped[time | None] = mapped_column(Time)
    reason: Mapped[ExceptionReason] = mapped_column(
        db.Enum(ExceptionReason, native_enum=False, length=20)
    )
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


class AcademicBreak(BilingualName, Model):
    """Days the whole centre offers no bookable sessions: a term break, a public holiday (国庆
    节). Kept by the administrator; the duty roster still runs through them."""

    __tablename__ = "academic_break"
    __table_args__ = (Index("ix_academic_break_institution", "institution_id", "last_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    name: Mapped[str] = mapped_column(String(100))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class DutyShift(Model):
    """One person on duty (值班) for walk-ins and crises from one moment to another, in UTC.

    Whoever is on duty when a red warning is raised is told at once; the crisis pages and the
    staff's workbench name them with the shift's phone."""

    __tablename__ = "duty_shift"
    __table_args__ = (Index("ix_duty_shift_institution_time", "institution_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    phone: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
