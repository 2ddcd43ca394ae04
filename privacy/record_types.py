"""What the purge can do to each kind of record: the registry the schedule is checked against.

A domain declares its record types with `register(app, RecordType(...))` (from its
`registration.py`, as the student file's `register_section`): the table whose rows are counted
(the *root*: one row per record, with the student it belongs to), the clocks a schedule may start
from, and per action the function that deletes or anonymises a batch of root rows with their
children. The record types of the domains on main are declared here, in `builtin()`; a new domain
(session notes) declares its own.

Every action runs Core statements on a list of root ids inside the purge's batch transaction and
commits nothing. "Anonymise" keeps the rows the figures count (levels, dates, states,
departments) and strips identity and free text; "delete" removes the rows and their children.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy import String
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from appointments.models import Appointment
from appointments.models import AppointmentCancellation
from appointments.models import AppointmentReminder
from appointments.models import AppointmentReschedule
from appointments.models import PreCheck
from appointments.models import SessionNote
from appointments.models import SessionNoteAddendum
from appointments.models import SessionOutcome
from appointments.models import WaitlistEntry
from campus import audit
from campus.audit import AuditEvent
from campus.extensions import rows_changed
from campus.i18n import N_
from campus.models import RecoveryCode
from campus.models import Student
from campus.models import TotpEnrolment
from campus.models import User
from campus.models import UserSession
from casework.models import ContagionFollowUp
from casework.models import CrisisDocument
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from casework.models import FamilyContact
from casework.models import InterviewEntry
from referrals.models import LeaveOfAbsence
from referrals.models import Referral
from referrals.models import ReferralTransition
from referrals.models import ReturnPlanItem
from referrals.services import OPEN as OPEN_REFERRAL
from screening.models import Consent
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from warning.models import AcademicRecord
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import LifeEvent
from warning.models import Signal
from warning.models import Task
from warning.models import WarningEvent
from warning.models import WarningStatus

EXTENSION = "xinqiao_retention_types"
# Where an action leaves files to remove once its batch has committed (crisis scans).
FILES_KEY = "retention_files_to_remove"

Apply = Callable[[Session, list[int]], int]


@dataclass(frozen=True)
class Action:
    """One way to end a batch of records: `apply(session, ids)` returns the root rows it changed;
    `keeps_rows` says whether the root rows stay (then the purge remembers them as done)."""

    apply: Apply
    keeps_rows: bool


@dataclass(frozen=True)
class RecordType:
    """One kind of record the schedule names.

    `student` is the root's column naming the student; `clocks` maps "closed"/"created" to the
    root's column of that moment ("left" is the student's departure, for every type);
    `still_open()` is a clause true for rows that are never due while it holds (an open warning,
    an active referral), with `open_reason` the reason code an erasure gives for keeping them."""

    key: str
    label: str
    root: Any
    student: Any
    clocks: Mapping[str, Any]
    actions: Mapping[str, Action]
    still_open: Callable[[], ColumnElement[bool]] | None = None
    open_reason: str | None = None
    order: int = 100
    # False: a student's erasure request never reaches it (the access record); the schedule does.
    erasable: bool = True
    # The root rows this type covers, when another type covers the rest (signals of a warning go
    # with the warning; a leave after a referral goes with the referral).
    covers: Callable[[], ColumnElement[bool]] | None = None
    allowed_clocks: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_clocks", frozenset({"left", *self.clocks}))


def register(app: Flask, record_type: RecordType) -> None:
    """Declare a record type (call from a domain's `registration.py`)."""
    types: dict[str, RecordType] = app.extensions.setdefault(EXTENSION, {})
    if record_type.key in types:
        raise ValueError(f"retention record type {record_type.key!r} is registered twice")
    types[record_type.key] = record_type


def registered(app: Flask) -> list[RecordType]:
    """Every registered record type, in purge order (children's owners last)."""
    types: dict[str, RecordType] = app.extensions.get(EXTENSION, {})
    return sorted(types.values(), key=lambda t: (t.order, t.key))


def allowed(app: Flask) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """{record type: (clocks, actions)} for the schedule's validation."""
    return {t.key: (t.allowed_clocks, frozenset(t.actions)) for t in registered(app)}


# --- the actions ----------------------------------------------------------------------------------


def _count(session: Session, statement: Any) -> int:
    return rows_changed(session, statement)


def _strip_answers(session: Session, ids: list[int]) -> int:
    results = select(ScreeningResult.assignment_id).where(ScreeningResult.id.in_(ids))
    session.execute(delete(InstrumentResponse).where(InstrumentResponse.assignment_id.in_(results)))
    return _count(
        session,
        update(ScreeningResult)
        .where(ScreeningResult.id.in_(ids))
        .values(answers={}, resubmitted_answers=None, submission_token=None),
    )


def _delete_results(session: Session, ids: list[int]) -> int:
    results = select(ScreeningResult.assignment_id).where(ScreeningResult.id.in_(ids))
    session.execute(delete(InstrumentResponse).where(InstrumentResponse.assignment_id.in_(results)))
    return _count(session, delete(ScreeningResult).where(ScreeningResult.id.in_(ids)))


def _delete_consents(session: Session, ids: list[int]) -> int:
    return _count(session, delete(Consent).where(Consent.id.in_(ids)))


def _delete_concerns(session: Session, ids: list[int]) -> int:
    return _count(session, delete(ConcernReport).where(ConcernReport.id.in_(ids)))


def _delete_life_events(session: Session, ids: list[int]) -> int:
    return _count(session, delete(LifeEvent).where(LifeEvent.id.in_(ids)))


def _anonymise_warnings(session: Session, ids: list[int]) -> int:
    """Levels, tiers, dates, departments and deadlines stay (the KPIs and the province view count
    them); reasons, notes, signal labels and task texts go."""
    session.execute(update(WarningEvent).where(WarningEvent.warning_id.in_(ids)).values(note=None))
    session.execute(
        update(Signal)
        .where(Signal.warning_id.in_(ids))
        .values(label="", label_key=None, label_params=None)
    )
    session.execute(
        update(Task)
        .where(Task.warning_id.in_(ids))
        .values(text="", text_key=None, text_params=None, done_note=None)
    )
    return _count(
        session,
        update(EarlyWarning)
        .where(EarlyWarning.id.in_(ids))
        .values(
            reason="",
            reason_key=None,
            reason_params=None,
            override_reason=None,
            close_outcome=None,
        ),
    )


def _anonymise_referrals(session: Session, ids: list[int]) -> int:
    """States and dates stay (the closure audit counts them); what was written goes."""
    session.execute(
        update(ReferralTransition).where(ReferralTransition.referral_id.in_(ids)).values(note=None)
    )
    leaves = select(LeaveOfAbsence.id).where(LeaveOfAbsence.referral_id.in_(ids))
    session.execute(
        update(ReturnPlanItem)
        .where(ReturnPlanItem.leave_id.in_(leaves))
        .values(text="", withdrawn_reason=None)
    )
    session.execute(
        update(LeaveOfAbsence)
        .where(LeaveOfAbsence.referral_id.in_(ids))
        .values(
            statement_summary=None,
            assessment_note=None,
            statement_hospital=None,
            return_inpatient_note=None,
        )
    )
    return _count(
        session,
        update(Referral)
        .where(Referral.id.in_(ids))
        .values(reason="", screening_summary=None, internal_note=None, consent_name=""),
    )


def _anonymise_family_contacts(session: Session, ids: list[int]) -> int:
    return _count(
        session,
        update(FamilyContact)
        .where(FamilyContact.id.in_(ids))
        .values(summary="", guardian_name="", guardian_relation="", other_agreement=""),
    )


def _anonymise_interviews(session: Session, ids: list[int]) -> int:
    return _count(
        session,
        update(InterviewEntry)
        .where(InterviewEntry.id.in_(ids))
        .values(place=None, level_reason=None),
    )


def _delete_crisis_records(session: Session, ids: list[int]) -> int:
    """The sanctioned way past the crisis entries' guard: the trigger refuses UPDATE only, and
    Core DELETE bypasses the ORM's refusal of loaded rows; the purge is the one caller.
    Signed scans are removed from disk after the batch commits (a crash in between leaves an
    unnamed file, never a row naming a missing file)."""
    files = session.scalars(
        select(CrisisDocument.scan_file).where(
            CrisisDocument.record_id.in_(ids), CrisisDocument.scan_file.is_not(None)
        )
    ).all()
    session.info.setdefault(FILES_KEY, []).extend(f for f in files if f)
    session.execute(delete(ContagionFollowUp).where(ContagionFollowUp.record_id.in_(ids)))
    session.execute(delete(CrisisDocument).where(CrisisDocument.record_id.in_(ids)))
    session.execute(delete(CrisisEntry).where(CrisisEntry.record_id.in_(ids)))
    return _count(session, delete(CrisisRecord).where(CrisisRecord.id.in_(ids)))


def _delete_appointments(session: Session, ids: list[int]) -> int:
    """An appointment goes with what was written of its session: outcome, note and addenda (the
    notes' triggers refuse updates, not deletes)."""
    notes = select(SessionNote.id).where(SessionNote.appointment_id.in_(ids))
    session.execute(delete(SessionNoteAddendum).where(SessionNoteAddendum.note_id.in_(notes)))
    session.execute(delete(SessionNote).where(SessionNote.appointment_id.in_(ids)))
    session.execute(delete(SessionOutcome).where(SessionOutcome.appointment_id.in_(ids)))
    session.execute(delete(PreCheck).where(PreCheck.appointment_id.in_(ids)))
    session.execute(
        delete(AppointmentCancellation).where(AppointmentCancellation.appointment_id.in_(ids))
    )
    session.execute(delete(AppointmentReminder).where(AppointmentReminder.appointment_id.in_(ids)))
    session.execute(
        delete(AppointmentReschedule).where(
            AppointmentReschedule.old_appointment_id.in_(ids)
            | AppointmentReschedule.new_appointment_id.in_(ids)
            | AppointmentReschedule.chain_root_id.in_(ids)
        )
    )
    session.execute(delete(WaitlistEntry).where(WaitlistEntry.appointment_id.in_(ids)))
    return _count(session, delete(Appointment).where(Appointment.id.in_(ids)))


def _delete_waitlist_entries(session: Session, ids: list[int]) -> int:
    return _count(session, delete(WaitlistEntry).where(WaitlistEntry.id.in_(ids)))


def _delete_pre_checks(session: Session, ids: list[int]) -> int:
    return _count(session, delete(PreCheck).where(PreCheck.id.in_(ids)))


def _anonymise_identity(session: Session, ids: list[int]) -> int:
    """The student row stays (every kept row and audit row points at it) as a stub: no name,
    number, guardian, room or birthday; the account can no longer sign in."""
    # Tasks about the student name them ("please check in with …"); a peer's follow-up note too.
    session.execute(
        update(Task)
        .where(Task.student_id.in_(ids))
        .values(text="", text_key=None, text_params=None, done_note=None)
    )
    session.execute(
        update(ContagionFollowUp).where(ContagionFollowUp.student_id.in_(ids)).values(note=None)
    )
    users = select(Student.user_id).where(Student.id.in_(ids), Student.user_id.is_not(None))
    session.execute(delete(UserSession).where(UserSession.user_id.in_(users)))
    session.execute(delete(TotpEnrolment).where(TotpEnrolment.user_id.in_(users)))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id.in_(users)))
    session.execute(
        update(User)
        .where(User.id.in_(users))
        .values(
            login=literal("erased-") + cast(User.id, String(32)),
            name="—",
            email=None,
            phone=None,
            password_hash=None,
            active=False,
        )
    )
    return _count(
        session,
        update(Student)
        .where(Student.id.in_(ids))
        .values(
            student_number=literal("X") + cast(Student.id, String(32)),
            name="—",
            gender="",
            guardian_name=None,
            guardian_phone=None,
            guardian_corrected_by_id=None,
            guardian_corrected_at=None,
            room_id=None,
            birth_date=date(1900, 1, 1),
        ),
    )


