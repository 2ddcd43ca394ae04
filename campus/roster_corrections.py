"""A student added by mistake, or with a typo: her number and name corrected, or she is removed
while nothing is recorded about her but that somebody looked at her.

A roster import, or a row typed twice, can add someone who is not a student here: a mistyped
student number, a duplicate row, the wrong person. Such a student is removed, with her account,
only while no row of any table names her (found from the metadata's foreign keys, as
`campus.structure` finds what holds a unit): no screening answer or result, warning, signal,
contact, interview, appointment, referral, leave, consent, peer report, document, sign-in...
That she was looked at or corrected does not keep her: the audit trail names every student
listed on a page (the screening's "not completed yet" list names exactly the students added by
mistake), and it is never rewritten. So a removed student's row stays as a tombstone, enrolment
status `REMOVED`: her name and number only (no account, personal detail or unit), in no list,
count or search (see `campus.models.WITH_REMOVED_STUDENTS`), her number free for the student it
really is, named only by the audit trail, which says she was removed as entered in error. A
student nothing names is made a tombstone the same way rather than deleted: her id is never
given to another student (SQLite reuses the highest id), and the removal's own audit row names
her. What goes with her is what only set her up: her own role rows, her unused activation codes
(and a lost-slip batch printed for her alone), the notes addressed to her account and, declared
by a domain with `register_leaves_with`, rows that only list her as due (a screening she has not
started). A student about whom anything is recorded stays; her enrolment is ended instead, by
the roster import's 学籍状态 column (毕业, 退学, 休学), and her records are kept.

Writes check first, raise a `campus.outcomes.Refused` having written nothing, then make the
change with its audit row in one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus.audit import AuditEvent
from campus.extensions import Model
from campus.extensions import rows_changed
from campus.i18n import N_
from campus.i18n import Message
from campus.models import WITH_ENDED_ROLES
from campus.models import WITH_REMOVED_STUDENTS
from campus.models import ActivationBatch
from campus.models import ActivationCode
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from campus.notifications import OutboxMail
from campus.outcomes import Refused
from campus.roster import number_problem
from campus.spreadsheets import FORMULA_START

# Rows of one table, chosen by a condition on it.
Rows = tuple[Table, ColumnElement[bool]]
# A domain's rows that leave with a removed student: the table and which of its rows, for her.
Leaves = Callable[[Student], Rows]
REMOVED_ACTION = "remove_student"
NUMBER_MAX = 32  # `Student.student_number`
NAME_MAX = 100  # `Student.name`, `User.name`
REASON_MAX = 500  # `AuditEvent.reason`
# The audit trail's column naming the student a row is about: such rows say she was looked at or
# corrected, which does not keep her (they stay, naming her tombstone).
# What a removed student's tombstone no longer holds: her account, personal details and units.
TOMBSTONE_EMPTY = (
    "user_id",
    "gender",
    "birth_date",
    "department_id",
    "class_id",
    "room_id",
    "guardian_name",
    "guardian_phone",
    "guardian_corrected_by_id",
    "guardian_corrected_at",
)
LOOKED_AT = AuditEvent.__table__.c.student_id


class StudentKept(Refused):
    """A removal or correction the rules refuse; `message` says why."""


class AlreadyRemoved(Refused):
    """The student was removed by another request (a second click) before this one."""


def register_leaves_with(app: Flask, leaves: Leaves) -> None:
    """Declare, in a domain's `registration.py`, rows of its own that only list a student (a
    screening she is due to take and has not started): they go with her when she is removed,
    instead of keeping her."""
    app.extensions.setdefault("xinqiao_leaves_with_student", []).append(leaves)


def leaving(app: Flask) -> list[Leaves]:
    return list(app.extensions.get("xinqiao_leaves_with_student", []))


# What a row of each table is, as the removal page counts them; a table not named here counts
# as "other records" (tests/campus/test_remove_student.py names every table about a student).
RECORD_WORDS: dict[str, str] = {
    "academic_record": N_("Academic records"),
    "activation_batch": N_("Activation slips"),
    "activation_code": N_("Activation codes used"),
    "appointment": N_("Counselling appointments"),
    "appointment_precheck": N_("Appointment pre-checks"),
    "audit_event": N_("Audit trail entries (the student's records were opened or changed)"),
    "booking_bar_lift": N_("Booking bars lifted"),
    "break_glass_grant": N_("Break-glass accesses"),
    "caseload": N_("Counsellors' caseloads"),
    "concern_report": N_("Concern reports"),
    "consent_withdrawal": N_("Consent withdrawals"),
    "contagion_follow_up": N_("Follow-ups after a crisis nearby"),
    "crisis_document": N_("Crisis documents"),
    "crisis_entry": N_("Crisis record entries"),
    "crisis_record": N_("Crisis records"),
    "erasure_request": N_("Erasure requests"),
    "family_contact": N_("Family contacts"),
    "interview_entry": N_("Post-screening interviews"),
    "leave_of_absence": N_("Leaves of absence"),
    "legal_hold": N_("Legal holds"),
    "life_event": N_("Life events"),
    "referral": N_("Hospital referrals"),
    "screening_assignment": N_("Screenings started"),
    "screening_consent": N_("Screening consents"),
    "screening_draft": N_("Screening answers in progress"),
    "screening_result": N_("Screening results"),
    "session_note": N_("Counselling session notes"),
    "session_note_addendum": N_("Counselling session notes"),
    "session_outcome": N_("Counselling session outcomes"),
    "signal": N_("Risk signals"),
    "student_departure": N_("Departure records"),
    "task": N_("Tasks"),
    "waitlist_entry": N_("Waitlist entries"),
    "warning": N_("Warnings"),
    "warning_event": N_("Warning timeline entries"),
    "weekly_report": N_("Weekly reports filed by the account"),
    "user_session": N_("Sign-ins to the account"),
    "totp_enrolment": N_("Two-factor sign-in set up"),
    "recovery_code": N_("Two-factor recovery codes"),
    "role_assignment": N_("Roles given or ended by the account"),
    "access_review_decision": N_("Access review decisions on the account's roles"),
    "staffing_entry": N_("Staffing register entries"),
}
OTHER_RECORDS = N_("Other records")


# --- reads -----------------------------------------------------------------------------------


def find_student(session: Session, institution: Institution, student_id: int) -> Student | None:
    """Student `student_id` if she is `institution`'s; None for a forged or foreign id."""
    return session.scalar(
        select(Student).where(Student.id == student_id, Student.institution_id == institution.id)
    )


