"""The campus: institutions, their units, people and the roles they hold.

Roles are assignments with a scope (a counsellor *of department X*), so one person can hold
several and every authorization question is answered from this table, never from a flag on the user.
"""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING, cast

from flask_login import UserMixin
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import ColumnElement
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy import or_
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.orm import with_loader_criteria

from campus import clock
from campus.encryption import EncryptedText
from campus.extensions import Model
from campus.extensions import db


class Role(enum.StrEnum):
    """Every role the product knows, with the scope each is held over (see `ROLE_SCOPE`)."""

    STUDENT = "student"
    DORM_INFORMANT = "dorm_informant"
    CLASS_COMMITTEE = "class_committee"
    DEPT_COUNSELLOR = "dept_counsellor"
    DEPT_LEADER = "dept_leader"
    SCHOOL_COUNSELLOR = "school_counsellor"
    DIRECTOR = "director"
    HOSPITAL_LIAISON = "hospital_liaison"
    ADMIN = "admin"
    PROVINCE_AUDITOR = "province_auditor"


class ScopeKind(enum.StrEnum):
    SELF = "self"
    ROOM = "room"
    CLASS = "class"
    DEPARTMENT = "department"
    INSTITUTION = "institution"
    HOSPITAL = "hospital"
    PROVINCE = "province"


ROLE_SCOPE: dict[Role, ScopeKind] = {
    Role.STUDENT: ScopeKind.SELF,
    Role.DORM_INFORMANT: ScopeKind.ROOM,
    Role.CLASS_COMMITTEE: ScopeKind.CLASS,
    Role.DEPT_COUNSELLOR: ScopeKind.DEPARTMENT,
    Role.DEPT_LEADER: ScopeKind.DEPARTMENT,
    Role.SCHOOL_COUNSELLOR: ScopeKind.INSTITUTION,
    Role.DIRECTOR: ScopeKind.INSTITUTION,
    Role.HOSPITAL_LIAISON: ScopeKind.HOSPITAL,
    Role.ADMIN: ScopeKind.INSTITUTION,
    Role.PROVINCE_AUDITOR: ScopeKind.PROVINCE,
}
# A student's own unit of each kind, as the column naming it; a peer role is held over the
# holder's own unit (the class committee member's class, the dorm informant's room).
STUDENT_UNIT = {ScopeKind.CLASS: "class_id", ScopeKind.ROOM: "room_id"}
PEER_UNIT = {role: STUDENT_UNIT[kind] for role, kind in ROLE_SCOPE.items() if kind in STUDENT_UNIT}


def name_for(name: str, name_en: str | None, locale: str) -> str:
    """The name to show a reader of `locale`: the English form to English readers, the Chinese
    one to everyone else, each falling back to the other when only one was entered."""
    if locale.startswith("en"):
        return name_en or name
    return name or name_en or ""


class BilingualName:
    """A name people enter for others to read (an institution, a hospital, a campaign): the
    Chinese form in `name`, the English one in `name_en` (optional), shown by reader's locale."""

    if TYPE_CHECKING:
        name: Mapped[str]  # each table declares its own `name` (unique per institution or not)
    name_en: Mapped[str | None] = mapped_column(String(200))

    def name_in(self, locale: str) -> str:
        return name_for(self.name, self.name_en, locale)


class InstitutionRecord:
    """A row that belongs to one institution: an integer key and the institution, indexed.

    Every page and job reads only its own institution's rows, so every such table filters on
    `institution_id` and keeps an index on it. A table whose institution column differs (unique,
    unindexed, part of the key) declares its own instead. `sort_order` puts these columns first
    in the table (a mixin's columns would otherwise follow the model's own).
    """

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-3)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id"), index=True, sort_order=-2
    )


class StudentRecord(InstitutionRecord):
    """A row about one student of one institution: a record's scope check and a student's
    history both filter on `student_id`, so it is required and indexed too."""

    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True, sort_order=-1)


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    ON_LEAVE = "on_leave"
    GRADUATED = "graduated"
    WITHDRAWN = "withdrawn"
    # Entered in error and removed (`campus.roster_corrections`): not a student, never was. The
    # row stays only so the audit trail can still name who was looked at; no read sees it unless
    # it asks for `WITH_REMOVED_STUDENTS`.
    REMOVED = "removed"