def _anonymise_signals(session: Session, ids: list[int]) -> int:
    return _count(
        session,
        update(Signal)
        .where(Signal.id.in_(ids))
        .values(label="", label_key=None, label_params=None),
    )


def _anonymise_leaves(session: Session, ids: list[int]) -> int:
    session.execute(
        update(ReturnPlanItem)
        .where(ReturnPlanItem.leave_id.in_(ids))
        .values(text="", withdrawn_reason=None)
    )
    return _count(
        session,
        update(LeaveOfAbsence)
        .where(LeaveOfAbsence.id.in_(ids))
        .values(
            statement_summary=None,
            assessment_note=None,
            statement_hospital=None,
            return_inpatient_note=None,
        ),
    )


def _delete_academic_records(session: Session, ids: list[int]) -> int:
    return _count(session, delete(AcademicRecord).where(AcademicRecord.id.in_(ids)))


def _delete_audit_rows(session: Session, ids: list[int]) -> int:
    return audit.purge_rows(session, ids)


def _open_warning() -> ColumnElement[bool]:
    return EarlyWarning.status == WarningStatus.OPEN


def _open_referral() -> ColumnElement[bool]:
    return Referral.status.in_(OPEN_REFERRAL)


def _open_crisis() -> ColumnElement[bool]:
    return CrisisRecord.warning_id.in_(
        select(EarlyWarning.id).where(EarlyWarning.status == WarningStatus.OPEN)
    )