def find_removed(session: Session, institution: Institution, student_id: int) -> Student | None:
    """Student `student_id` of `institution` if she was removed as entered in error: her
    tombstone, for her old pages to say so."""
    return session.scalar(
        select(Student)
        .where(
            Student.id == student_id,
            Student.institution_id == institution.id,
            Student.enrolment_status == EnrolmentStatus.REMOVED,
        )
        .execution_options(**{WITH_REMOVED_STUDENTS: True})
    )


def was_removed(session: Session, institution: Institution, student_id: int) -> bool:
    """Whether student `student_id` of `institution` was removed (by a first click of two)."""
    return find_removed(session, institution, student_id) is not None


def times_looked_at(session: Session, student: Student) -> int:
    """How many audit trail rows name `student`: they stay, naming her once she is removed."""
    counted = select(func.count(AuditEvent.id)).where(AuditEvent.student_id == student.id)
    return int(session.scalar(counted) or 0)


def _table(model: type[Model]) -> Table:
    table: Table = model.__table__  # type: ignore[assignment]
    return table


def _going(student: Student, also: Sequence[Leaves]) -> dict[str, Rows]:
    """The rows that go with `student`, by table: she herself, her account and what only set
    them up."""
    going: dict[str, Rows] = {
        "student": (_table(Student), Student.id == student.id),
        "activation_batch": (_table(ActivationBatch), ActivationBatch.student_id == student.id),
    }
    if student.user_id is not None:
        user_id = student.user_id
        going |= {
            "user_account": (_table(User), User.id == user_id),
            "role_assignment": (_table(RoleAssignment), RoleAssignment.user_id == user_id),
            "activation_code": (
                _table(ActivationCode),
                and_(ActivationCode.user_id == user_id, ActivationCode.used_at.is_(None)),
            ),
            "notification": (_table(Notification), Notification.user_id == user_id),
            "outbox_mail": (
                _table(OutboxMail),
                OutboxMail.notification_id.in_(
                    select(Notification.id).where(Notification.user_id == user_id)
                ),
            ),
        }
    for leaves in also:
        table, rows = leaves(student)
        going[table.name] = (table, rows)
    return going


