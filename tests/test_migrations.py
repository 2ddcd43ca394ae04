"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import make_url
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from campus import create_app
from campus.extensions import db


@pytest.fixture
def fresh_database_url(tmp_path) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/migrated.sqlite3"
        return
    url = make_url(base)
    name = f"{url.database}_migrations"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _expression_indexes() -> set[str]:
    """Indexes with an expression (e.g. `level DESC`): Alembic cannot compare these on every
    database, so they are checked by name and column list instead."""
    return {
        index.name
        for table in db.metadata.tables.values()
        for index in table.indexes
        if any(not hasattr(e, "name") for e in index.expressions)
    }


def _is_about(difference, names: set[str]) -> bool:
    items = difference if isinstance(difference, list) else [difference]
    return all(getattr(item[1], "name", None) in names for item in items if len(item) > 1)


def test_migrations_build_the_schema_of_the_models(fresh_database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database_url)
    with app.app_context():
        upgrade()
        expression_indexes = _expression_indexes()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            built = {
                index["name"]
                for table in db.metadata.tables
                for index in inspect(conn).get_indexes(table)
            }
        db.engine.dispose()
    assert expression_indexes <= built
    assert [d for d in differences if not _is_about(d, expression_indexes)] == []


def test_migrated_audit_rows_cannot_be_rewritten(fresh_database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_event (at, record_type, action, outcome) "
                    "VALUES (CURRENT_TIMESTAMP, 'note', 'read', 'ok')"
                )
            )
            conn.commit()
            for statement in ("UPDATE audit_event SET outcome = 'x'", "DELETE FROM audit_event"):
                with pytest.raises(DBAPIError, match="append-only"):
                    conn.execute(text(statement))
                conn.rollback()
            kept = conn.execute(text("SELECT outcome FROM audit_event")).scalars().all()
        db.engine.dispose()
    assert kept == ["ok"]
