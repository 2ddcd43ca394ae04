"""Activation where there is no campus sign-on: one-time codes printed on slips, a first sign-in.

An administrator (for any cohort of their institution) or a department counsellor (for their
own department's classes and grades) issues a batch for a cohort: every enrolled student of it
who has no password yet gets a fresh random code, valid to the end of a local day N days away.
The codes are shown once, on the print page that answers the issue, and kept only as argon2
hashes; a newer batch replaces a student's unused code. Signing in with a code uses it up at
once and leads straight to choosing a password.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from itertools import groupby

from argon2 import PasswordHasher
from sqlalchemy import ColumnElement
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from campus import audit
from campus import auth
from campus import clock
from campus.extensions import set_once
from campus.i18n import N_
from campus.i18n import Message
from campus.models import ROLE_SCOPE
from campus.models import ActivationBatch
from campus.models import ActivationCode
from campus.models import ClassGroup
from campus.models import Department
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import ScopeKind
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from campus.submissions import stored_once

# Who hands out slips: the administrator for the institution, the department counsellor (辅导员,
# who meets the freshmen first) for the department. Both already see these students' names.
ISSUER_ROLES = frozenset({Role.ADMIN, Role.DEPT_COUNSELLOR})
VALID_DAYS_DEFAULT = 14
VALID_DAYS_RANGE = (1, 60)
# Capitals and digits without the ones read alike on paper (0/O, 1/I/L): 31 symbols, 12 of them
# give 59 bits, out of reach of guessing at five tries a minute per account.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
GROUP = 4
# A code is random and long, so it needs no slow hash against guessing from a stolen table the way
# a chosen password does; a light argon2id keeps a cohort of 6,000 to seconds, not minutes.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1)
_DUMMY_HASH = _code_hasher.hash("ABCDEFGHJKMN")
# A student's codes tried against what they typed, newest first: enough to tell "used" or
# "replaced" from "wrong" for the last few batches without hashing their whole history.
_RECENT_CODES = 5


class CohortKind(enum.StrEnum):
    CLASS = "class"
    DEPARTMENT = "department"  # one grade of one department
    GRADE = "grade"  # one grade of the whole institution
    STUDENT = "student"  # one student of a class: a lost slip, reissued alone


@dataclass(frozen=True)
class Cohort:
    """A set of students a batch is issued for, with the names its label needs."""

    kind: CohortKind
    institution_id: int
    grade: int
    department_id: int | None = None
    department_name: str = ""
    class_id: int | None = None
    class_name: str = ""
    student_id: int | None = None
    student_name: str = ""

    @property
    def token(self) -> str:
        """The cohort as a form value; `find_cohort` reads it back within the issuer's reach."""
        units = (self.institution_id, self.department_id or 0, self.class_id or 0, self.grade)
        return ":".join([self.kind.value, *map(str, units)])


@dataclass(frozen=True)
class Slip:
    """One student's slip, as printed once, with the department and class it is handed out in."""

    name: str
    login: str
    code: str
    department: str
    class_name: str


@dataclass(frozen=True)
class SlipStack:
    """The slips of one class, in the order they are printed: a stack to hand out."""

    department: str
    class_name: str
    slips: list[Slip]


@dataclass(frozen=True)
class IssuedBatch:
    batch: ActivationBatch
    slips: list[Slip]  # by department, class, then student number

    @property
    def stacks(self) -> list[SlipStack]:
        """The slips class by class, as whoever hands them out takes them to each class."""
        return [
            SlipStack(department, class_name, list(slips))
            for (department, class_name), slips in groupby(
                self.slips, key=lambda slip: (slip.department, slip.class_name)
            )
        ]


class NothingToIssue(Exception):
    """Every student of the cohort has a password already: a batch would print no slip."""


class AlreadyIssued(Exception):
    """The form's batch was issued already (a reload of the print page, a second click): its
    codes were shown once, and issuing again would void the slips just printed."""

    def __init__(self, batch: ActivationBatch) -> None:
        super().__init__(batch.id)
        self.batch = batch


class Refusal(enum.StrEnum):
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    REPLACED = "replaced"


