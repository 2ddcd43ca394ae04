"""The benchmark database: PostgreSQL `xinqiao_bench` on loopback, recreated per run."""

from __future__ import annotations

import subprocess

BENCH_DB = "xinqiao_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"


def recreate() -> str:
    """Drop and create the benchmark database; returns its SQLAlchemy URL."""
    for sql in (f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, timeout=60
        )
    return URL


def app_with_schema(url: str):
    """The real app on the benchmark database, schema from the models (as the tests do)."""
    from campus import create_app
    from campus.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
    return app
