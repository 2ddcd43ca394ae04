"""Prevention tables: campaigns, who is due, consent, saved drafts and the scored results.

An assignment's status (due, started, completed, expired) is derived from its timestamps and the
campaign window rather than stored, so coverage is always live and no sweep has to keep it fresh.
A result is unique per assignment and instrument: a double click or a retried request can never
store a second one.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import case
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.extensions import Model
from campus.extensions import db
from campus.models import BilingualName
from campus.models import Institution
from campus.models import InstitutionRecord
from campus.models import Student


class AssignmentStatus(enum.StrEnum):
    DUE = "due"
    STARTED = "started"
    COMPLETED = "completed"
    EXPIRED = "expired"


class ResultSource(enum.StrEnum):
    ONLINE = "online"
    IMPORT = "import"  # paper forms or another system's export


class Campaign(BilingualName, InstitutionRecord, Model):
    """A screening round: instruments in order, the cohort it targets and its window (UTC)."""

    __tablename__ = "screening_campaign"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    instruments: Mapped[list[str]] = mapped_column(JSON)
    # Cohort: an empty list means "any"; the dimensions combine with AND.
    grades: Mapped[list[int]] = mapped_column(JSON, default=list)
    department_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    class_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    consent_text_zh: Mapped[str] = mapped_column(Text, default="")
    consent_text_en: Mapped[str] = mapped_column(Text, default="")
    reminder_every_days: Mapped[int] = mapped_column(Integer, default=3)  # 0: no reminders
    # Whether a student may download their own individual screening report (neutral wording).
    students_see_report: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    institution: Mapped[Institution] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def local_today(self, now: datetime) -> date:
        """The institution's calendar date at `now`: birthdays and "today" are local days."""
        return clock.local_date(now, clock.institution_zone(self.institution))

    def consent_text(self, locale: str) -> str:
        return self.consent_text_zh if locale.startswith("zh") else self.consent_text_en


class CampaignAssignment(Model):
    """One student due to complete one campaign."""

    __tablename__ = "screening_assignment"
    __table_args__ = (UniqueConstraint("campaign_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaign.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)  # consent given
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)  # every instrument scored
    last_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    campaign: Mapped[Campaign] = relationship()
    student: Mapped[Student] = relationship()
    consent: Mapped[Consent | None] = relationship(back_populates="assignment")

    def status(self, now: datetime) -> AssignmentStatus:
        if self.completed_at is not None:
            return AssignmentStatus.COMPLETED
        if now >= self.campaign.closes_at:
            return AssignmentStatus.EXPIRED
        if self.started_at is not None:
            return AssignmentStatus.STARTED
        return AssignmentStatus.DUE


def status_expression(now: datetime):
    """`CampaignAssignment.status(now)` as SQL, for coverage counts (needs the campaign joined)."""
    return case(
        (CampaignAssignment.completed_at.is_not(None), AssignmentStatus.COMPLETED.value),
        (Campaign.closes_at <= now, AssignmentStatus.EXPIRED.value),
        (CampaignAssignment.started_at.is_not(None), AssignmentStatus.STARTED.value),
        else_=AssignmentStatus.DUE.value,
    )


class Consent(Model):
    """What the student (and, for a minor, the guardian) agreed to, when and from where."""

    __tablename__ = "screening_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("screening_assignment.id"), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    informed: Mapped[bool] = mapped_column(Boolean)
    sensitive_data: Mapped[bool] = mapped_column(Boolean)
    consent_text: Mapped[str] = mapped_column(Text)  # the text exactly as shown
    locale: Mapped[str] = mapped_column(String(10))
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    guardian_name: Mapped[str | None] = mapped_column(String(100))
    guardian_relationship: Mapped[str | None] = mapped_column(String(50))
    agreed_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    ip: Mapped[str | None] = mapped_column(String(64))

    assignment: Mapped[CampaignAssignment] = relationship(back_populates="consent")


class InstrumentResponse(Model):
    """Answers saved so far on one instrument page, so a student can stop and resume."""

    __tablename__ = "screening_draft"
    __table_args__ = (UniqueConstraint("assignment_id", "instrument"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("screening_assignment.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # item number -> value
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The warning-stage signal a safety answer in these unsubmitted answers raised; set once, so
    # saving the same page again never raises a second one.
    safety_signal_id: Mapped[int | None] = mapped_column(Integer)

    def answer_map(self) -> dict[int, int]:
        return {int(k): v for k, v in self.answers.items()}


class ScreeningResult(Model):
    """One scored instrument of one assignment; never two (unique constraint)."""

    __tablename__ = "screening_result"
    __table_args__ = (
        UniqueConstraint("assignment_id", "instrument", name="uq_screening_result_once"),
        Index("ix_screening_result_trajectory", "student_id", "instrument", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("screening_assignment.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaign.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    instrument: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    subscales: Mapped[dict[str, float | None]] = mapped_column(JSON, default=dict)
    band: Mapped[str | None] = mapped_column(String(40))
    flags: Mapped[str] = mapped_column(String(500), default="")  # ";"-joined, like Signal.flags
    source: Mapped[ResultSource] = mapped_column(
        db.Enum(ResultSource, native_enum=False, length=10), default=ResultSource.ONLINE
    )
    submission_token: Mapped[str | None] = mapped_column(String(64))  # the page that submitted
    # A later submission of this instrument that added a safety answer: its answers (the scored
    # ones stay as first submitted) and the signal it raised, set once.
    resubmitted_answers: Mapped[dict[str, int] | None] = mapped_column(JSON)
    safety_signal_id: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    campaign: Mapped[Campaign] = relationship()
    student: Mapped[Student] = relationship()

    @property
    def flag_set(self) -> frozenset[str]:
        return frozenset(f for f in self.flags.split(";") if f)

    def answer_map(self) -> dict[int, int]:
        return {int(k): v for k, v in self.answers.items()}