def recorded(session: Session, student: Student, also: Sequence[Leaves] = ()) -> dict[str, int]:
    """How many rows of each table name `student`, her account or what would go with them,
    other than those that go too and audit rows saying she was looked at (`LOOKED_AT`), by table
    name; tables without any are left out. One statement, a count a table."""
    going = _going(student, also)
    counts = []
    for table in Model.metadata.sorted_tables:
        naming = []
        for key in table.foreign_keys:
            target = going.get(key.column.table.name)
            if target is None or key.parent is LOOKED_AT:
                continue
            target_table, rows = target
            naming.append(key.parent.in_(select(key.column).select_from(target_table).where(rows)))
        if not naming:
            continue
        where: ColumnElement[bool] = or_(*naming)
        if table.name in going:
            where = and_(where, not_(going[table.name][1]))
        counted = select(func.count()).select_from(table).where(where).scalar_subquery()
        counts.append(counted.label(table.name))
    row = session.execute(select(*counts).execution_options(**{WITH_ENDED_ROLES: True})).one()
    return {name: int(n) for name, n in row._mapping.items() if n}


@dataclass(frozen=True)
class Kept:
    """What keeps a student: each kind of record in words, with how many."""

    counts: list[tuple[str, int]]

    def __bool__(self) -> bool:
        return bool(self.counts)


def what_keeps(session: Session, student: Student, also: Sequence[Leaves] = ()) -> Kept:
    """The records that keep `student` from removal, in words (English `N_` ids to show with
    `gettext`) with their counts, most first; empty when she may be removed."""
    by_words: dict[str, int] = {}
    for table, number in recorded(session, student, also).items():
        words = RECORD_WORDS.get(table, OTHER_RECORDS)
        by_words[words] = by_words.get(words, 0) + number
    return Kept(sorted(by_words.items(), key=lambda item: (-item[1], item[0])))


# --- changes ---------------------------------------------------------------------------------


KEPT = N_(
    "%(name)s cannot be removed: records about this student are kept. End the enrolment "
    "with a roster import instead."
)


def check_remove(
    session: Session, student: Student, reason: str, also: Sequence[Leaves] = ()
) -> str:
    """The reason, trimmed, once `student` may be removed: a reason is given and nothing is
    recorded about her (but that she was looked at). Raises `StudentKept` saying which, and
    writes nothing."""
    reason = reason.strip()
    if not reason:
        raise StudentKept(Message(N_("Say why this student is removed.")))
    if len(reason) > REASON_MAX:
        raise StudentKept(Message(N_("At most %(max)s characters."), max=REASON_MAX))
    if what_keeps(session, student, also):
        raise StudentKept(Message(KEPT, name=student.name))
    return reason