class Institution(BilingualName, Model):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # "university" for a school; "province" for the provincial office that audits them.
    kind: Mapped[str] = mapped_column(String(20), default="university")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    on_duty_phone: Mapped[str | None] = mapped_column(String(40))
    # When the institution started using Xinqiao: no weekly report is owed for a week before it,
    # so the first scheduler tick does not escalate the months before anyone could report.
    live_since: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # Whether its people may sign in with a Xinqiao password; off where the campus sign-on
    # (`SignOn`) is the only way in. `flask campus local-passwords CODE on` is the way back in
    # should the campus service be misconfigured.
    local_passwords: Mapped[bool] = mapped_column(Boolean, default=True)

    departments: Mapped[list[Department]] = relationship(back_populates="institution")


class Department(InstitutionRecord, Model):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))

    institution: Mapped[Institution] = relationship(back_populates="departments")
    classes: Mapped[list[ClassGroup]] = relationship(back_populates="department")


class ClassGroup(Model):
    """A class (班级): the unit of the class psychology committee member."""

    __tablename__ = "class_group"
    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[int] = mapped_column(index=True)

    department: Mapped[Department] = relationship(back_populates="classes")


class DormBuilding(InstitutionRecord, Model):
    __tablename__ = "dorm_building"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))


class DormRoom(Model):
    __tablename__ = "dorm_room"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("dorm_building.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))

    building: Mapped[DormBuilding] = relationship()

    @property
    def label(self) -> str:
        return self.label_of(self.building.name, self.number)

    @staticmethod
    def label_of(building: str, number: str) -> str:
        """A room as people write it: building, dash, number (东2栋-410)."""
        return f"{building}-{number}"


class Hospital(BilingualName, InstitutionRecord, Model):
    """A partner hospital of an institution; part of the campus so liaison roles can be scoped."""

    def department_in(self, locale: str) -> str | None:
        """The department in `locale`'s language, as `name_in` gives the hospital's name."""
        if not (self.department or self.department_en):
            return None
        return name_for(self.department or "", self.department_en, locale)

    __tablename__ = "hospital"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    # The department in English (optional), for documents printed in English.
    department_en: Mapped[str | None] = mapped_column(String(200))
    green_channel_contact: Mapped[str | None] = mapped_column(String(200))


class User(UserMixin, InstitutionRecord, Model):
    """An account. Students and staff sign in with institution + number + password."""

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("institution_id", "login"),)

    login: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # A staff member's work phone, e.g. for a hospital to call the referring counsellor back;
    # never shown to students or peers.
    phone: Mapped[str | None] = mapped_column(String(40))

    institution: Mapped[Institution] = relationship()
    # Only the assignments working now (see `_only_live_roles`); ended ones are the history.
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="RoleAssignment.user_id"
    )
    student: Mapped[Student | None] = relationship(
        back_populates="user", foreign_keys="Student.user_id"
    )

    # Set by the session loader: Flask-Login's id is the server-side session token, so a
    # logout or idle timeout ends the session even if someone kept the cookie. Not a column (so
    # typed by a cast: the ORM reads every class annotation as a mapped column).
    session_token = cast("str | None", None)

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return any(assignment.role in roles for assignment in self.roles)

    def assignments(self, *roles: Role) -> list[RoleAssignment]:
        return [a for a in self.roles if a.role in roles]

    @property
    def role_names(self) -> list[str]:
        return sorted({a.role.value for a in self.roles})


class RoleEnd(enum.StrEnum):
    """Why an assignment ended before (or without) its last day; none: its end date passed."""

    REMOVED = "removed"  # an administrator removed it on the user's page
    REVIEW = "review"  # an administrator ended it in the termly access review
    LEFT_UNIT = "left_unit"  # a roster import moved the student out of the unit, or out of school