class ActivationRefused(Exception):
    """A first sign-in that did not go through; `reason` says why, `expired_at` when it lapsed."""

    def __init__(self, reason: Refusal, expired_at: datetime | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.expired_at = expired_at


def can_issue(user: User) -> bool:
    return user.has_role(*ISSUER_ROLES)


def cohorts_for(session: Session, issuer: User) -> list[Cohort]:
    """Every cohort `issuer` may print slips for: each class, each department's grade and (for
    an administrator) each grade of the institution, newest grade first."""
    institutions = {a.institution_id for a in issuer.assignments(Role.ADMIN)}
    departments = {
        a.department_id
        for a in issuer.assignments(Role.DEPT_COUNSELLOR)
        if ROLE_SCOPE[a.role] is ScopeKind.DEPARTMENT and a.department_id is not None
    }
    if not institutions and not departments:
        return []
    in_reach = Department.institution_id.in_(institutions) | Department.id.in_(departments)
    rows = session.execute(
        select(ClassGroup, Department)
        .join(Department, Department.id == ClassGroup.department_id)
        .where(in_reach)
        .order_by(ClassGroup.grade.desc(), Department.name, ClassGroup.name)
    ).tuples()
    grades: dict[tuple[int, int], Cohort] = {}
    department_grades: dict[tuple[int, int], Cohort] = {}
    classes: list[Cohort] = []
    for group, department in rows:
        # Each cohort narrows the one before: a grade, that grade in one department, one class.
        grade = Cohort(CohortKind.GRADE, department.institution_id, group.grade)
        if department.institution_id in institutions:
            grades.setdefault((department.institution_id, group.grade), grade)
        in_department = replace(
            grade,
            kind=CohortKind.DEPARTMENT,
            department_id=department.id,
            department_name=department.name,
        )
        department_grades.setdefault((department.id, group.grade), in_department)
        classes.append(
            replace(in_department, kind=CohortKind.CLASS, class_id=group.id, class_name=group.name)
        )
    return [*grades.values(), *department_grades.values(), *classes]


def student_cohort(session: Session, issuer: User, student_number: str) -> Cohort | None:
    """The one student of `issuer`'s reach with `student_number`, as a cohort of their own: a
    lost slip is reissued without replacing the unused slips of the whole class. None when no
    such student is within reach (the same answer as a number that does not exist)."""
    if not can_issue(issuer):
        return None
    student = session.scalar(
        select(Student).where(
            Student.student_number == student_number.strip(),
            student_filter(issuer, Capability.ROSTER),
        )
    )
    if student is None:
        return None
    group = session.get_one(ClassGroup, student.class_id)
    return Cohort(
        CohortKind.STUDENT,
        student.institution_id,
        group.grade,
        department_id=group.department_id,
        department_name=group.department.name,
        class_id=group.id,
        class_name=group.name,
        student_id=student.id,
        student_name=student.name,
    )


def find_cohort(session: Session, issuer: User, token: str) -> Cohort | None:
    """The cohort a form named, if it is within `issuer`'s reach (a forged one is None)."""
    return next((c for c in cohorts_for(session, issuer) if c.token == token), None)


def expiry(institution: Institution, now: datetime, valid_days: int) -> datetime:
    """The end of the institution's local day `valid_days` after today: a code given out on
    Monday for 14 days still works all day on the Monday two weeks later."""
    zone = clock.institution_zone(institution)
    last_day = clock.local_date(now, zone) + timedelta(days=valid_days)
    return clock.to_utc(datetime.combine(last_day + timedelta(days=1), time()), zone)


def new_code() -> str:
    """A fresh random code, printed in groups of four: `K7QM-4XPA-9TRC`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normal_code(typed: str) -> str:
    """A code as typed, the way it is hashed: capitals, without spaces or dashes."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def issue_batch(
    session: Session,
    issuer: User,
    cohort: Cohort,
    valid_days: int,
    now: datetime,
    submission: str | None = None,
) -> IssuedBatch:
    """Issue codes for every enrolled student of `cohort` within the issuer's reach who has no
    password yet, replacing their unused earlier codes; audit and commit the batch. The slips
    returned are the only place the codes exist in the clear. A form sent again with the same
    `submission` issues nothing: `AlreadyIssued`; a cohort with nobody waiting for a code writes
    nothing: `NothingToIssue`."""
    if not VALID_DAYS_RANGE[0] <= valid_days <= VALID_DAYS_RANGE[1]:
        raise ValueError(f"valid_days must be within {VALID_DAYS_RANGE}")
    issued: list[IssuedBatch] = []

    def write() -> ActivationBatch:
        issued.append(_write_batch(session, issuer, cohort, valid_days, now, submission))
        return issued[0].batch

    mine = ActivationBatch.issued_by_id == issuer.id
    once = stored_once(session, ActivationBatch, submission, mine, write)
    if not once.created:
        raise AlreadyIssued(once.record)
    return issued[0]


