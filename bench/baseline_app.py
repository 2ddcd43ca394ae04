"""The screening-day baseline: a bare Flask app that inserts one row per POST.

It runs under the same gunicorn settings against the same PostgreSQL as Xinqiao, so the ratio
of Xinqiao's intake submissions per second to this app's rows per second shows what our sign-in,
sessions, CSRF, scoring, hand-off and audit cost, independent of how busy the machine is.
`gunicorn bench.baseline_app:app` with DATABASE_URL set.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask
from flask import request
from sqlalchemy import create_engine
from sqlalchemy import text

TABLE = "bench_baseline_row"
FORM = (
    '<!doctype html><form method="post" action="/submit">'
    '<input type="hidden" name="csrf_token" value="{token}">'
    '<input name="value"><button>Send</button></form>'
)


def create_table(url: str) -> None:
    """The baseline's one table, created by the bench before gunicorn starts."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(
            text(
                f"CREATE TABLE {TABLE} (id serial PRIMARY KEY, value integer NOT NULL, "
                "created_at timestamp NOT NULL DEFAULT now())"
            )
        )
    engine.dispose()


def create_baseline_app(url: str) -> Flask:
    app = Flask(__name__)
    engine = create_engine(url, pool_pre_ping=True)

    @app.get("/form")
    def form() -> str:
        return FORM.format(token=secrets.token_urlsafe(24))

    @app.post("/submit")
    def submit() -> tuple[str, int]:
        value = request.form.get("value", "")
        if not value.isdigit():
            return "bad value", 400
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {TABLE} (value) VALUES (:v)"), {"v": int(value)})  # noqa: S608
        return "stored", 200

    return app


app = create_baseline_app(os.environ["DATABASE_URL"]) if "DATABASE_URL" in os.environ else None
