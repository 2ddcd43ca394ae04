"""One scoped loader for every kind of student record: load it inside the viewer's scope, or 404
and audit the denial.

A forged or out-of-scope id gives the same 404 as a missing one, so ids cannot be probed; each
domain passes the scope clause that decides who may see its records (`campus.scope.student_filter`
for most, a domain's own clause for, say, a hospital liaison's referrals).

Both functions serve a request (one answers with a 404), so they read the request's database
session and signed-in user as Flask-SQLAlchemy's `db.get_or_404` does, instead of every view
passing `db.session, current_user` again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement
from sqlalchemy import select

from campus import audit
from campus.extensions import db
from campus.models import Student

Record = TypeVar("Record", bound=Any)


def load_or_404(
    model: type[Record],
    record_id: int,
    scope: ColumnElement[bool],
    *,
    action: str,
    record_type: str,
    audit_read: bool = False,
    read_detail: Callable[[Record], str | None] | None = None,
) -> Record:
    """The `model` row `record_id` whose student matches `scope` (a clause on `Student` and the
    model); 404 otherwise, the denial audited. With `audit_read` a successful read is audited
    too (with `read_detail` of the record), committed before the record is returned."""
    session, user = db.session, current_user
    record: Record | None = session.scalar(
        select(model)
        .join(Student, Student.id == model.student_id)
        .where(model.id == record_id, scope)
    )
    if record is None:
        audit.record_denied(session, user, action, record_type, record_id)
        abort(404)
    if audit_read:
        audit.record_read_on(
            session,
            record,
            actor=user,
            action=action,
            record_type=record_type,
            detail=read_detail(record) if read_detail else None,
        )
    return record


def list_in_scope(
    model: type[Record],
    scope: ColumnElement[bool],
    order_by: tuple[Any, ...],
    *,
    action: str,
    record_type: str,
    filter_note: str = "",
    limit: int = 500,
) -> list[Record]:
    """Up to `limit` rows of `model` whose student matches `scope` (as in `load_or_404`), in
    `order_by` order; the list is audited, one row a student shown, and committed before the rows
    are returned. `filter_note` names a filter the reader chose, for the audit row."""
    session, user = db.session, current_user
    rows = list(
        session.scalars(
            select(model)
            .join(Student, Student.id == model.student_id)
            .where(scope)
            .order_by(*order_by)
            .limit(limit)
        )
    )
    audit.record_list_read(
        session,
        actor=user,
        action=action,
        record_type=record_type,
        student_ids=[r.student_id for r in rows],
        detail=f"rows={len(rows)}" + (f" {filter_note}" if filter_note else ""),
    )
    return rows


def own_student_or_404() -> Student:
    """The signed-in student's own record, for the pages a student opens about herself; an account
    without one (a student role given to a staff account) gets a 404, never someone's record."""
    student: Student | None = current_user.student
    if student is None:
        abort(404)
    return student
