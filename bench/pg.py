"""The benchmark database: PostgreSQL `xinqiao_bench` on loopback, recreated per run."""

from __future__ import annotations

import subprocess

BENCH_DB = "xinqiao_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"


def recreate(name: str = BENCH_DB) -> str:
    """Drop and create the benchmark database `name` (a benchmark that must not disturb the
    others has its own); returns its SQLAlchemy URL."""
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, timeout=60
        )
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def app_with_schema(url: str):
    """The real app on the benchmark database, schema from the models (as the tests do)."""
    from campus import create_app
    from campus.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
    return app
