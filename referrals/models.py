"""Recovery tables: referrals and their transitions, leaves of absence, return plans, follow-ups.

A referral's history is its transitions (who moved it, from where to where, when); its status and
`last_transition_at` are kept on the row so lists and sweeps need no aggregate. Plan items and
follow-ups are carried by `warning.models.Task` rows, so each owner sees them among their tasks and
"done" has exactly one source.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.encryption import EncryptedText
from campus.extensions import Model
from campus.extensions import db
from campus.models import Hospital
from campus.models import Student
from campus.models import StudentRecord
from campus.models import User
from warning.models import Task


class ReferralStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    APPOINTMENT_BOOKED = "appointment_booked"
    ASSESSED = "assessed"
    IN_TREATMENT = "in_treatment"
    DISCHARGED = "discharged"
    CLOSED = "closed"
    DECLINED = "declined"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    WITHDRAWN = "withdrawn"


class AssessmentOutcome(enum.StrEnum):
    NO_DISORDER = "no_disorder"
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class ConsentBy(enum.StrEnum):
    STUDENT = "student"
    GUARDIAN = "guardian"


class Referral(Model):
    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_hospital_status", "hospital_id", "status"),
        Index("ix_referral_institution_status", "institution_id", "status", "last_transition_at"),
        # The KPI dashboard's closure audit: an institution's referrals that ended in a period,
        # and those not ended at a moment (NULL or later), read from the index alone on
        # PostgreSQL (every column the aggregates need is included).
        Index(
            "ix_referral_closure",
            "institution_id",
            "ended_at",
            postgresql_include=["department_id", "student_id", "status", "sent_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warning.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospital.id"))
    # Copied from the student when sent, so closure metrics group by department without history.
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The new-referral form's one-time token (`campus.forms.OnceForm`): the form sent twice makes
    # one draft, not two drafts (and two green-channel alerts) for one student. Empty before it.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)
    reason: Mapped[str] = mapped_column(EncryptedText)
    screening_summary: Mapped[str | None] = mapped_column(EncryptedText)
    # Counsellor-only working note: never disclosed to the hospital.
    internal_note: Mapped[str | None] = mapped_column(EncryptedText)
    urgency: Mapped[Urgency] = mapped_column(db.Enum(Urgency, native_enum=False, length=20))
    green_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    # ";"-joined keys of `referrals.disclosure.DISCLOSABLE`: exactly what the hospital may see.
    disclosed_fields: Mapped[str] = mapped_column(String(300))
    consent_by: Mapped[ConsentBy] = mapped_column(db.Enum(ConsentBy, native_enum=False, length=10))
    consent_name: Mapped[str] = mapped_column(String(100))
    consent_method: Mapped[str] = mapped_column(String(30))
    consent_at: Mapped[datetime] = mapped_column(DateTime)
    consent_recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    status: Mapped[ReferralStatus] = mapped_column(
        db.Enum(ReferralStatus, native_enum=False, length=20), default=ReferralStatus.DRAFT
    )
    last_transition_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # reached a terminal state
    # Green channel: the appointment must be booked by this time, else the sweep escalates once.
    booking_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[AssessmentOutcome | None] = mapped_column(
        db.Enum(AssessmentOutcome, native_enum=False, length=20)
    )
    declined_by: Mapped[ConsentBy | None] = mapped_column(
        db.Enum(ConsentBy, native_enum=False, length=10)
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    student: Mapped[Student] = relationship()
    hospital: Mapped[Hospital] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    transitions: Mapped[list[ReferralTransition]] = relationship(
        back_populates="referral", order_by="ReferralTransition.id"
    )

    @property
    def disclosed(self) -> frozenset[str]:
        return frozenset(f for f in self.disclosed_fields.split(";") if f)


class ReferralTransition(Model):
    """One state change of a referral: never edited, the referral's timeline."""

    __tablename__ = "referral_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    from_status: Mapped[ReferralStatus | None] = mapped_column(
        db.Enum(ReferralStatus, native_enum=False, length=20)
    )
    to_status: Mapped[ReferralStatus] = mapped_column(
        db.Enum(ReferralStatus, native_enum=False, length=20)
    )
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    by_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    note: Mapped[str | None] = mapped_column(EncryptedText)
    # The appointment time a booking set (UTC): a rebooking's history says from when to when.
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime)

    referral: Mapped[Referral] = relationship(back_populates="transitions")
    by: Mapped[User] = relationship()


