"""Early warning and intervention tables: signals, warnings, their timeline, deadlines and tasks.

A signal is one piece of evidence and is never edited; a warning is the one open case per student
that signals attach to. Deadlines are rows, not timers, so a restart loses nothing and the sweep is
one indexed query for what is due.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ColumnElement
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import aliased
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from campus import clock
from campus.encryption import EncryptedText
from campus.extensions import Model
from campus.extensions import db
from campus.i18n import Message
from campus.models import InstitutionRecord
from campus.models import Student
from campus.models import StudentRecord
from campus.models import User


class SignalSource(enum.StrEnum):
    SCREENING = "screening"
    CONCERN_REPORT = "concern_report"
    WEEKLY_REPORT = "weekly_report"
    ACADEMIC = "academic"
    LIFE_EVENT = "life_event"
    SELF_REFERRAL = "self_referral"
    COUNSELLOR = "counsellor"
    HOSPITAL = "hospital"
    TRAJECTORY = "trajectory"


class OwnerTier(enum.IntEnum):
    """Tiers of the response network, lowest first: escalation moves one step up."""

    DORM = 1
    CLASS = 2
    DEPARTMENT = 3
    SCHOOL = 4
    LEADERSHIP = 5


class WarningStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Signal(InstitutionRecord, Model):
    __tablename__ = "signal"
    __table_args__ = (Index("ix_signal_student_observed", "student_id", "observed_at"),)

    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    source: Mapped[SignalSource] = mapped_column(
        db.Enum(SignalSource, native_enum=False, length=20)
    )
    # Level the policy implied for this signal alone when it was recorded (0 none … 3 red).
    implied_level: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[str] = mapped_column(String(40))
    instrument: Mapped[str | None] = mapped_column(String(20))
    total: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[str] = mapped_column(String(500), default="")  # ";"-joined
    explicit_level: Mapped[int | None] = mapped_column(Integer)
    # Short evidence summary shown to department staff; never answers or clinical notes.
    label: Mapped[str] = mapped_column(String(300))
    # The label as a message id and its parameters, translated for each viewer (warning.labels);
    # NULL on rows recorded before labels had ids: those show the English ``label``.
    label_key: Mapped[str | None] = mapped_column(String(200))
    label_params: Mapped[dict | None] = mapped_column(JSON)
    evidence_type: Mapped[str | None] = mapped_column(String(40))  # e.g. "screening_result"
    evidence_id: Mapped[int | None] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: red, never lapses
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warning.id"), index=True)
    # The one-time token of the form that recorded it (a counsellor's judgement): a form sent
    # twice is one signal. NULL for signals no form of their own recorded.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)

    student: Mapped[Student] = relationship()

    @property
    def flag_set(self) -> frozenset[str]:
        return frozenset(f for f in self.flags.split(";") if f)


class EarlyWarning(Model):
    """The one open case per student (partial unique index), with its level, owner and deadlines."""

    __tablename__ = "warning"
    __table_args__ = (
        Index(
            "uq_warning_one_open_per_student",
            "student_id",
            unique=True,
            # Non-native enums store the member *name*; derive it so the predicate cannot drift.
            sqlite_where=text(f"status = '{WarningStatus.OPEN.name}'"),
            postgresql_where=text(f"status = '{WarningStatus.OPEN.name}'"),
        ),
        # The counsellor queue's default order (open first, red first, oldest first) read straight
        # off the index, so a page is the first 25 entries, not a sort of every warning.
        # The student id rides along (PostgreSQL) so the queue's total is an index-only count.
        Index(
            "ix_warning_queue",
            "institution_id",
            text("status DESC"),
            text("level DESC"),
            "opened_at",
            "id",
            postgresql_include=["student_id"],
        ),
        # A student's warnings (timeline, student page) without a scan of every warning.
        Index("ix_warning_student", "student_id"),
        Index("ix_warning_department", "department_id", "status"),
        # The KPI dashboard: an institution's warnings opened in a period, index-only on
        # PostgreSQL (the columns the counts group and count by are included).
        Index(
            "ix_warning_kpi",
            "institution_id",
            "opened_at",
            postgresql_include=["id", "department_id", "level", "student_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    # Copied from the student so the queue filters without a join; refreshed on roster changes.
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    status: Mapped[WarningStatus] = mapped_column(
        db.Enum(WarningStatus, native_enum=False, length=10), default=WarningStatus.OPEN
    )
    level: Mapped[int] = mapped_column(Integer)  # effective level (after any override)
    computed_level: Mapped[int] = mapped_column(Integer)  # what the policy says
    reason: Mapped[str] = mapped_column(String(500))  # "red: PHQ-9 item 9 = 2 in …"
    # ``reason`` as a message id and parameters for the viewer's language (warning.labels);
    # NULL on older rows and where the English was cut short: then ``reason`` is shown.
    reason_key: Mapped[str | None] = mapped_column(String(200))
    reason_params: Mapped[dict | None] = mapped_column(JSON)
    policy_version: Mapped[str] = mapped_column(String(40))
    override_level: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(String(500))
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    override_at: Mapped[datetime | None] = mapped_column(DateTime)
    owner_tier: Mapped[int] = mapped_column(Integer)  # OwnerTier
    owner_since: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    assigned_counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    close_outcome: Mapped[str | None] = mapped_column(String(500))
    review_date: Mapped[date | None] = mapped_column(Date)
    # Optimistic locking: a stale edit raises StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    student: Mapped[Student] = relationship()
    # The school counsellor whose case it is: who took it up first, or whom the centre chose.
    assigned_counsellor: Mapped[User | None] = relationship(
        foreign_keys=lambda: [EarlyWarning.assigned_counsellor_id]
    )
    signals: Mapped[list[Signal]] = relationship(order_by=Signal.observed_at)
    events: Mapped[list[WarningEvent]] = relationship(
        back_populates="warning", order_by="WarningEvent.at"
    )
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="warning", order_by="Deadline.due_at"
    )

    @property
    def awaits_counsellor(self) -> bool:
        """Open, and no counsellor of the centre has the case yet: one the centre may share out."""
        return self.status == WarningStatus.OPEN and self.assigned_counsellor_id is None


class WarningEvent(Model):
    """The warning's timeline: level changes, overrides, actions, escalations, closure."""

    __tablename__ = "warning_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # opened, signal_attached, level_changed, override, acknowledged, contact, guardian_notified,
    # guardian_attempt, guardian_contacted (no notice owed), assessment, peer_watch_assigned,
    # peer_check_in (a peer watch's day of company, the watch open),
    # follow_up_scheduled, escalated, superseded (a step a rise took off the old level's plan),
    # closed, reopened
    kind: Mapped[str] = mapped_column(String(30))
    from_level: Mapped[int | None] = mapped_column(Integer)
    to_level: Mapped[int | None] = mapped_column(Integer)
    from_tier: Mapped[int | None] = mapped_column(Integer)
    to_tier: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(30))  # phone, in person, message, …
    outcome: Mapped[str | None] = mapped_column(String(200))
    # A reason or label ``outcome`` as a message id and parameters (warning.labels), when it is one.
    outcome_key: Mapped[str | None] = mapped_column(String(200))
    outcome_params: Mapped[dict | None] = mapped_column(JSON)
    # Free text for staff at department level and above; never shown to class or dorm tiers.
    note: Mapped[str | None] = mapped_column(EncryptedText)
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signal.id"))

    warning: Mapped[EarlyWarning] = relationship(back_populates="events")

    @classmethod
    def of(
        cls, warning: EarlyWarning, actor: User | None, kind: str, now: datetime, **fields: Any
    ) -> WarningEvent:
        """A timeline entry of `warning`: what `actor` (None for the system) did at `now`."""
        return cls(
            warning_id=warning.id,
            at=now,
            actor_id=actor.id if actor else None,
            kind=kind,
            **fields,
        )


