"""The audit trail: who read or changed which sensitive record, when, from where, and why.

Rows are append-only: the ORM refuses updates and deletes of loaded rows, and the database refuses
every UPDATE and DELETE (bulk ORM statements, raw SQL) with triggers, on PostgreSQL and SQLite
alike. The one exception is `purge_rows`, the retention schedule's deletion of rows past their
date (privacy/purge.py): the DELETE trigger lets a row go only inside a transaction that holds an
`audit_purge_permit` row, which `purge_rows` adds and removes again before anyone can see it.
A read of sensitive data commits its audit row *before* the data is rendered: if the row cannot be
written the request fails and nothing sensitive leaves the server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from flask import g
from flask import has_request_context
from flask import request
from sqlalchemy import DDL
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from campus import clock
from campus.extensions import Model
from campus.extensions import rows_changed
from campus.models import Institution
from campus.models import Student
from campus.models import User


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_student_at", "student_id", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_roles: Mapped[str | None] = mapped_column(String(200))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id"))
    record_type: Mapped[str] = mapped_column(String(50))
    record_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))


class AuditPurgePermit(Model):
    """Exists only inside `purge_rows`'s transaction (added, then deleted before the commit): the
    DELETE trigger of `audit_event` lets rows go while it sees one, so no other transaction ever
    can."""

    __tablename__ = "audit_purge_permit"

    id: Mapped[int] = mapped_column(primary_key=True)


# The same guard migrations install (0001 on PostgreSQL, 0005 on SQLite, the purge permit since
# 0027_retention), for `create_all`.
APPEND_ONLY_DDL = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
        "BEGIN IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_purge_permit) THEN "
        "RETURN OLD; END IF; "
        "RAISE EXCEPTION 'audit_event rows are append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_event_no_rewrite BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit) "
        "BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END",
    ],
}
for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__,
            "after_create",
            # SQLAlchemy's `DDL` constructor is unannotated (so, to the checker, untyped).
            DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
        )


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session: Session, _ctx: object, _instances: object) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise PermissionError("audit rows are append-only")


def purge_rows(session: Session, ids: list[int]) -> int:
    """Delete the audit rows `ids`, past their retention date; only the retention purge calls
    this. The permit lives and dies inside the caller's transaction, which commits."""
    permit = AuditPurgePermit()
    session.add(permit)
    session.flush()
    deleted = rows_changed(session, delete(AuditEvent).where(AuditEvent.id.in_(ids)))
    session.execute(delete(AuditPurgePermit).where(AuditPurgePermit.id == permit.id))
    session.expunge(permit)
    return deleted


def request_id() -> str | None:
    """A per-request id (from a proxy's X-Request-ID when present) tying audit rows together."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
    return str(g.request_id)


class On(TypedDict):
    """The arguments of `record_on` and `record_read_on` besides the session and the record:
    what they pass on to `record` as given; the rest comes from the record."""

    actor: User | None
    action: str
    record_type: str
    reason: NotRequired[str | None]
    outcome: NotRequired[str]
    detail: NotRequired[str | None]
    flush: NotRequired[bool]


class Who(TypedDict):
    """Who did what to which kind of record: the start of every audit row, for a caller that
    hands it to `record_read` or `record_list_read`."""

    actor: User | None
    action: str
    record_type: str


class Read(TypedDict):
    """The arguments of `record_read` besides `action`: those of `record` but the session."""

    actor: User | None
    record_type: str
    record_id: NotRequired[object | None]
    student_id: NotRequired[int | None]
    institution_id: NotRequired[int | None]
    reason: NotRequired[str | None]
    outcome: NotRequired[str]
    detail: NotRequired[str | None]


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    record_type: str,
    record_id: object | None = None,
    student_id: int | None = None,
    institution_id: int | None = None,
    reason: str | None = None,
    outcome: str = "ok",
    detail: str | None = None,
    flush: bool = True,
) -> AuditEvent:
    """Add an audit row to the current unit of work and flush it so a failure surfaces now.

    A batch writer (the escalation sweep) passes `flush=False` and flushes once for the batch.
    """
    row = AuditEvent(
        **_values(actor, action, record_type, institution_id, reason, outcome, detail),
        student_id=student_id,
        record_id=None if record_id is None else str(record_id),
    )
    session.add(row)
    if flush:
        session.flush()
    return row


def record_on(session: Session, target: Any, **kwargs: Unpack[On]) -> AuditEvent:
    """Audit an action on one record: a student's (a warning, task, referral, leave…), a student
    themselves, an institution's (a campaign, policy version, channel, account…), or an
    institution itself (its settings, its figures).

    The row's record id, student and institution are taken from the record itself, so a caller
    cannot file the row under another student or school.
    """
    return record(
        session,
        record_id=target.id,
        student_id=_student_of(target),
        institution_id=_institution_of(target),
        **kwargs,
    )


def _student_of(target: Any) -> int | None:
    """The student a record is about: the student themselves, the record's student, or none for
    an institution's record."""
    if isinstance(target, Student):
        return target.id
    return getattr(target, "student_id", None)


