"""Appointment tables: bookable slots and the appointments booked into them.

A slot is one bookable time of one counsellor, made from the counsellor's weekly availability when
booking opens (or added by hand). An appointment is one student's claim on a slot; the database,
not Python, keeps two live appointments out of one slot (`uq_appointment_live_slot`), so a lost
race is an IntegrityError the booking code turns into "taken, here are the next free times".
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from datetime import time

from sqlalchemy import DDL
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Time
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.encryption import SAME_SQL
from campus.encryption import EncryptedText
from campus.encryption import rotation_only_sql
from campus.encryption import unchanged_sql
from campus.extensions import Model
from campus.extensions import db
from campus.models import BilingualName
from campus.models import InstitutionRecord
from campus.models import Student
from campus.models import User


class CounsellorProfile(InstitutionRecord, Model):
    """What the centre needs to know of one counsellor beyond their account: the gender students
    may ask for, whether they are a trainee whose notes a supervisor co-signs, and their working
    time (full-time equivalent), which the clinical-load figure divides by."""

    __tablename__ = "counsellor_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
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


class AvailabilityTemplate(InstitutionRecord, Model):
    """One weekly window a counsellor offers, e.g. Tuesdays 14:00–17:00 in room 302, 50-minute
    first visits with a 10-minute break between them, from one day until another.

    Times are wall-clock times of the institution's zone: a Tuesday afternoon stays a Tuesday
    afternoon whatever UTC says. One template offers one kind of session because a slot has one;
    a counsellor who takes several kinds keeps a template per kind."""

    __tablename__ = "availability_template"
    __table_args__ = (Index("ix_availability_template_counsellor", "counsellor_id", "weekday"),)

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
    # The form's one-time token (`campus.forms.OnceForm`): a double tap is one template, not two
    # that both passed the overlap check.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])


class ExceptionReason(enum.StrEnum):
    """Why a counsellor is away: the page shows it, the students never see it."""

    LEAVE = "leave"
    HOLIDAY = "holiday"
    OTHER = "other"


class AvailabilityException(InstitutionRecord, Model):
    """Days (or hours of days) a counsellor's templates do not apply: leave, a holiday, a
    training. Without times the whole days are off; with times only that window each day."""

    __tablename__ = "availability_exception"
    __table_args__ = (Index("ix_availability_exception_counsellor", "counsellor_id", "last_day"),)

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
    # The form's one-time token (`campus.forms.OnceForm`): a double tap is one shift, not two
    # that both passed the overlap check.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


# ==================================================================================================
# Sessions: outcome, risk assessment and session notes (咨询记录)
# ==================================================================================================


class NoteState(enum.StrEnum):
    """A note is a draft until its author signs it; a trainee's signed note waits for the
    supervisor's co-sign. From signing on it is append-only (addenda only)."""

    DRAFT = "draft"
    SIGNED = "signed"
    CO_SIGNED = "co_signed"


class SessionOutcome(Model):
    """What the counsellor recorded after the session: whether it took place (the appointment's
    state says which), the risk assessed and why, and the warning signal it raised, if any."""

    __tablename__ = "session_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    # warning.policy.Level: 0 none, 1 blue (low), 2 yellow (medium), 3 red (high); None when the
    # student did not come (nothing was assessed).
    risk_level: Mapped[int | None] = mapped_column(Integer)
    risk_reason: Mapped[str | None] = mapped_column(EncryptedText)
    # The warning signal the assessment recorded (it raised the student's level).
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signal.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    appointment: Mapped[Appointment] = relationship()


class SessionNote(Model):
    """The counsellor's note of one session (咨询记录), the centre's record: encrypted at rest,
    read only as `appointments.session_permissions` allows, every read audited. Once signed the
    database refuses to change it (trigger `session_note_signed_no_update`), except the
    supervisor's co-sign and a key rotation's ciphertext rewrite."""

    __tablename__ = "session_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    body: Mapped[str] = mapped_column(EncryptedText)
    state: Mapped[NoteState] = mapped_column(
        db.Enum(NoteState, native_enum=False, length=20), default=NoteState.DRAFT
    )
    # Whose co-sign the note needs: the author's supervisor when the author was a trainee at
    # signing, fixed then so a later change of supervisor does not move old notes.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    co_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    co_signed_at: Mapped[datetime | None] = mapped_column(DateTime)

    appointment: Mapped[Appointment] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    co_signed_by: Mapped[User | None] = relationship(foreign_keys=[co_signed_by_id])
    addenda: Mapped[list[SessionNoteAddendum]] = relationship(
        order_by="SessionNoteAddendum.at, SessionNoteAddendum.id", viewonly=True
    )

    @property
    def signed(self) -> bool:
        return self.state != NoteState.DRAFT