class RoleAssignment(InstitutionRecord, Model):
    """One role held over one scope; exactly the scope column that `ROLE_SCOPE` names is set.

    An assignment works from `since` until `ends_at`. Every ORM read of this table sees only the
    working ones (`_only_live_roles`), so an ended role stops working at once everywhere: route
    guards, scopes, recipients, weekly-report duties, navigation. Ended rows are kept: they are
    the user's history, read with ``execution_options(with_ended_roles=True)``.
    """

    __tablename__ = "role_assignment"
    __table_args__ = (
        # One open-ended assignment per role and scope; a role can be given again once its
        # last holding has ended. Dated ones are held to the same by `admin.check_assign_role`.
        Index(
            "uq_role_assignment_open",
            "user_id",
            "role",
            "department_id",
            "class_id",
            "room_id",
            "hospital_id",
            unique=True,
            sqlite_where=text("ends_at IS NULL"),
            postgresql_where=text("ends_at IS NULL"),
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("class_group.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("dorm_room.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospital.id"))
    # When the role was given: a class or room owes weekly reports from its reporter's first week.
    since: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The last day the role works, a date of the institution's calendar (None: until removed).
    until: Mapped[date | None] = mapped_column(Date)
    # The moment it stops working (naive UTC): the midnight after `until` in the institution's
    # zone, or when an administrator ended it.
    ends_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    end_reason: Mapped[RoleEnd | None] = mapped_column(
        db.Enum(RoleEnd, native_enum=False, length=16)
    )
    # When the holder and the administrators were told the end is near (once per end date).
    end_notice_sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])
    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    department: Mapped[Department | None] = relationship()
    class_group: Mapped[ClassGroup | None] = relationship()
    room: Mapped[DormRoom | None] = relationship()
    hospital: Mapped[Hospital | None] = relationship()

    def live_at(self, moment: datetime) -> bool:
        return self.ends_at is None or self.ends_at > moment

    @classmethod
    def working_at(cls, moment: datetime) -> ColumnElement[bool]:
        """`live_at` in SQL, for a read that asks for `WITH_ENDED_ROLES` and decides at a moment
        of its own (a sweep's `now`) instead of the clock's."""
        return or_(cls.ends_at.is_(None), cls.ends_at > moment)


# The execution option that lets a read see ended assignments too (history, review, duties).
WITH_ENDED_ROLES = "with_ended_roles"


@event.listens_for(Session, "do_orm_execute")
def _only_live_roles(state: ORMExecuteState) -> None:
    """Every ORM SELECT that touches `RoleAssignment` (as entity, column, join, subquery or
    relationship load) sees only the assignments working at `clock.now()`, unless it asks for
    `WITH_ENDED_ROLES`: the one place where an ended role stops counting. A bare
    `exists().where(RoleAssignment...)` is not reached; write `select(RoleAssignment.id)
    .where(...).exists()`."""
    if not state.is_select or state.execution_options.get(WITH_ENDED_ROLES):
        return
    now = clock.now()
    state.statement = state.statement.options(
        with_loader_criteria(
            RoleAssignment,
            lambda cls: or_(cls.ends_at.is_(None), cls.ends_at > now),
            include_aliases=True,
        )
    )


# The execution option that lets a read see students removed as entered in error (the audit
# trail, which still names them; the removal itself).
WITH_REMOVED_STUDENTS = "with_removed_students"


@event.listens_for(Session, "do_orm_execute")
def _no_removed_students(state: ORMExecuteState) -> None:
    """Every ORM SELECT that touches `Student` (as entity, column, join, subquery or
    relationship load) leaves out the students removed as entered in error, unless it asks for
    `WITH_REMOVED_STUDENTS`: the one place where such a student stops being anyone's student,
    in every cohort, roster, list, count, search and export."""
    if not state.is_select or state.execution_options.get(WITH_REMOVED_STUDENTS):
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            Student,
            lambda cls: cls.enrolment_status != EnrolmentStatus.REMOVED,
            include_aliases=True,
        )
    )


