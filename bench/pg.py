"""The benchmark database: PostgreSQL `xinqiao_bench` on loopback, recreated per run, and the
set-based fill the benchmarks seed it with."""

from __future__ import annotations

import subprocess

from sqlalchemy import Column
from sqlalchemy import Connection
from sqlalchemy import literal
from sqlalchemy import text

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


def insert_select(executor, table_name: str, columns: str, select: str, params: dict) -> None:
    """INSERT INTO `table_name` (`columns`) `select`, every other column given the model's default
    as the ORM would (a callable such as clock.now is called once for all rows). So a column added
    to a model with a default needs no change in a benchmark's seed; a required column without one
    stops the seed, named. The defaults are set on the table for this statement alone: the SELECT
    stays the one written, its literals typed by the columns they go to. `executor` is a
    Connection or a Session (the statement runs in its transaction)."""
    from campus.extensions import db

    table = db.metadata.tables[table_name]
    conn = executor if isinstance(executor, Connection) else executor.connection()
    faults = seed_faults(table_name, columns)
    if faults:
        raise ValueError(f"seed of {table_name}: {'; '.join(faults)}")
    given = _names(columns)
    defaults = [c for c in table.columns if c.name not in given and _has_default(c)]
    alter = f"ALTER TABLE {table.name} "
    if defaults:
        set_each = (f"ALTER COLUMN {c.name} SET DEFAULT {_default(c, conn)}" for c in defaults)
        conn.exec_driver_sql(alter + ", ".join(set_each))
    conn.execute(text(f"INSERT INTO {table.name} ({', '.join(given)}) {select}"), params)
    if defaults:
        conn.exec_driver_sql(
            alter + ", ".join(f"ALTER COLUMN {c.name} DROP DEFAULT" for c in defaults)
        )


def student_accounts(prefix: str) -> list[tuple[str, str, str]]:
    """The seed's first two tables for `:n` students whose logins start with `prefix` (a
    benchmark's own letter, so its students are told apart): their accounts and student roles,
    in `SEED`'s form. Each benchmark adds its own `student` row with the units it needs."""
    return [
        (
            "user_account",
            "institution_id, login, name, password_hash, must_change_password, active, created_at",
            f"""SELECT :i, '{prefix}' || lpad(g::text, 6, '0'), 'Student ' || g, :h, false, true,
               :now FROM generate_series(1, :n) g""",
        ),
        (
            "role_assignment",
            "user_id, role, institution_id",
            f"SELECT id, 'STUDENT', :i FROM user_account WHERE login LIKE '{prefix}%'",
        ),
    ]


def seed_faults(table_name: str, columns: str) -> list[str]:
    """What keeps a seed giving `columns` of `table_name` from inserting into the models' table:
    columns the model does not have, and required columns with no default that it leaves out."""
    from campus.extensions import db

    table = db.metadata.tables[table_name]
    given = _names(columns)
    unknown = [name for name in given if name not in table.columns]
    lacking = [
        column.name
        for column in table.columns
        if column.name not in given
        and not column.nullable
        and column.server_default is None
        and not _has_default(column)
        and column is not table.autoincrement_column
    ]
    return [f"no column {name}" for name in unknown] + [f"must give {name}" for name in lacking]


def _names(columns: str) -> list[str]:
    return [name.strip() for name in columns.split(",")]


def _has_default(column: Column) -> bool:
    """A default the ORM computes in Python (a value or a callable); server defaults need none."""
    default = column.default
    return (
        column.server_default is None
        and default is not None
        and (default.is_scalar or default.is_callable)
    )


def _default(column: Column, conn: Connection) -> str:
    """The model's default of `column` as an SQL literal."""
    value = column.default.arg(None) if column.default.is_callable else column.default.arg
    return str(
        literal(value, column.type).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
        )
    )
