"""Casework tables. Each sits beside the student it concerns; every read goes through
`campus.scope.student_filter` like the rest of a student's data."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus import clock
from campus.encryption import EncryptedText
from campus.extensions import Model, db
from campus.models import Student, User

# --- Family contacts (家校沟通, issue #17 section 4) ---


class ContactDirection(enum.StrEnum):
    """Who reached whom."""

    WE_CALLED = "we_called"
    GUARDIAN_CALLED = "guardian_called"
    MET = "met"


class ContactChannel(enum.StrEnum):
    PHONE = "phone"
    IN_PERSON = "in_person"
    WECHAT = "wechat"
    SMS = "sms"
    VIDEO = "video"


class ContactOutcome(enum.StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    REFUSED = "refused"


class FamilyContact(Model):
    """One contact between the school and a student's guardian: append-only. A correction is a
    new entry whose `corrects_id` names the entry it replaces; nothing is edited in place."""

    __tablename__ = "family_contact"
    __table_args__ = (
        Index("ix_family_contact_student_at", "student_id", "at"),
        # The month's figure: contacts of an institution in a period.
        Index("ix_family_contact_institution_at", "institution_id", "at"),
        # The form's one-time token: a double submit stores one entry.
        UniqueConstraint("submission_token", name="uq_family_contact_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    at: Mapped[datetime] = mapped_column(DateTime)  # when the contact took place (UTC)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    direction: Mapped[ContactDirection] = mapped_column(
        db.Enum(ContactDirection, native_enum=False, length=20)
    )
    guardian_name: Mapped[str] = mapped_column(String(100))
    guardian_relation: Mapped[str] = mapped_column(String(50), default="")
    channel: Mapped[ContactChannel] = mapped_column(
        db.Enum(ContactChannel, native_enum=False, length=20)
    )
    # What was said: clinical-ish free text, read only at Capability.WARNING and above.
    summary: Mapped[str] = mapped_column(EncryptedText)  # what was said: clinical, encrypted
    outcome: Mapped[ContactOutcome] = mapped_column(
        db.Enum(ContactOutcome, native_enum=False, length=20)
    )
    # Keys of `casework.family_contacts.AGREEMENTS`, and a free "other" agreement.
    agreements: Mapped[list[str]] = mapped_column(JSON, default=list)
    other_agreement: Mapped[str] = mapped_column(String(200), default="")
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    # The task the follow-up date created for the author (warning's task list shows it).
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("family_contact.id"))
    submission_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    student: Mapped[Student] = relationship()
    author: Mapped[User] = relationship()


# --- Post-screening interviews (筛查后约谈, issue #17 section 2) ---


class InterviewState(enum.StrEnum):
    TO_ASSIGN = "to_assign"  # on the list, nobody to interview yet
    ASSIGNED = "assigned"  # an interviewer, no time yet (or a no-show to reschedule)
    SCHEDULED = "scheduled"  # the student is invited for a time and place
    DONE = "done"  # held: the outcome is recorded
    UNREACHABLE = "unreachable"  # closed without an interview


class InterviewRound(Model):
    """A campaign's interview list settings, pinned when its first result qualified: the rule set
    (version and text) every later result of the campaign is judged by."""

    __tablename__ = "interview_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaign.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    rule_set_version: Mapped[str] = mapped_column(String(60))
    rule_set_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class InterviewEntry(Model):
    """One student on one campaign's interview list: why, who interviews, when, and what came of
    it. Never two for a student and campaign (unique constraint)."""

    __tablename__ = "interview_entry"
    __table_args__ = (
        UniqueConstraint("campaign_id", "student_id", name="uq_interview_once"),
        Index("ix_interview_due", "state", "due_at"),
        Index("ix_interview_institution", "institution_id", "campaign_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaign.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    rule_set_version: Mapped[str] = mapped_column(String(60))
    # The rules met: [{"rule": name, "key": msgid, "params": {...}}], each once.
    reasons: Mapped[list[dict]] = mapped_column(JSON, default=list)
    tier: Mapped[str] = mapped_column(String(20))  # "school" or "department"
    state: Mapped[InterviewState] = mapped_column(
        db.Enum(InterviewState, native_enum=False, length=20), default=InterviewState.TO_ASSIGN
    )
    due_at: Mapped[datetime] = mapped_column(DateTime)
    # True when the deadline is the red warning's (a safety answer), not the campaign's.
    due_from_warning: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime)
    place: Mapped[str | None] = mapped_column(String(200))
    invited_at: Mapped[datetime | None] = mapped_column(DateTime)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    held_at: Mapped[datetime | None] = mapped_column(DateTime)  # attended: when the outcome says
    conclusion: Mapped[str | None] = mapped_column(String(20))  # no_concern/watch/follow_up/refer
    level_decision: Mapped[str | None] = mapped_column(String(10))  # confirm/lower/raise
    level_before: Mapped[int | None] = mapped_column(Integer)
    level_after: Mapped[int | None] = mapped_column(Integer)
    level_reason: Mapped[str | None] = mapped_column(String(500))
    next_step: Mapped[str | None] = mapped_column(String(20))  # none/follow_up/refer
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    student: Mapped[Student] = relationship()
    interviewer: Mapped[User | None] = relationship(foreign_keys=[interviewer_id])

    @property
    def open(self) -> bool:
        return self.state not in (InterviewState.DONE, InterviewState.UNREACHABLE)

    def on_time(self) -> bool:
        return self.held_at is not None and self.held_at <= self.due_at
