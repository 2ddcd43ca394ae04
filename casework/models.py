"""Casework tables. Each sits beside the student it concerns; every read goes through
`campus.scope.student_filter` like the rest of a student's data."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Family contacts (家校沟通) — the student file's helper (issue #17 section 4)
# --------------------------------------------------------------------------------------------------
import enum  # noqa: E402 - this block is kept whole so parallel additions merge cleanly
from datetime import date, datetime  # noqa: E402

from sqlalchemy import (  # noqa: E402
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship  # noqa: E402

from campus import clock  # noqa: E402
from campus.encryption import EncryptedText  # noqa: E402
from campus.extensions import Model, db  # noqa: E402
from campus.models import Student, User  # noqa: E402


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


# --------------------------------------------------------------------------------------------------
# End of family contacts
# --------------------------------------------------------------------------------------------------