class LeaveReason(enum.StrEnum):
    """Deliberately coarse: the category is seen by administrators, clinical detail is not."""

    MENTAL_HEALTH = "mental_health"
    PHYSICAL_HEALTH = "physical_health"
    OTHER = "other"


class LeaveStatus(enum.StrEnum):
    ON_LEAVE = "on_leave"
    RETURNED = "returned"
    CLOSED = "closed"


class ReturnAssessment(enum.StrEnum):
    FIT_TO_RETURN = "fit_to_return"
    NOT_YET = "not_yet"


class PlanSection(enum.StrEnum):
    ACADEMIC = "academic"
    PSYCHOLOGICAL = "psychological"
    DAILY_LIFE = "daily_life"


class LeaveOfAbsence(StudentRecord, Model):
    """A leave (休学) and the return (复学) that ends it, with what the return was decided on."""

    __tablename__ = "leave_of_absence"
    __table_args__ = (
        # One open leave per student, kept by the database: `check_start_leave` says so in words,
        # but two requests at once (a double submit) both pass a check. Non-native enums store
        # the member *name*; derive it so the predicate cannot drift.
        Index(
            "uq_leave_one_open_per_student",
            "student_id",
            unique=True,
            sqlite_where=text(f"status != '{LeaveStatus.CLOSED.name}'"),
            postgresql_where=text(f"status != '{LeaveStatus.CLOSED.name}'"),
        ),
    )

    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    start_date: Mapped[date] = mapped_column(Date)
    expected_return_date: Mapped[date] = mapped_column(Date)
    reason_category: Mapped[LeaveReason] = mapped_column(
        db.Enum(LeaveReason, native_enum=False, length=20)
    )
    status: Mapped[LeaveStatus] = mapped_column(
        db.Enum(LeaveStatus, native_enum=False, length=10), default=LeaveStatus.ON_LEAVE
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # Hospital statement: clinical, shown only with CLINICAL capability.
    statement_received_on: Mapped[date | None] = mapped_column(Date)
    statement_hospital: Mapped[str | None] = mapped_column(String(200))
    statement_summary: Mapped[str | None] = mapped_column(EncryptedText)
    assessment_outcome: Mapped[ReturnAssessment | None] = mapped_column(
        db.Enum(ReturnAssessment, native_enum=False, length=20)
    )
    assessment_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assessment_at: Mapped[datetime | None] = mapped_column(DateTime)
    assessment_note: Mapped[str | None] = mapped_column(EncryptedText)
    returned_on: Mapped[date | None] = mapped_column(Date)
    return_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Why the return was approved while a referral of the student was still recorded as
    # inpatient with no discharge (`referrals.leave.inpatient_referrals`): the counsellor's word.
    return_inpatient_note: Mapped[str | None] = mapped_column(EncryptedText)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    student: Mapped[Student] = relationship()
    plan_items: Mapped[list[ReturnPlanItem]] = relationship(
        back_populates="leave", order_by="ReturnPlanItem.id"
    )
    follow_ups: Mapped[list[ReturnFollowUp]] = relationship(
        back_populates="leave", order_by="ReturnFollowUp.months"
    )


class ReturnPlanItem(Model):
    """One item of the return-to-school plan (复学方案); its owner works it as a Task."""

    __tablename__ = "return_plan_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    leave_id: Mapped[int] = mapped_column(ForeignKey("leave_of_absence.id"), index=True)
    section: Mapped[PlanSection] = mapped_column(db.Enum(PlanSection, native_enum=False, length=20))
    text: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    due_date: Mapped[date] = mapped_column(Date)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    # The plan form's one-time token (`campus.forms.OnceForm`): sent twice, one item and one task
    # for its owner. Empty for items added before it and for the demo's.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)
    # A mistaken item is withdrawn, never deleted: kept with who withdrew it, when and why; its
    # owner's task is closed, it no longer prints on the return opinion nor holds up closure.
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))

    leave: Mapped[LeaveOfAbsence] = relationship(back_populates="plan_items")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    task: Mapped[Task] = relationship()

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ReturnFollowUp(Model):
    """A post-return follow-up (1, 3, 6 months), scheduled from the return date."""

    __tablename__ = "return_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    leave_id: Mapped[int] = mapped_column(ForeignKey("leave_of_absence.id"), index=True)
    months: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))

    leave: Mapped[LeaveOfAbsence] = relationship(back_populates="follow_ups")
    task: Mapped[Task] = relationship()