def _write_batch(
    session: Session,
    issuer: User,
    cohort: Cohort,
    valid_days: int,
    now: datetime,
    submission: str | None,
) -> IssuedBatch:
    institution = session.get_one(Institution, cohort.institution_id)
    # In the order they are handed out: a grade's slips class by class, as the cohort list orders
    # the classes, each class by student number.
    students = session.execute(
        select(Student, User, Department.name, ClassGroup.name)
        .join(User, User.id == Student.user_id)
        .join(ClassGroup, ClassGroup.id == Student.class_id)
        .join(Department, Department.id == ClassGroup.department_id)
        .where(
            _in_cohort(cohort),
            student_filter(issuer, Capability.ROSTER),
            Student.enrolment_status == EnrolmentStatus.ENROLLED,
            User.active.is_(True),
        )
        .order_by(
            Department.name, Department.id, ClassGroup.name, ClassGroup.id, Student.student_number
        )
    ).tuples()
    waiting: list[tuple[Student, User, str, str]] = []
    skipped = 0
    for student, user, department, class_name in students:
        if user.password_hash is None:
            waiting.append((student, user, department, class_name))
        else:
            skipped += 1
    if not waiting:
        raise NothingToIssue(skipped)
    expires_at = expiry(institution, now, valid_days)
    batch = ActivationBatch(
        institution_id=institution.id,
        issued_by_id=issuer.id,
        issued_at=now,
        department_id=cohort.department_id,
        class_id=cohort.class_id,
        student_id=cohort.student_id,
        grade=cohort.grade,
        valid_days=valid_days,
        expires_at=expires_at,
        issued_count=len(waiting),
        skipped_count=skipped,
        submission=submission,
    )
    session.add(batch)
    session.flush()
    user_ids = [user.id for _, user, _, _ in waiting]
    for chunk in range(0, len(user_ids), 500):
        session.execute(
            update(ActivationCode)
            .where(
                ActivationCode.user_id.in_(user_ids[chunk : chunk + 500]),
                ActivationCode.used_at.is_(None),
                ActivationCode.replaced_at.is_(None),
            )
            .values(replaced_at=now)
            .execution_options(synchronize_session=False)
        )
    slips = []
    for student, user, department, class_name in waiting:
        code = new_code()
        session.add(
            ActivationCode(
                batch_id=batch.id,
                user_id=user.id,
                code_hash=_code_hasher.hash(normal_code(code)),
                expires_at=expires_at,
            )
        )
        slips.append(
            Slip(
                name=student.name,
                login=user.login,
                code=code,
                department=department,
                class_name=class_name,
            )
        )
    audit.record_on(
        session,
        batch,
        actor=issuer,
        action="issue_activation_codes",
        record_type="activation_batch",
        detail=(
            f"{cohort.kind} grade={cohort.grade} department={cohort.department_id} "
            f"class={cohort.class_id} student={cohort.student_id}: {len(slips)} issued, "
            f"{skipped} skipped (have a password), valid {valid_days} days"
        ),
    )
    return IssuedBatch(batch=batch, slips=slips)


def last_day(batch: ActivationBatch, institution: Institution) -> date:
    """The local day the batch's codes work through (they lapse at the midnight after it)."""
    zone = clock.institution_zone(institution)
    return clock.local_date(batch.expires_at - timedelta(seconds=1), zone)


def _in_cohort(cohort: Cohort) -> ColumnElement[bool]:
    if cohort.kind is CohortKind.STUDENT:
        return Student.id == cohort.student_id
    if cohort.kind is CohortKind.CLASS:
        return Student.class_id == cohort.class_id
    in_grade = Student.class_id.in_(select(ClassGroup.id).where(ClassGroup.grade == cohort.grade))
    if cohort.kind is CohortKind.DEPARTMENT:
        return (Student.department_id == cohort.department_id) & in_grade
    return (Student.institution_id == cohort.institution_id) & in_grade


def recent_batches(session: Session, issuer: User, limit: int = 20) -> list[ActivationBatch]:
    """The latest batches of the cohorts `issuer` may issue for (theirs and their colleagues')."""
    institutions = {a.institution_id for a in issuer.assignments(Role.ADMIN)}
    departments = {
        a.department_id for a in issuer.assignments(Role.DEPT_COUNSELLOR) if a.department_id
    }
    return list(
        session.scalars(
            select(ActivationBatch)
            .where(
                ActivationBatch.institution_id.in_(institutions)
                | ActivationBatch.department_id.in_(departments)
                | ActivationBatch.class_id.in_(
                    select(ClassGroup.id).where(ClassGroup.department_id.in_(departments))
                )
            )
            .order_by(ActivationBatch.issued_at.desc(), ActivationBatch.id.desc())
            .limit(limit)
            .options(  # the list names the issuer and the cohort of each batch
                joinedload(ActivationBatch.issued_by),
                joinedload(ActivationBatch.department),
                joinedload(ActivationBatch.class_group).joinedload(ClassGroup.department),
                joinedload(ActivationBatch.student),
            )
        )
    )