class Student(Model):
    __tablename__ = "student"
    __table_args__ = (
        # A number is one student's among those not removed: a number entered in error is free
        # for the student it really is.
        Index(
            "uq_student_number_live",
            "institution_id",
            "student_number",
            unique=True,
            sqlite_where=text("enrolment_status != 'REMOVED'"),
            postgresql_where=text("enrolment_status != 'REMOVED'"),
        ),
        Index("ix_student_scope", "institution_id", "department_id", "class_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    student_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    # Empty only on a student removed as entered in error (`EnrolmentStatus.REMOVED`), whom no
    # read but the audit trail's sees: she keeps no personal detail, and names no unit, which
    # may then be removed in turn.
    gender: Mapped[str] = mapped_column(String(10), nullable=True)
    birth_date: Mapped[date] = mapped_column(Date, nullable=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id"), index=True, nullable=True
    )
    class_id: Mapped[int] = mapped_column(ForeignKey("class_group.id"), index=True, nullable=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("dorm_room.id"), index=True)
    guardian_name: Mapped[str | None] = mapped_column(String(100))
    guardian_phone: Mapped[str | None] = mapped_column(String(40))
    # Who corrected the guardian on file from the family-contact side, and when (None: as the
    # roster gave it). A roster import keeps such a correction against a file that differs
    # (`campus.roster`); the audit trail keeps each correction's old and new values.
    guardian_corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    guardian_corrected_at: Mapped[datetime | None] = mapped_column(DateTime)
    enrolment_status: Mapped[EnrolmentStatus] = mapped_column(
        db.Enum(EnrolmentStatus, native_enum=False, length=20), default=EnrolmentStatus.ENROLLED
    )

    institution: Mapped[Institution] = relationship()
    user: Mapped[User | None] = relationship(back_populates="student", foreign_keys=[user_id])
    department: Mapped[Department] = relationship()
    class_group: Mapped[ClassGroup] = relationship()
    room: Mapped[DormRoom | None] = relationship()
    guardian_corrected_by: Mapped[User | None] = relationship(
        foreign_keys=[guardian_corrected_by_id]
    )

    def is_minor(self, today: date) -> bool:
        """Under 18 on `today`: guardian consent is needed for screening and for a hospital
        referral."""
        had_birthday = (today.month, today.day) >= (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - (0 if had_birthday else 1) < 18


class Caseload(Model):
    """A school counsellor's caseload: whose full record they may open without break-glass."""

    __tablename__ = "caseload"
    __table_args__ = (UniqueConstraint("counsellor_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    since: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class BreakGlassGrant(Model):
    """Time-limited access to a record outside one's caseload, always with a reason."""

    __tablename__ = "break_glass_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class UserSession(Model):
    """Server-side session: the cookie carries only `token`; it ends at logout or idle timeout."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    # How the user signed in: "password", or the campus sign-on's protocol ("cas", "oidc").
    signed_in_with: Mapped[str] = mapped_column(String(10), default="password")
    # The CAS service ticket this session was started with: the CAS server's single-logout
    # request names it, and it is never accepted twice.
    sign_on_ticket: Mapped[str | None] = mapped_column(String(256), index=True)


class SignOnProtocol(enum.StrEnum):
    CAS = "cas"
    OIDC = "oidc"


class SignOn(Model):
    """An institution's campus sign-on (统一身份认证): its CAS server or OpenID provider.

    The OpenID client secret is never stored here: `client_secret_env` names the environment
    variable of the server that holds it.
    """

    __tablename__ = "sign_on"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), unique=True)
    protocol: Mapped[SignOnProtocol] = mapped_column(
        db.Enum(SignOnProtocol, native_enum=False, length=10)
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The CAS server's base URL (…/cas/) or the OpenID issuer.
    server_url: Mapped[str] = mapped_column(String(500))
    cas_version: Mapped[int | None]
    # The CAS attribute or OpenID claim that holds the login (or student number); empty: the
    # CAS user, or `preferred_username`.
    identity_attribute: Mapped[str | None] = mapped_column(String(100))
    client_id: Mapped[str | None] = mapped_column(String(200))
    client_secret_env: Mapped[str | None] = mapped_column(String(100))
    # The campus service asks for a second factor itself (read by two-factor sign-in).
    idp_enforces_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    institution: Mapped[Institution] = relationship()


class TotpEnrolment(Model):
    """A user's second factor: the authenticator app's secret, encrypted at rest with the
    field-encryption keys (`campus.encryption`), saved only once a code made from it was typed
    back. `last_used_step` is the time step of the last code accepted: no code of that step or
    before counts again."""

    __tablename__ = "totp_enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    secret: Mapped[str] = mapped_column(EncryptedText)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Model):
    """One of a user's single-use recovery codes, stored as an argon2 hash only."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class MfaPolicy(Model):
    """An institution's own choice of the roles that must sign in with a second factor; without
    a row, the configured default (MFA_REQUIRED_ROLES) applies. `required_roles` holds role
    values separated by commas; empty means no role must."""

    __tablename__ = "mfa_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), unique=True)
    required_roles: Mapped[str] = mapped_column(String(400), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(value) for value in self.required_roles.split(",") if value)


class NotificationChannel(InstitutionRecord, Model):
    """Where an institution's notes also go outside the app: a WeCom or DingTalk group robot, or
    an SMS gateway (kinds in `campus.channels.ADAPTERS`), for one role or (role empty) for all.

    `target_url` and `secret` are credentials (a robot's webhook key is in its URL): pages show
    them masked, never in full.
    """

    __tablename__ = "notification_channel"

    role: Mapped[Role | None] = mapped_column(db.Enum(Role, native_enum=False, length=32))
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    target_url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200))
    # The SMS gateway's recipient, e.g. the duty counsellor's mobile; robots post to their group.
    phone: Mapped[str | None] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The form's one-time token (`campus.forms.OnceForm`): a channel sent twice is one channel, so
    # a double submit cannot post every note twice into a group.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)


class StaffPost(enum.StrEnum):
    FULL_TIME = "full_time"  # 专职心理健康教育教师
    PART_TIME = "part_time"  # 兼职


class StaffingEntry(InstitutionRecord, Model):
    """One person's post in the institution's mental-health teacher register (心理健康教育教师).

    The national staffing ratio counts full-time teachers from this register, not role holders: a
    department counsellor (辅导员) is not one, and a teacher may have no account at all. `ends_on`
    is the last day in post (inclusive); empty while they are still in post.
    """

    __tablename__ = "staffing_entry"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    person_name: Mapped[str] = mapped_column(String(100))
    post: Mapped[StaffPost] = mapped_column(db.Enum(StaffPost, native_enum=False, length=20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    # The form's one-time token (`campus.forms.OnceForm`): an entry sent twice is one post, so a
    # double submit cannot count a teacher twice in the staffing ratio.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)

    user: Mapped[User | None] = relationship()


class ActivationBatch(InstitutionRecord, Model):
    """One printing of activation slips: who issued codes for which cohort, when, and how many.

    The cohort is a class (`class_id`), a department's grade (`department_id` + `grade`) or the
    institution's whole grade (`grade` alone). The codes themselves are shown once and kept only
    hashed, in `ActivationCode`.
    """

    __tablename__ = "activation_batch"

    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("class_group.id"))
    grade: Mapped[int] = mapped_column()
    valid_days: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    issued_count: Mapped[int] = mapped_column(default=0)
    # Students of the cohort left out because they already have a password.
    skipped_count: Mapped[int] = mapped_column(default=0)
    # The issuing form's one-time token: a reload of the print page issues nothing new.
    submission: Mapped[str | None] = mapped_column(String(40), unique=True)
    # One student of the class (a lost slip), whose classmates' slips are left as they are.
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id"))

    issued_by: Mapped[User] = relationship()
    department: Mapped[Department | None] = relationship()
    class_group: Mapped[ClassGroup | None] = relationship()
    student: Mapped[Student | None] = relationship()


class ActivationCode(Model):
    """A one-time code for a first sign-in: argon2-hashed, expiring, used once. A newer batch
    replaces a student's unused code (`replaced_at`)."""

    __tablename__ = "activation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("activation_batch.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime)


class ReviewOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    ENDED = "ended"


class AccessReview(InstitutionRecord, Model):
    """One term's access review of an institution: an administrator opens it, and by `deadline`
    (a local date) confirms or ends every staff assignment given before it opened."""

    __tablename__ = "access_review"
    __table_args__ = (UniqueConstraint("institution_id", "term_key"),)

    term_key: Mapped[str] = mapped_column(String(24))  # `oversight.periods` key: term:2026-autumn
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    deadline: Mapped[date] = mapped_column(Date)

    opened_by: Mapped[User] = relationship()


class AccessReviewDecision(Model):
    """What the review decided for one assignment, when and by whom."""

    __tablename__ = "access_review_decision"
    __table_args__ = (UniqueConstraint("review_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("access_review.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("role_assignment.id"), index=True)
    outcome: Mapped[ReviewOutcome] = mapped_column(
        db.Enum(ReviewOutcome, native_enum=False, length=16)
    )
    reviewed_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    reviewed_by: Mapped[User] = relationship()
