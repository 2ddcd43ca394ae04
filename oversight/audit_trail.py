"""The audit trail as an administrator reads it: who read or changed which record of their
institution, newest first, narrowed to one student, one person, refusals only or some days.

Every sensitive read writes an audit row (`campus.audit`); this is where those rows are read
back, to answer "who opened this student's file" or "who keeps being refused". Reading the trail
is itself a sensitive read (it says which students have warnings, referrals, notes) and is
audited in turn, with the filter asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.audit import AuditEvent
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Student
from campus.models import User

PAGE_SIZE = 50


class UnknownPerson(ValueError):
    """The student number or login asked for is nobody's at this institution: `field` names
    the filter (`student_number`, `login`), `message` says so."""

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TrailFilter:
    student_number: str | None = None
    login: str | None = None
    denied_only: bool = False
    day_from: date | None = None  # the institution's calendar days, both included
    day_to: date | None = None
    page: int = 1

    def described(self) -> str:
        """The filter as the audit row of this read keeps it."""
        return (
            f"student={self.student_number or ''} login={self.login or ''} "
            f"denied={int(self.denied_only)} from={self.day_from or ''} to={self.day_to or ''} "
            f"page={self.page}"
        )


@dataclass(frozen=True)
class TrailRow:
    event: AuditEvent
    actor: User | None  # None: the system (a sweep) or an account since erased
    student: Student | None


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    more: bool  # a next page exists


def read_trail(
    session: Session, reader: User, institution: Institution, flt: TrailFilter
) -> TrailPage:
    """One page of `institution`'s audit rows under `flt`, newest first; the read is audited
    and committed before the rows are returned. Raises `UnknownPerson` (and audits nothing)
    for a student number or login that is nobody's here."""
    query = _filtered(session, institution, flt)
    who = audit.Who(actor=reader, action="read_audit_trail", record_type="audit_event")
    audit.record_read(session, **who, institution_id=institution.id, detail=flt.described())
    found = session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((flt.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    rows = [TrailRow(event, actor, student) for event, actor, student in found[:PAGE_SIZE]]
    return TrailPage(rows, len(found) > PAGE_SIZE)


def _filtered(
    session: Session, institution: Institution, flt: TrailFilter
) -> Select[tuple[AuditEvent, User, Student]]:
    """The institution's rows under `flt` (actor and student outer-joined: None where absent)."""
    query = (
        select(AuditEvent, User, Student)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Student, Student.id == AuditEvent.student_id)
        .where(AuditEvent.institution_id == institution.id)
    )
    if flt.student_number:
        query = query.where(AuditEvent.student_id == _student_id(session, institution, flt))
    if flt.login:
        query = query.where(AuditEvent.actor_id == _user_id(session, institution, flt))
    if flt.denied_only:
        query = query.where(AuditEvent.outcome == "denied")
    zone = clock.institution_zone(institution)
    if flt.day_from:
        query = query.where(
            AuditEvent.at >= clock.to_utc(datetime.combine(flt.day_from, time()), zone)
        )
    if flt.day_to:
        after = datetime.combine(flt.day_to + timedelta(days=1), time())
        query = query.where(AuditEvent.at < clock.to_utc(after, zone))
    return query


def _student_id(session: Session, institution: Institution, flt: TrailFilter) -> int:
    found = session.scalar(
        select(Student.id).where(
            Student.institution_id == institution.id,
            Student.student_number == (flt.student_number or "").strip(),
        )
    )
    if found is None:
        message = N_("No student of this institution has that student number.")
        raise UnknownPerson("student_number", Message(message))
    return found


def _user_id(session: Session, institution: Institution, flt: TrailFilter) -> int:
    found = session.scalar(
        select(User.id).where(
            User.institution_id == institution.id, User.login == (flt.login or "").strip()
        )
    )
    if found is None:
        raise UnknownPerson("login", Message(N_("No account of this institution has that login.")))
    return found
