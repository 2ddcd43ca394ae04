"""What a request leaves in the database when it ends: only what it committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from campus import create_app
from campus.extensions import db
from campus.models import Institution


def _probe(action: str) -> str:
    """A page that adds an institution and ends without committing it, or only reads."""
    if action in ("pending", "flushed"):
        db.session.add(Institution(code=action.upper(), name="Never committed"))
    if action == "flushed":
        db.session.flush()
    return str(db.session.scalar(select(func.count()).select_from(Institution)))


@pytest.fixture
def served(app: Flask) -> Iterator[Flask]:
    """The app as gunicorn runs it: each request in an app context of its own, ended with it.
    (The `client` fixture's requests share the test's context, so they never end a session.)"""
    served = create_app("test", SQLALCHEMY_DATABASE_URI=db.engine.url)
    served.add_url_rule("/probe/<action>", view_func=_probe)
    yield served
    with served.app_context():
        db.engine.dispose()


def test_a_request_ending_without_a_commit_leaves_nothing_behind(served):
    client = served.test_client()
    assert client.get("/probe/pending").status_code == 200
    assert client.get("/probe/flushed").text == "1"
    assert client.get("/probe/read").text == "0"
    assert db.session.scalar(select(func.count()).select_from(Institution)) == 0


def test_on_postgresql_pages_that_only_read_keep_their_statements_prepared(served):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are psycopg's")
    client = served.test_client()
    for _page in range(6):  # psycopg prepares a statement from its fifth execution on
        assert client.get("/probe/read").text == "0"
    with served.app_context():
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    assert prepared >= 1
