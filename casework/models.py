"""Casework tables. Each sits beside the student it concerns; every read goes through
`campus.scope.student_filter` like the rest of a student's data."""

from __future__ import annotations

# ==================================================================================================
# Post-screening interviews (筛查后约谈) — casework/interviews.py
# ==================================================================================================
import enum  # noqa: E402 -- each casework part keeps its imports in its own block, for merges
from datetime import date, datetime  # noqa: E402

from sqlalchemy import (  # noqa: E402
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
from sqlalchemy.orm import Mapped, mapped_column, relationship  # noqa: E402

from campus import clock  # noqa: E402
from campus.extensions import Model, db  # noqa: E402
from campus.models import Student, User  # noqa: E402


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