class SessionNoteAddendum(Model):
    """Something added to a signed note later (a correction, a fact learnt after): never
    changed, never removed by the application."""

    __tablename__ = "session_note_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("session_note.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The form's one-time token: a double submit adds one addendum.
    submission: Mapped[str] = mapped_column(String(40), unique=True)

    author: Mapped[User] = relationship()


# The database's own guard, installed by migration 0025_sessions and, for `create_all`, here.
# A signed note may change only (a) from signed to co-signed, nothing else touched, or (b) in its
# body's ciphertext while a key rotation batch runs in the same transaction (the marker row of
# `campus.encryption.KeyRotationMarker` exists only there). Addenda change only under (b).
_NOTE_SAME = ("id", "appointment_id", "institution_id", "student_id", "author_id", "supervisor_id")
_CO_SIGN_KEEPS = (*_NOTE_SAME, "body", "signed_at")
_ROTATION_KEEPS = (*_NOTE_SAME, "state", "signed_at", "co_signed_by_id", "co_signed_at")
_ADDENDUM_KEEPS = ("id", "note_id", "institution_id", "student_id", "author_id", "at", "submission")


def _note_allowed(same: str) -> str:
    return (
        "(OLD.state = 'SIGNED' AND NEW.state = 'CO_SIGNED' AND "
        f"{unchanged_sql(_CO_SIGN_KEEPS, same)})"
        f" OR ({rotation_only_sql(_ROTATION_KEEPS, same)})"
    )


_PG_SAME, _SQLITE_SAME = SAME_SQL["postgresql"], SAME_SQL["sqlite"]
SESSION_NOTE_DDL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION session_note_append_only() RETURNS trigger AS $$ BEGIN "
        f"IF OLD.state = 'DRAFT' OR {_note_allowed(_PG_SAME)} THEN RETURN NEW; END IF; "
        "RAISE EXCEPTION 'signed session notes are append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER session_note_signed_no_update BEFORE UPDATE ON session_note "
        "FOR EACH ROW EXECUTE FUNCTION session_note_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER session_note_signed_no_update BEFORE UPDATE ON session_note "
        f"WHEN OLD.state != 'DRAFT' AND NOT ({_note_allowed(_SQLITE_SAME)}) "
        "BEGIN SELECT RAISE(ABORT, 'signed session notes are append-only'); END",
    ],
}
ADDENDUM_DDL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION session_note_addendum_append_only() RETURNS trigger AS $$ "
        f"BEGIN IF {rotation_only_sql(_ADDENDUM_KEEPS, _PG_SAME)} THEN RETURN NEW; END IF; "
        "RAISE EXCEPTION 'session note addenda are append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER session_note_addendum_no_update BEFORE UPDATE ON session_note_addendum "
        "FOR EACH ROW EXECUTE FUNCTION session_note_addendum_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER session_note_addendum_no_update BEFORE UPDATE ON session_note_addendum "
        f"WHEN NOT ({rotation_only_sql(_ADDENDUM_KEEPS, _SQLITE_SAME)}) "
        "BEGIN SELECT RAISE(ABORT, 'session note addenda are append-only'); END",
    ],
}
for _model, _ddl in ((SessionNote, SESSION_NOTE_DDL), (SessionNoteAddendum, ADDENDUM_DDL)):
    for _dialect, _statements in _ddl.items():
        for _statement in _statements:
            event.listen(
                _model.__table__,
                "after_create",
                DDL(_statement).execute_if(dialect=_dialect),
            )


_CO_SIGN_ATTRIBUTES = frozenset({"state", "co_signed_by_id", "co_signed_at", "co_signed_by"})


@event.listens_for(Session, "before_flush")
def _refuse_signed_note_rewrites(session: Session, _ctx: object, _instances: object) -> None:
    """The ORM's half of the guard: a loaded signed note or an addendum is never rewritten or
    deleted through the application (the co-sign changes only the co-sign columns)."""
    for obj in session.deleted:
        if isinstance(obj, (SessionNote, SessionNoteAddendum)):
            raise PermissionError("session notes are append-only")
    for obj in session.dirty:
        if isinstance(obj, SessionNoteAddendum) and session.is_modified(obj):
            raise PermissionError("session note addenda are append-only")
        if isinstance(obj, SessionNote) and session.is_modified(obj):
            history = inspect(obj).attrs.state.history
            was = history.deleted[0] if history.deleted else obj.state
            if was == NoteState.DRAFT:
                continue
            changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
            if not (was == NoteState.SIGNED and changed <= _CO_SIGN_ATTRIBUTES):
                raise PermissionError("signed session notes are append-only")


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
