"""The audit trail is append-only in the database itself, on SQLite as on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from campus import audit
from campus.audit import AuditEvent
from campus.extensions import db


@pytest.fixture
def row(app) -> AuditEvent:
    written = audit.record(db.session, actor=None, action="read", record_type="note", detail="kept")
    db.session.commit()
    return written


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(detail="rewritten"),
        update(AuditEvent).where(AuditEvent.action == "read").values(actor_id=None),
        delete(AuditEvent),
        delete(AuditEvent).where(AuditEvent.action == "read"),
    ],
    ids=["update-all", "update-where", "delete-all", "delete-where"],
)
def test_a_bulk_orm_rewrite_of_audit_rows_is_refused_and_changes_nothing(row, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(statement)
    db.session.rollback()
    assert db.session.execute(select(AuditEvent.id, AuditEvent.detail)).all() == [(row.id, "kept")]


def test_raw_sql_cannot_delete_an_audit_row_either(row):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_event"))
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.detail)) == "kept"