# `Deadline.still_owed` as the SQL of the sweep's partial index.
_STILL_OWED = "met_at IS NULL AND escalated_at IS NULL AND superseded_at IS NULL"


class Deadline(Model):
    """One response deadline of a warning; the escalation sweep reads only this table's index."""

    __tablename__ = "deadline"
    __table_args__ = (
        Index(
            "ix_deadline_due",
            "due_at",
            sqlite_where=text(_STILL_OWED),
            postgresql_where=text(_STILL_OWED),
        ),
        # Deadline compliance on the KPI dashboard: the deadlines due in a period, with what
        # the count needs included (PostgreSQL).
        Index(
            "ix_deadline_due_kpi",
            "due_at",
            postgresql_include=["warning_id", "kind", "met_at", "superseded_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), index=True)
    # acknowledge, assessment, guardian_notified, peer_watch, contact, check_in, follow_up
    kind: Mapped[str] = mapped_column(String(30))
    tier: Mapped[int] = mapped_column(Integer)  # owner tier responsible when it was set
    due_at: Mapped[datetime] = mapped_column(DateTime)
    met_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # No longer owed: the level changed or the warning closed. Neither met nor missed, so the
    # sweep skips it and compliance figures leave it out.
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The response policy version whose window set `due_at`; null for deadlines set before
    # response policies were versioned.
    response_policy_version: Mapped[str | None] = mapped_column(String(40))

    warning: Mapped[EarlyWarning] = relationship(back_populates="deadlines")

    @classmethod
    def still_owed(cls) -> ColumnElement[bool]:
        """A deadline neither met, escalated nor superseded: the one test of "still owed" that
        the sweep, the supersession, the queue and the task lists share (`_STILL_OWED` in SQL,
        the predicate of the sweep's partial index)."""
        return and_(cls.met_at.is_(None), cls.escalated_at.is_(None), cls.superseded_at.is_(None))

    @classmethod
    def missed_unanswered(cls) -> ColumnElement[bool]:
        """A deadline a tier let pass (escalated) of a step still not done: no later deadline of
        its warning and kind was met or ended since. The first of them is when the step has
        been overdue since, however often it was passed on."""
        later = aliased(Deadline)
        closed = or_(later.met_at.is_not(None), later.superseded_at.is_not(None))
        return and_(
            cls.escalated_at.is_not(None),
            ~exists().where(
                later.warning_id == cls.warning_id,
                later.kind == cls.kind,
                later.due_at > cls.due_at,
                closed,
            ),
        )


class TaskClosed(enum.StrEnum):
    """Why a task left its addressee's open list without her doing it: it is kept, closed, so the
    warning's history and the audit still show what was asked and what became of it."""

    MET = "met"  # what it served was done by someone else (a staff contact, the other peer)
    REPLACED = "replaced"  # the next cadence's task took its place
    ENDED = "ended"  # no longer owed: the level changed, the warning closed, a counsellor decided
    ESCALATED = "escalated"  # its deadline went past the class and the dorm to the department


class Task(InstitutionRecord, Model):
    """Work addressed to a tier or a person: peer watch, check-ins, follow-ups, plan items.

    `text` is written for its addressee: tasks for class and dorm tiers carry no clinical detail.
    It is the English text; `text_key` and `text_params`, when set, are its message id and values,
    so each reader sees it in their own language (as a warning's reason does). `done_at` ends it
    either way: done by `done_by_id`, or closed for `closed_reason` with no one's tick.
    """

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_open_due", "done_at", "due_at"),)

    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warning.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(500))
    text_key: Mapped[str | None] = mapped_column(String(200))
    text_params: Mapped[dict | None] = mapped_column(JSON)
    # Addressed to exactly one of: a user, a class, a room, a department; or to none of them:
    # the centre's, which its directors see and do (a review whose counsellor left its role).
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    assignee_class_id: Mapped[int | None] = mapped_column(ForeignKey("class_group.id"), index=True)
    assignee_room_id: Mapped[int | None] = mapped_column(ForeignKey("dorm_room.id"), index=True)
    assignee_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_note: Mapped[str | None] = mapped_column(String(500))
    closed_reason: Mapped[TaskClosed | None] = mapped_column(
        db.Enum(TaskClosed, native_enum=False, length=20)
    )
    # When its assignee was reminded of it on its day (a warning's review, `warning.review`).
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A peer watch's latest check-in by its peer (`warning.actions.check_in_on_watch`): the watch
    # stays open until its end, each day's company on the warning's timeline.
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)

    student: Mapped[Student | None] = relationship()

    @classmethod
    def saying(cls, text: Message, **fields: Any) -> Task:
        """A task whose text is `text`, kept with its message id and values so that each reader
        sees it in their own language."""
        return cls(text=text[:500], text_key=text.key, text_params=text.params, **fields)


class PolicyStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class PolicyKind(enum.StrEnum):
    """What a stored policy decides: warning levels, or who responds to them by when."""

    TRIAGE = "triage"
    RESPONSE = "response"


class PolicyVersion(InstitutionRecord, Model):
    """A stored triage or response policy of one institution; exactly one of each kind is active,
    its version is on every decision (triage) or deadline (response). The YAML text is kept
    verbatim so a past decision can be re-read under its policy."""

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("institution_id", "kind", "version"),
        Index(
            "uq_policy_one_active",
            "institution_id",
            "kind",
            unique=True,
            sqlite_where=text(f"status = '{PolicyStatus.ACTIVE.name}'"),
            postgresql_where=text(f"status = '{PolicyStatus.ACTIVE.name}'"),
        ),
    )

    kind: Mapped[PolicyKind] = mapped_column(
        db.Enum(PolicyKind, native_enum=False, length=10),
        default=PolicyKind.TRIAGE,
        server_default=PolicyKind.TRIAGE.name,
    )
    version: Mapped[str] = mapped_column(String(40))
    yaml_text: Mapped[str] = mapped_column(Text)
    status: Mapped[PolicyStatus] = mapped_column(
        db.Enum(PolicyStatus, native_enum=False, length=10), default=PolicyStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ConcernCategory(enum.StrEnum):
    LOW_MOOD = "low_mood"
    ISOLATION = "isolation"
    SLEEP = "sleep"
    CONFLICT = "conflict"
    SUICIDAL_TALK = "suicidal_talk"
    SELF_HARM = "self_harm"
    CRISIS_BEHAVIOUR = "crisis_behaviour"
    OTHER = "other"


# The concerns of someone who may be in danger now: the report goes through without a
# description (one is asked for, not required), so typing never delays the alarm it raises.
DANGER_CONCERNS = frozenset(
    {ConcernCategory.SUICIDAL_TALK, ConcernCategory.SELF_HARM, ConcernCategory.CRISIS_BEHAVIOUR}
)


class WeeklyReport(Model):
    """A class's or a dorm room's report for one ISO week; a zero report says all is well.

    Exactly one of class_id / room_id is set. The unique constraints make a double submit (or two
    reporters of one unit) fail instead of counting twice; NULLs never collide in either database.
    """

    __tablename__ = "weekly_report"
    __table_args__ = (
        UniqueConstraint("class_id", "week_start", name="uq_weekly_report_class_week"),
        UniqueConstraint("room_id", "week_start", name="uq_weekly_report_room_week"),
        Index("ix_weekly_report_institution_week", "institution_id", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("class_group.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("dorm_room.id"))
    week_start: Mapped[date] = mapped_column(Date)  # the Monday of the ISO week
    zero_report: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(1000))  # non-clinical observations
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filed_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # When it was last added to after `filed_at`: the week's note after an "all is well", a
    # concern report filed through the unit that week. Empty while it is as first filed.
    added_to_at: Mapped[datetime | None] = mapped_column(DateTime)


class ConcernReport(StudentRecord, Model):
    """A peer's ad-hoc concern about one student; it becomes a signal of source concern_report."""

    __tablename__ = "concern_report"

    category: Mapped[ConcernCategory] = mapped_column(
        db.Enum(ConcernCategory, native_enum=False, length=20)
    )
    text: Mapped[str] = mapped_column(EncryptedText)  # form limit: 2,000 characters
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    filed_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # Which of the filer's units it was filed through ("class" or "room"), for their own history.
    via: Mapped[str] = mapped_column(String(10))
    # When staff first acted on the warning the report fed after it was filed (the reporter is
    # told, without detail); empty until then. See `warning.reports.mark_followed_up`.
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The form's one-time token (`campus.forms.OnceForm`): a report sent twice is stored once, so a
    # double tap cannot make the two reports that raise a student to yellow. Empty for reports
    # filed before tokens and for the demo's.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The week's report of the unit it was filed through (`warning.reports`): a concern report
    # counts as that week's report, so the unit is not missing and "all is well" is refused for
    # it. Empty for reports filed before this rule.
    weekly_report_id: Mapped[int | None] = mapped_column(ForeignKey("weekly_report.id"), index=True)

    student: Mapped[Student] = relationship()


class AcademicRecord(StudentRecord, Model):
    """One student's registrar data for one term; re-importing a term updates it in place."""

    __tablename__ = "academic_record"
    __table_args__ = (UniqueConstraint("student_id", "term"),)

    term: Mapped[str] = mapped_column(String(20))
    failed_credits: Mapped[float] = mapped_column(Float)
    academic_warning: Mapped[bool] = mapped_column(Boolean)
    absence_rate: Mapped[float] = mapped_column(Float)  # 0..1
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LifeEventKind(enum.StrEnum):
    BEREAVEMENT = "bereavement"
    FAMILY_CHANGE = "family_change"
    FINANCIAL_HARDSHIP = "financial_hardship"
    DISCIPLINARY_ACTION = "disciplinary_action"
    INTERPERSONAL_ISOLATION = "interpersonal_isolation"


class LifeEvent(StudentRecord, Model):
    """A life event entered by department staff; it becomes a signal of source life_event."""

    __tablename__ = "life_event"

    kind: Mapped[LifeEventKind] = mapped_column(
        db.Enum(LifeEventKind, native_enum=False, length=30)
    )
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(EncryptedText)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The form's one-time token (`campus.forms.OnceForm`): sent twice, one event and one signal.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)
