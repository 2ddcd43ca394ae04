"""Casework tables. Each sits beside the student it concerns; every read goes through
`campus.scope.student_filter` like the rest of a student's data."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import DDL
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.encryption import SAME_SQL
from campus.encryption import EncryptedText
from campus.encryption import rotation_only_sql
from campus.extensions import Model
from campus.extensions import db
from campus.models import InstitutionRecord
from campus.models import Student
from campus.models import StudentRecord
from campus.models import User

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
        UniqueConstraint("submission", name="uq_family_contact_submission"),
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
    submission: Mapped[str] = mapped_column(String(64))
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


class InterviewRound(InstitutionRecord, Model):
    """A campaign's interview list settings, pinned when its first result qualified: the rule set
    (version and text) every later result of the campaign is judged by."""

    __tablename__ = "interview_round"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaign.id"), unique=True)
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
    # The deadline before the screening's close was last moved, and when it was moved
    # (`interviews.follow_close`): the entry's page says why its date is not the one first given.
    due_moved_from: Mapped[datetime | None] = mapped_column(DateTime)
    due_moved_at: Mapped[datetime | None] = mapped_column(DateTime)
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
    level_reason: Mapped[str | None] = mapped_column(EncryptedText)  # an assessment: encrypted
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


# --- Crisis records (危机事件记录), hand-over documents, contagion (issue #17 section 3) ---


class CrisisAction(enum.StrEnum):
    """What was done on the scene; an entry ticks any of them."""

    ACCOMPANIED = "accompanied"
    HOSPITAL = "hospital"
    POLICE = "police_110"
    AMBULANCE = "ambulance_120"
    GUARDIAN_INFORMED = "guardian_informed"
    GUARDIAN_ARRIVED = "guardian_arrived"
    HANDED_OVER = "handed_over"


class CrisisRecord(StudentRecord, Model):
    """The crisis record of one red warning: a header; what happened is in its entries."""

    __tablename__ = "crisis_record"

    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), unique=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    student: Mapped[Student] = relationship()
    entries: Mapped[list[CrisisEntry]] = relationship(
        order_by="CrisisEntry.created_at, CrisisEntry.id", viewonly=True
    )


class CrisisEntry(Model):
    """One account added to a crisis record, never changed: a correction is a new entry that
    names the one it corrects. The database refuses every UPDATE of these rows (a trigger, as
    for the audit trail) but a key rotation's re-encryption of the narrative; the ORM refuses
    updates and deletes of loaded rows."""

    __tablename__ = "crisis_entry"
    __table_args__ = (
        # A form sent twice (a double click, a reload) carries the same token: one entry.
        UniqueConstraint("record_id", "submission", name="uq_crisis_entry_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("crisis_record.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    place: Mapped[str] = mapped_column(String(200))
    narrative: Mapped[str] = mapped_column(EncryptedText)  # what happened: clinical, encrypted
    present: Mapped[str | None] = mapped_column(String(500))
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)  # CrisisAction values
    hospital: Mapped[str | None] = mapped_column(String(200))
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime)
    handed_over_to: Mapped[str | None] = mapped_column(String(100))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("crisis_entry.id"))
    submission: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


# The guard migration 0025_sessions installs (replacing 0019's), for `create_all` too: no UPDATE of
# an entry, except a key rotation's rewrite of the narrative's ciphertext alone (the rotation
# batch's own `key_rotation_marker` row, see `campus.encryption.KeyRotationMarker`).
# (Deleting stays possible for the retention schedule's purge; the application never deletes.)
_ENTRY_KEEPS = (
    "id",
    "record_id",
    "institution_id",
    "student_id",
    "occurred_at",
    "place",
    "present",
    "actions",
    "hospital",
    "handed_over_at",
    "handed_over_to",
    "corrects_id",
    "submission",
    "author_id",
    "created_at",
)
# PostgreSQL's json type has no equality: its text is compared.
_ENTRY_KEEPS_PG = tuple("actions::text" if c == "actions" else c for c in _ENTRY_KEEPS)
CRISIS_ENTRY_DDL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION crisis_entry_append_only() RETURNS trigger AS $$ BEGIN "
        f"IF {rotation_only_sql(_ENTRY_KEEPS_PG, SAME_SQL['postgresql'])} THEN RETURN NEW; "
        "END IF; RAISE EXCEPTION 'crisis_entry rows are append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry "
        "FOR EACH ROW EXECUTE FUNCTION crisis_entry_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER crisis_entry_no_update BEFORE UPDATE ON crisis_entry "
        f"WHEN NOT ({rotation_only_sql(_ENTRY_KEEPS, SAME_SQL['sqlite'])}) "
        "BEGIN SELECT RAISE(ABORT, 'crisis_entry rows are append-only'); END"
    ],
}
for _dialect, _statements in CRISIS_ENTRY_DDL.items():
    for _statement in _statements:
        event.listen(
            CrisisEntry.__table__,
            "after_create",
            DDL(_statement).execute_if(dialect=_dialect),
        )


@event.listens_for(Session, "before_flush")
def _refuse_entry_rewrites(session: Session, _ctx: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, CrisisEntry):
            raise PermissionError("crisis entries are append-only")
    for obj in session.dirty:
        if isinstance(obj, CrisisEntry) and session.is_modified(obj):
            raise PermissionError("crisis entries are append-only")


class CrisisDocumentKind(enum.StrEnum):
    GUARDIAN_NOTICE = "guardian_notice"  # 家长知情告知书
    SAFETY_PLEDGE = "safety_pledge"  # 安全承诺书 (where the centre uses it)


class CrisisDocument(Model):
    """One generated copy of a hand-over document, tracked from unsigned to signed, with the
    signed scan when one was uploaded (stored outside the web root, see `casework.scans`)."""

    __tablename__ = "crisis_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("crisis_record.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    kind: Mapped[CrisisDocumentKind] = mapped_column(
        db.Enum(CrisisDocumentKind, native_enum=False, length=20)
    )
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    generated_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The language the copy is printed in (`campus.documents.PRINT_LANGUAGES`): chosen when it is
    # generated, the institution's by default, never the language of whoever downloads it.
    language: Mapped[str] = mapped_column(String(10), default="zh_CN", server_default="zh_CN")
    signed_on: Mapped[date | None] = mapped_column(Date)
    signed_by_name: Mapped[str | None] = mapped_column(String(100))
    signed_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    scan_file: Mapped[str | None] = mapped_column(String(80))  # random name in the scan folder
    scan_type: Mapped[str | None] = mapped_column(String(40))  # its media type
    scan_size: Mapped[int | None] = mapped_column(Integer)
    scan_uploaded_at: Mapped[datetime | None] = mapped_column(DateTime)

    record: Mapped[CrisisRecord] = relationship()


class ContagionRelation(enum.StrEnum):
    ROOMMATE = "roommate"
    CLASSMATE = "classmate"
    WITNESS = "witness"
    FRIEND = "friend"
    OTHER = "other"


class ContagionFollowUp(StudentRecord, Model):
    """A student affected by a crisis nearby (a roommate, a classmate, a witness): their check-in
    task and their place on the follow-up list until a counsellor clears them or escalates."""

    __tablename__ = "contagion_follow_up"
    __table_args__ = (UniqueConstraint("record_id", "student_id", name="uq_contagion_student"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("crisis_record.id"), index=True)
    relation: Mapped[ContagionRelation] = mapped_column(
        db.Enum(ContagionRelation, native_enum=False, length=20)
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # "cleared" or "escalated"; empty while the student is on the list.
    outcome: Mapped[str | None] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(EncryptedText)  # why cleared/escalated: encrypted
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signal.id"))

    student: Mapped[Student] = relationship()
    record: Mapped[CrisisRecord] = relationship()


class CrisisSettings(Model):
    """An institution's crisis settings; no row means the defaults."""

    __tablename__ = "crisis_settings"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)
    # Whether the centre asks for a 安全承诺书 at hand-over (default on; see docs/architecture.md
    # on why a centre may turn it off).
    safety_pledge: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
