"""With a read replica configured, the oversight aggregates read it; every write stays on the
primary. The replica here is a second connection pool to the test database, so what is checked
is where each statement goes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from campus import create_app
from campus.extensions import db
from tests.conftest import sign_in
from tests.oversight.test_views import SEPT

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def replica_app(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with_replica = create_app("test", SQLALCHEMY_DATABASE_URI=url, DATABASE_REPLICA_URL=url)
    with_replica.config["WTF_CSRF_ENABLED"] = False
    yield with_replica
    with with_replica.app_context():
        for engine in db.engines.values():
            engine.dispose()


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def reads_of(table: str, seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and f"FROM {table}" in s]


def writes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.upper().startswith(WRITES)]


@pytest.mark.parametrize(
    ("who", "url", "written"),
    [
        ("admin", "/oversight/", None),
        ("admin", "/oversight/export/crisis.csv", "INSERT INTO audit_event"),
        ("admin", "/oversight/drill/red", "INSERT INTO audit_event"),
        ("province", "/oversight/province", "INSERT INTO province_snapshot"),
    ],
)
def test_oversight_reads_warnings_on_the_replica_and_writes_on_the_primary(
    world, replica_app, who, url, written
):
    user = world.xju.admin if who == "admin" else world.province
    db.session.commit()
    with replica_app.app_context():
        client = replica_app.test_client()
        assert sign_in(client, user).status_code == 302
        with statements(db.engines[None]) as primary, statements(db.engines["replica"]) as replica:
            response = client.get(url, query_string=SEPT)
    assert response.status_code == 200
    assert reads_of("warning", replica)
    assert not reads_of("warning", primary)
    assert not writes(replica)
    if written:
        assert any(s.startswith(written) for s in writes(primary))