def remove(
    session: Session,
    admin: User,
    institution: Institution,
    student: Student,
    reason: str,
    also: Sequence[Leaves] = (),
) -> None:
    """Remove `student` (found with `find_student`) as entered in error once `check_remove`
    lets it: her account and what only set them up are deleted, and her row becomes a tombstone
    (status `REMOVED`, her name and number only) that only the audit trail sees; audited
    with who, why, her number and name, in one commit. A second request for the same student
    raises `AlreadyRemoved`; a record written about her meanwhile refuses it, leaving everything
    as it was."""
    student_id = student.id
    # Locked first (PostgreSQL): a record about her being written waits for the removal to end,
    # and one written just before is seen by the check.
    locked = session.scalar(
        select(Student.enrolment_status)
        .where(Student.id == student_id)
        .with_for_update()
        .execution_options(**{WITH_REMOVED_STUDENTS: True})
    )
    if locked is None or locked is EnrolmentStatus.REMOVED:
        session.rollback()
        raise AlreadyRemoved(Message(N_("%(name)s was removed already."), name=student.name))
    reason = check_remove(session, student, reason, also)
    number, name = student.student_number, student.name
    going = _going(student, also)
    students = _table(Student)
    try:
        left = rows_changed(
            session,
            update(students)
            .where(
                students.c.id == student_id,
                students.c.enrolment_status != EnrolmentStatus.REMOVED,
            )
            .values(
                {name: None for name in TOMBSTONE_EMPTY}
                | {"enrolment_status": EnrolmentStatus.REMOVED}
            ),
        )
        if not left:
            raise AlreadyRemoved(Message(N_("%(name)s was removed already."), name=name))
        # Rows that name another before it: what only set her up, then her account.
        for table in reversed(Model.metadata.sorted_tables):
            if table.name in going and table.name != "student":
                statement = delete(table).where(going[table.name][1])
                session.execute(statement.execution_options(**{WITH_ENDED_ROLES: True}))
        audit.record(
            session,
            actor=admin,
            action=REMOVED_ACTION,
            record_type="student",
            record_id=student_id,
            institution_id=institution.id,
            student_id=student_id,
            reason=reason,
            detail=f"{number} {name}",
        )
        session.commit()
    except AlreadyRemoved:
        session.rollback()
        raise
    except IntegrityError:  # a record about her account was written while she was removed
        session.rollback()
        raise StudentKept(Message(KEPT, name=name)) from None


def check_correction(
    session: Session, institution: Institution, student: Student, number: str, name: str
) -> tuple[str, str]:
    """The corrected number and name, trimmed, checked as the roster import checks them: both
    given, neither starting like a spreadsheet formula, the number one a student may have
    (`campus.roster.number_problem`) and nobody else's at
    `institution` (as a student number or as another account's sign-in). Raises `StudentKept`."""
    number, name = number.strip(), name.strip()
    if not number:
        raise StudentKept(Message(N_("Give the student number.")))
    if not name:
        raise StudentKept(Message(N_("Give the name.")))
    if len(number) > NUMBER_MAX or len(name) > NAME_MAX:
        raise StudentKept(Message(N_("The student number or name is too long.")))
    if number.startswith(FORMULA_START) or name.startswith(FORMULA_START):
        raise StudentKept(Message(N_("A student number or name cannot start with =, +, - or @.")))
    problem = number_problem(number)
    if problem is not None:
        raise StudentKept(problem)
    taken = session.scalar(
        select(Student.id).where(
            Student.institution_id == institution.id,
            Student.student_number == number,
            Student.id != student.id,
        )
    )
    signs_in = session.scalar(
        select(User.id).where(
            User.institution_id == institution.id,
            User.login == number,
            User.id != student.user_id,
        )
    )
    if taken is not None or signs_in is not None:
        raise StudentKept(
            Message(N_("Student number %(number)s is already someone else's."), number=number)
        )
    return number, name


def correct(
    session: Session,
    admin: User,
    institution: Institution,
    student: Student,
    number: str,
    name: str,
) -> bool:
    """Give `student` the corrected number and name (her account's sign-in and name with them),
    audited with both old and new, in one commit; whether anything changed."""
    number, name = check_correction(session, institution, student, number, name)
    old_number, old_name = student.student_number, student.name
    if (number, name) == (old_number, old_name):
        return False
    student.student_number, student.name = number, name
    if student.user is not None:
        student.user.login, student.user.name = number, name
    try:
        session.flush()
    except IntegrityError:  # the same number given to another at the same moment
        session.rollback()
        raise StudentKept(
            Message(N_("Student number %(number)s is already someone else's."), number=number)
        ) from None
    changes = []
    if number != old_number:
        changes.append(f"number {old_number} -> {number}")
    if name != old_name:
        changes.append(f"name {old_name} -> {name}")
    audit.record_on(
        session,
        student,
        actor=admin,
        action="correct_student",
        record_type="student",
        detail="; ".join(changes),
    )
    session.commit()
    return True
