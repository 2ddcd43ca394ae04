"""Fixtures: an app and a schema per test session, emptied between tests, and factories by name.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL points at one:
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xinqiao_test pytest
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from functools import cache

import pytest
from flask import Flask
from flask import g
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.engine import Engine

from campus import admin
from campus import clock
from campus import create_app
from campus.auth import hash_password
from campus.extensions import db
from campus.extensions import limiter
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Hospital
from campus.models import Institution
from campus.models import MfaPolicy
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User

# Real CAS and OpenID servers for the sign-on tests, started only by a test that asks for them.
pytest_plugins = ["tests.idp.fixtures"]

# Hypothesis's per-example deadline is a timed assertion: on a loaded machine it fails tests
# whose results are right. Speed is measured in bench/, never here.
settings.register_profile("xinqiao", deadline=None)
settings.load_profile("xinqiao")

PASSWORD = "correct-horse-battery"
# Fixture users read the source language, so tests assert the English text they were written
# with; tests/test_translations.py covers the Chinese default (a user with no locale of their own).
FIXTURE_LOCALE = "en"
# Where every test's clock starts: the first morning of the autumn term, 10:00 in Beijing.
FIRST_MORNING = datetime(2026, 9, 14, 2, 0, 0)


@cache
def _password_hash() -> str:
    """PASSWORD hashed once, at the test app's cost (PASSWORD_HASH_COST): fixture users share it."""
    return hash_password(PASSWORD)


def _database_url(tmp: str) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/test.sqlite3"


class IsolatedClient(FlaskClient):
    """A test client whose requests do not share `g` with the test's own app context.

    Tests hold an app context to use the database; Flask reuses it for requests, so without this
    the signed-in user cached by Flask-Login in `g` would outlive a logout or an idle timeout.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _app() -> Iterator[Flask]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app("test", SQLALCHEMY_DATABASE_URI=_database_url(tmp))
        app.test_client_class = IsolatedClient
        with app.app_context():
            commits_without_disk_waits(db.engine)
            _fresh_schema()
            db.create_all()
            _without_autovacuum()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app with an empty database and a real clock frozen at a known moment."""
    clock.set_now(FIRST_MORNING)
    _app.config["WTF_CSRF_ENABLED"] = False
    limiter.enabled = False
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        _empty_tables()
    clock.set_now(None)


@pytest.fixture
def throttled(app: Flask) -> Iterator[None]:
    """The rate limits on, from an empty count, for a test of them (`app` has them off)."""
    limiter.enabled = True
    limiter.reset()
    yield
    limiter.enabled = False
    limiter.reset()


def commits_without_disk_waits(engine: Engine) -> None:
    """A test database is thrown away after the run, so its commits need not wait for the disk:
    SQLite skips its fsync, PostgreSQL reports a commit before its WAL is flushed (a crash
    would lose the last commits, never corrupt the database). What a test reads back is the
    same; on a loaded two-core CI machine the waiting was a tenth of a run."""
    engine.dispose()  # every connection from here on is made with the setting

    @event.listens_for(engine, "connect")
    def _on_connect(connection, _record) -> None:
        if engine.dialect.name == "sqlite":
            connection.execute("PRAGMA synchronous = OFF")
            return
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        connection.commit()