def _delete(fn: Apply) -> Mapping[str, Action]:
    return {"delete": Action(fn, keeps_rows=False)}


def _anonymise(fn: Apply) -> Mapping[str, Action]:
    return {"anonymise": Action(fn, keeps_rows=True)}


def builtin() -> list[RecordType]:
    """The record types of the domains on main."""
    return [
        RecordType(
            "screening_answers",
            N_("Raw screening answers"),
            ScreeningResult,
            ScreeningResult.student_id,
            {"created": ScreeningResult.completed_at},
            # The answers go; the scored row stays for the results' own line of the schedule.
            {"delete": Action(_strip_answers, keeps_rows=True)},
            order=10,
        ),
        RecordType(
            "screening_results",
            N_("Screening results (scores and bands)"),
            ScreeningResult,
            ScreeningResult.student_id,
            {"created": ScreeningResult.completed_at},
            _delete(_delete_results),
            order=11,
        ),
        RecordType(
            "screening_consents",
            N_("Screening consents"),
            Consent,
            Consent.student_id,
            {"created": Consent.agreed_at},
            _delete(_delete_consents),
            order=12,
        ),
        RecordType(
            "concern_reports",
            N_("Concern reports"),
            ConcernReport,
            ConcernReport.student_id,
            {"created": ConcernReport.filed_at},
            _delete(_delete_concerns),
            order=20,
        ),
        RecordType(
            "life_events",
            N_("Life events"),
            LifeEvent,
            LifeEvent.student_id,
            {"created": LifeEvent.recorded_at},
            _delete(_delete_life_events),
            order=21,
        ),
        RecordType(
            "academic_records",
            N_("Academic data from the registrar"),
            AcademicRecord,
            AcademicRecord.student_id,
            {"created": AcademicRecord.imported_at},
            _delete(_delete_academic_records),
            order=22,
        ),
        RecordType(
            "signals",
            N_("Signals not attached to a warning"),
            Signal,
            Signal.student_id,
            {"created": Signal.recorded_at},
            _anonymise(_anonymise_signals),
            order=29,
            covers=lambda: Signal.warning_id.is_(None),
        ),
        RecordType(
            "warnings",
            N_("Warnings, their signals, timelines and tasks"),
            EarlyWarning,
            EarlyWarning.student_id,
            {"closed": EarlyWarning.closed_at, "created": EarlyWarning.opened_at},
            _anonymise(_anonymise_warnings),
            still_open=_open_warning,
            open_reason="open_warning",
            order=30,
        ),
        RecordType(
            "referrals",
            N_("Referrals, their steps, leaves and return plans"),
            Referral,
            Referral.student_id,
            {"closed": Referral.ended_at, "created": Referral.created_at},
            _anonymise(_anonymise_referrals),
            still_open=_open_referral,
            open_reason="open_referral",
            order=40,
        ),
        RecordType(
            "leaves",
            N_("Leaves of absence without a referral, and their return plans"),
            LeaveOfAbsence,
            LeaveOfAbsence.student_id,
            {"closed": LeaveOfAbsence.closed_at, "created": LeaveOfAbsence.created_at},
            _anonymise(_anonymise_leaves),
            still_open=lambda: LeaveOfAbsence.closed_at.is_(None),
            open_reason="open_leave",
            order=41,
            covers=lambda: LeaveOfAbsence.referral_id.is_(None),
        ),
        RecordType(
            "family_contacts",
            N_("Family contacts"),
            FamilyContact,
            FamilyContact.student_id,
            {"created": FamilyContact.created_at},
            _anonymise(_anonymise_family_contacts),
            order=50,
        ),
        RecordType(
            "interviews",
            N_("Post-screening interviews"),
            InterviewEntry,
            InterviewEntry.student_id,
            {"closed": InterviewEntry.closed_at, "created": InterviewEntry.created_at},
            _anonymise(_anonymise_interviews),
            order=51,
        ),
        RecordType(
            "crisis_records",
            N_("Crisis records, their documents and scans"),
            CrisisRecord,
            CrisisRecord.student_id,
            {"created": CrisisRecord.opened_at},
            _delete(_delete_crisis_records),
            still_open=_open_crisis,
            open_reason="open_warning",
            order=52,
        ),
        RecordType(
            "appointments",
            N_("Appointments"),
            Appointment,
            Appointment.student_id,
            {"created": Appointment.starts_at},
            _delete(_delete_appointments),
            order=60,
        ),
        RecordType(
            "pre_checks",
            N_("Pre-appointment checks"),
            PreCheck,
            PreCheck.student_id,
            {"created": PreCheck.submitted_at},
            _delete(_delete_pre_checks),
            order=61,
        ),
        RecordType(
            "waitlist",
            N_("Waiting-list entries"),
            WaitlistEntry,
            WaitlistEntry.student_id,
            {"created": WaitlistEntry.joined_at, "closed": WaitlistEntry.closed_at},
            _delete(_delete_waitlist_entries),
            order=62,
        ),
        RecordType(
            "identity",
            N_("Name, student number, guardian and account"),
            Student,
            Student.id,
            {},
            _anonymise(_anonymise_identity),
            order=90,
        ),
        RecordType(
            "audit",
            N_("Record of who read or changed the student's data"),
            AuditEvent,
            AuditEvent.student_id,
            {"created": AuditEvent.at},
            _delete(_delete_audit_rows),
            order=99,
            erasable=False,
        ),
    ]