def sign_in_with_code(
    session: Session,
    institution_code: str,
    login: str,
    typed_code: str,
    ip: str | None,
    replacing: str | None = None,
) -> User:
    """Sign the account in with its activation code, using the code up at once, into a fresh
    session that must choose a password first (`user.session_token`). A wrong, expired, used or
    replaced code raises `ActivationRefused` and starts no session; every attempt is audited."""
    user = auth.find_account(session, institution_code, login)
    code = normal_code(typed_code)
    now = clock.now()
    matched = _matching_code(session, user, code)
    refusal = _refusal(matched, now) if user is not None and user.active else Refusal.WRONG
    if user is not None and not user.institution.local_passwords:
        refusal = Refusal.WRONG  # signs in through the campus sign-on only: no code counts
    claimed = refusal is None and matched is not None and _use(session, matched, now)
    if refusal is None and not claimed:
        refusal = Refusal.USED  # another request used it a moment ago
    auth.record_own(
        session,
        user,
        "activate",
        outcome="denied" if refusal else "ok",
        detail=refusal.value if refusal else None,
    )
    if refusal is not None or user is None:
        session.commit()
        raise ActivationRefused(
            refusal or Refusal.WRONG,
            matched.expires_at if refusal is Refusal.EXPIRED and matched else None,
        )
    user.must_change_password = True
    auth.start_session(session, user, ip, replacing, detail="activation code")
    return user


def _matching_code(session: Session, user: User | None, code: str) -> ActivationCode | None:
    """The user's recent code that `code` is, if any. An unknown account is checked against a
    dummy hash, so a wrong account answers as slowly as a wrong code."""
    rows = (
        session.scalars(
            select(ActivationCode)
            .where(ActivationCode.user_id == user.id)
            .order_by(ActivationCode.id.desc())
            .limit(_RECENT_CODES)
        ).all()
        if user is not None
        else []
    )
    if not rows:
        auth.matches_hash(_DUMMY_HASH, code)
    return next((row for row in rows if auth.matches_hash(row.code_hash, code)), None)


def _refusal(row: ActivationCode | None, now: datetime) -> Refusal | None:
    if row is None:
        return Refusal.WRONG
    if row.used_at is not None:
        return Refusal.USED
    if row.replaced_at is not None:
        return Refusal.REPLACED
    if now >= row.expires_at:
        return Refusal.EXPIRED
    return None


def _use(session: Session, row: ActivationCode, now: datetime) -> bool:
    """Mark the code used unless a concurrent request did first; True when this one did."""
    return set_once(session, ActivationCode.used_at, row.id, used_at=now)


REFUSAL_TEXTS = {
    Refusal.WRONG: N_("Institution, number or activation code is wrong."),
    Refusal.EXPIRED: N_(
        "This activation code expired on %(date)s. Ask your department counsellor for a new one."
    ),
    Refusal.USED: N_(
        "This activation code has already been used. Sign in with the password you chose, or ask "
        "your department counsellor for a new code."
    ),
    Refusal.REPLACED: N_(
        "A newer activation code has been issued for you; this one no longer works. Use the "
        "newest slip you were given."
    ),
}


# What a freshman can do about a refusal whose words do not already say it: a wrong answer is
# the same for a mistyped code and an unknown account (so accounts cannot be probed), and both are
# mended the same way, by checking the slip and, failing that, by a new slip from the department
# counsellor, who issues one for a single student (`student_cohort`).
NEXT_STEPS = {
    Refusal.WRONG: N_(
        "Check each against your slip: codes never use 0, O, 1, I or L, which are easily misread. "
        "If it still does not work, ask your department counsellor (辅导员) for a new slip; its "
        "code replaces the old one."
    ),
}


def refusal_message(error: ActivationRefused, expired_on: str = "") -> Message:
    return Message(REFUSAL_TEXTS[error.reason], date=expired_on)


def next_step(error: ActivationRefused) -> Message | None:
    """What to do next after `error`, when its message does not say it; None otherwise."""
    text = NEXT_STEPS.get(error.reason)
    return None if text is None else Message(text)