def _fresh_schema() -> None:
    """Start from nothing. On PostgreSQL the test database outlives the run, and `drop_all` knows
    only today's models: a table a later change removed (or one a migration test left) would stay
    behind and its foreign keys would block the drop, so the whole schema is dropped instead."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            return
    db.drop_all()


def _without_autovacuum() -> None:
    """On PostgreSQL, keep rows in the order they were written: `_empty_tables` empties by
    DELETE, and an autovacuum between tests would let new rows fill the freed space of earlier
    pages, so a query without ORDER BY could see them in another order run to run."""
    with db.engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            return
        for table in db.metadata.sorted_tables:
            conn.execute(text(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false)'))


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))  # children first
    if db.engine.dialect.name == "postgresql":
        _empty_written_tables([t.name for t in tables])
        return
    with db.engine.begin() as conn:
        for table in tables:
            if table.name == "audit_event":
                # Append-only by trigger: dropped and created again (with its triggers).
                table.drop(conn)
                table.create(conn)
            else:
                conn.execute(table.delete())


def _empty_written_tables(names: list[str]) -> None:
    """Empty the tables a test wrote to (`names` children first) and restart its sequences.

    DELETE, then VACUUM: a vacuumed empty table hands out its space from the first page again,
    so the next test's rows come back in the order they were written (many reads have no ORDER
    BY; a DELETE alone let later rows fill freed space and come back in another order). TRUNCATE
    did the same, but its CASCADE reached some 65 tables that each got new files: 0.2 s of every
    test, most of a PostgreSQL run. The DELETEs run as a replica's would, without triggers: every
    table with rows is emptied, so no key is left dangling, and the checks each deleted row made
    of every table referencing it (some sixty for a student) were most of the rest; the audit
    log's append-only trigger is one of those left out. `setval` restarts a sequence in place
    (`ALTER SEQUENCE … RESTART` gives it a new file), all of them in one statement."""
    with db.engine.begin() as conn:
        probes = " UNION ALL ".join(
            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names
        )
        written = set(conn.execute(text(probes)).scalars())
        with_rows = [name for name in names if name in written]
        conn.execute(
            text(
                "SELECT setval(quote_ident(q.sequencename), 1, false) FROM pg_sequences q "
                "WHERE q.schemaname = current_schema() AND q.last_value IS NOT NULL"
            )
        )
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in with_rows:
            conn.execute(text(f'DELETE FROM "{name}"'))
    if with_rows:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM " + ", ".join(f'"{name}"' for name in with_rows)))


# Transaction bookkeeping the ORM and the test app emit around real work; not a query a page makes.
_NOISE = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK TO)\b", re.IGNORECASE)


@dataclass
class CountedQueries:
    """The statements sent while a `count_queries()` block ran, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], AbstractContextManager[CountedQueries]]:
    """Count the SQL statements run inside a block, so a test can hold a page to a budget.

    `with count_queries() as counted: client.get(...)`, then `counted.count`; savepoints are left
    out because they measure the test's transaction handling, not what the page asks for.
    """

    @contextmanager
    def _count() -> Iterator[CountedQueries]:
        counted = CountedQueries()

        def _before(_conn, _cursor, statement: str, *_args) -> None:
            if not _NOISE.match(statement):
                counted.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", _before)
        try:
            yield counted
        finally:
            event.remove(db.engine, "before_cursor_execute", _before)

    return _count


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Campus:
    """Builds campus objects by name so tests read like the situation they describe."""

    def __init__(self) -> None:
        self.session = db.session
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def institution(
        self,
        code: str = "XJU",
        name: str | None = None,
        kind: str = "university",
        *,
        mfa: bool = False,
    ):
        """An institution; two-factor sign-in is off there unless `mfa`, when the configured
        default (MFA_REQUIRED_ROLES) applies, so the tests of everything else sign in with a
        password alone (tests/campus/test_two_factor.py tests the second step)."""
        inst = Institution(code=code, name=name or f"{code} University", kind=kind)
        self.session.add(inst)
        self.session.flush()
        if not mfa:
            self.session.add(MfaPolicy(institution_id=inst.id, required_roles=""))
            self.session.flush()
        return inst

    def department(self, institution: Institution, name: str = "Computing") -> Department:
        dept = Department(institution_id=institution.id, name=name)
        self.session.add(dept)
        self.session.flush()
        return dept

    def class_group(
        self, department: Department, name: str | None = None, grade: int = 2026
    ) -> ClassGroup:
        group = ClassGroup(
            department_id=department.id, name=name or f"C{self._next()}", grade=grade
        )
        self.session.add(group)
        self.session.flush()
        return group

    def room(self, institution: Institution, number: str | None = None) -> DormRoom:
        building = DormBuilding(institution_id=institution.id, name=f"B{self._next()}")
        room = DormRoom(building=building, number=number or "101")
        self.session.add_all([building, room])
        self.session.flush()
        return room

    def hospital(self, institution: Institution, name: str | None = None) -> Hospital:
        hospital = Hospital(institution_id=institution.id, name=name or f"H{self._next()}")
        self.session.add(hospital)
        self.session.flush()
        return hospital

    def student(
        self,
        group: ClassGroup,
        room: DormRoom | None = None,
        *,
        name: str | None = None,
        birth_date: date = date(2007, 3, 1),
        number: str | None = None,
    ) -> Student:
        department = self.session.get(Department, group.department_id)
        n = self._next()
        number = number or f"S{n:05d}"
        user = User(
            institution_id=department.institution_id,
            login=number,
            name=name or f"Student {n}",
            password_hash=_password_hash(),
            must_change_password=False,
            locale=FIXTURE_LOCALE,
        )
        user.roles.append(
            RoleAssignment(role=Role.STUDENT, institution_id=department.institution_id)
        )
        student = Student(
            institution_id=department.institution_id,
            student_number=number,
            name=user.name,
            gender="F",
            birth_date=birth_date,
            department_id=department.id,
            class_id=group.id,
            room_id=room.id if room else None,
            user=user,
            guardian_name="Guardian",
            guardian_phone="13900000000",
        )
        self.session.add(student)
        self.session.flush()
        return student

    def staff(
        self,
        institution: Institution,
        role: Role,
        *,
        login: str | None = None,
        department: Department | None = None,
        group: ClassGroup | None = None,
        room: DormRoom | None = None,
        hospital: Hospital | None = None,
        user: User | None = None,
        email: str | None = None,
        until: date | None = None,
    ) -> User:
        """A user holding `role` over the given scope (or an extra role for `user`), through
        `until` (its last day) when given."""
        if user is None:
            n = self._next()
            user = User(
                institution_id=institution.id,
                login=login or f"{role.value}{n}",
                name=f"{role.value} {n}",
                password_hash=_password_hash(),
                must_change_password=False,
                email=email,
                locale=FIXTURE_LOCALE,
            )
            self.session.add(user)
        user.roles.append(
            RoleAssignment(
                role=role,
                institution_id=institution.id,
                department_id=department.id if department else None,
                class_id=group.id if group else None,
                room_id=room.id if room else None,
                hospital_id=hospital.id if hospital else None,
                until=until,
                ends_at=admin.end_moment(institution, until) if until else None,
            )
        )
        self.session.flush()
        return user

    def commit(self) -> None:
        self.session.commit()


@pytest.fixture
def campus(app: Flask) -> Campus:
    return Campus()


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD):
    institution = db.session.get(Institution, user.institution_id)
    return client.post(
        "/login", data={"institution": institution.code, "login": user.login, "password": password}
    )


@pytest.fixture
def names_exported(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """An institution that lets its administrators export lists with names (identified rows),
    for tests about what such a file holds; by default theirs are de-identified."""
    monkeypatch.setitem(app.config["EXPORT_TIERS"], "admin", "identified")


@pytest.fixture
def login(client: FlaskClient):
    """Sign `user` in on the shared test client."""

    def _login(user: User) -> FlaskClient:
        response = sign_in(client, user)
        assert response.status_code == 302, response.data[:500]
        return client

    return _login
