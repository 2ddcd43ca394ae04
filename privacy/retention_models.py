"""Tables of the retention schedule, legal holds and erasure requests (issue #19, retention part).

The purge keeps its own bookkeeping here and never adds columns to other domains' tables:
`PurgedRecord` remembers every row it anonymised (a deleted row needs no memory: it is gone), so
"past its date and not yet done" is one NOT EXISTS, and a run killed halfway resumes by asking it
again.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.encryption import EncryptedText
from campus.extensions import Model
from campus.extensions import db
from campus.models import InstitutionRecord
from campus.models import Student
from campus.models import StudentRecord
from campus.models import User


class StudentDeparture(Model):
    """The day a student left (graduated or withdrew): the clock of every "after leaving" rule.

    The roster keeps only the status, not the day, so the sweep writes this row the first time it
    sees a student graduated or withdrawn (`source` "seen"); an operator may record the real day
    (`source` "recorded"). A student who comes back loses the row (the clock restarts)."""

    __tablename__ = "student_departure"

    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), primary_key=True)
    left_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10), default="seen")


class LegalHold(StudentRecord, Model):
    """A director's order to keep everything of one student (a complaint, a lawsuit, an
    investigation): the sweep and an erasure skip the student while it is not lifted."""

    __tablename__ = "legal_hold"
    __table_args__ = (
        # One hold in force per student: a second "place" is refused, not stacked.
        Index(
            "uq_legal_hold_in_force",
            "student_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    reason: Mapped[str] = mapped_column(EncryptedText)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    placed_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    student: Mapped[Student] = relationship()
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])


class RunState(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"


class PurgeRun(InstitutionRecord, Model):
    """One pass of the purge: the schedule sweep of an institution, or one erasure.

    Counts per record type are written in the same transaction as the batch they count, so a run
    killed between batches has exact counts; the next pass continues the unfinished run."""

    __tablename__ = "purge_run"

    # "sweep" or "erasure"; an erasure run names its request.
    kind: Mapped[str] = mapped_column(String(10))
    erasure_id: Mapped[int | None] = mapped_column(ForeignKey("erasure_request.id"))
    schedule_version: Mapped[str] = mapped_column(String(40))
    state: Mapped[RunState] = mapped_column(
        db.Enum(RunState, native_enum=False, length=10), default=RunState.RUNNING
    )
    started_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    # {record type: {"deleted": n, "anonymised": n}}; students skipped under a hold: "held".
    counts: Mapped[dict] = mapped_column(JSON, default=dict)


class PurgedRecord(Model):
    """A row the purge anonymised: never selected again (the unique key makes a second write of
    the same row impossible, even by two purges at once)."""

    __tablename__ = "purged_record"
    __table_args__ = (UniqueConstraint("record_type", "record_id", name="uq_purged_record"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(ForeignKey("purge_run.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class ErasureState(enum.StrEnum):
    REQUESTED = "requested"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    DECLINED = "declined"
    CARRIED_OUT = "carried_out"


OPEN_ERASURE_STATES = (ErasureState.REQUESTED, ErasureState.UNDER_REVIEW)


class ErasureRequest(StudentRecord, Model):
    """A student's request to erase their data (PIPL art. 47), the director's decision and its
    outcome. `kept` is {record type: reason code} for what the decision keeps."""

    __tablename__ = "erasure_request"
    __table_args__ = (
        # One request in the works per student: a second one (a double submit) is refused.
        Index(
            "uq_erasure_request_open",
            "student_id",
            unique=True,
            sqlite_where=text("state IN ('REQUESTED', 'UNDER_REVIEW')"),
            postgresql_where=text("state IN ('REQUESTED', 'UNDER_REVIEW')"),
        ),
    )

    state: Mapped[ErasureState] = mapped_column(
        db.Enum(ErasureState, native_enum=False, length=20), default=ErasureState.REQUESTED
    )
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    student_note: Mapped[str | None] = mapped_column(EncryptedText)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(EncryptedText)
    kept: Mapped[dict] = mapped_column(JSON, default=dict)
    carried_out_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)

    student: Mapped[Student] = relationship()