def _institution_of(target: Any) -> int | None:
    """The school a record belongs to: the institution itself, or the record's institution."""
    if isinstance(target, Institution):
        return target.id
    institution_id: int | None = target.institution_id
    return institution_id


def record_read_on(session: Session, target: Any, **kwargs: Unpack[On]) -> AuditEvent:
    """Audit a sensitive read of `target` (as `record_on` files it) and commit it before the
    caller returns any data."""
    row = record_on(session, target, **kwargs)
    session.commit()
    return row


def record_read(session: Session, *, action: str = "read", **kwargs: Unpack[Read]) -> AuditEvent:
    """Audit a sensitive read and commit it before the caller returns any data."""
    row = record(session, action=action, **kwargs)
    session.commit()
    return row


def record_denied(
    session: Session, actor: User | None, action: str, record_type: str, record_id: object
) -> AuditEvent:
    """Audit a read refused because the record is missing or out of the actor's scope, committed
    before the caller answers 404: probing for ids leaves a trail."""
    return record_read(
        session,
        actor=actor,
        action=action,
        record_type=record_type,
        record_id=record_id,
        outcome="denied",
    )


def record_list_read(
    session: Session,
    *,
    actor: User | None,
    action: str,
    record_type: str,
    student_ids: Iterable[int | None],
    institution_id: int | None = None,
    detail: str | None = None,
) -> int:
    """Audit a list of students' records shown at once, committed before the list is returned.

    One row per student shown, like a single read, so "who has seen this student's records" is
    the same indexed query (`student_id`, `at`) whatever page showed them; the rows go in one
    executemany INSERT sharing the request id. An empty list still leaves one row, without a
    student, saying it was opened. Returns how many rows were written.
    """
    shown = list(dict.fromkeys(int(s) for s in student_ids if s is not None))
    base = _values(actor, action, record_type, institution_id, None, "ok", detail)
    rows = [{**base, "student_id": s} for s in shown] or [{**base, "student_id": None}]
    session.execute(insert(AuditEvent), rows)
    session.commit()
    return len(rows)


def _values(
    actor: User | None,
    action: str,
    record_type: str,
    institution_id: int | None,
    reason: str | None,
    outcome: str,
    detail: str | None,
) -> dict[str, object]:
    """The columns every audit row fills the same way: when, who, where from, what happened."""
    return {
        "at": clock.now(),
        "actor_id": actor.id if actor else None,
        "actor_roles": ",".join(actor.role_names) if actor else None,
        "institution_id": institution_id
        if institution_id is not None
        else (actor.institution_id if actor else None),
        "record_type": record_type,
        "action": action,
        "reason": reason,
        "outcome": outcome,
        "request_id": request_id(),
        "ip": request.remote_addr if has_request_context() else None,
        "detail": detail,
    }
