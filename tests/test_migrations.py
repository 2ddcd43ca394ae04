"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import MetaData
from sqlalchemy import Table
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


def test_stored_peer_tasks_of_every_old_wording_read_the_one_wording_after_the_migration(
    fresh_database_url,
):
    """Tasks written before 0037 said "… this week" for a red's peer watch, "check in … this
    week" for a blue's, and a wording of their own for a return-to-school plan: after it, a peer
    reads each of them the same way; a staff task and an erased row are left as they were."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database_url)
    old = [
        ("peer_watch", "Please keep company with 马彬 this week", None, None),
        ("check_in", "Please check in with 马彬 this week and see how they are", None, None),
        ("follow_up", "Please check in with 马彬 again and see how they are", None, None),
        (
            "contagion_check_in",
            "Please check in with 马彬 this week and see how they are",
            "Please check in with %(name)s this week and see how they are",
            {"name": "马彬"},
        ),
        (
            "return_plan",
            "Please help 马彬 catch up with classes after returning to school.",
            "Please help %(name)s catch up with classes after returning to school.",
            {"name": "马彬"},
        ),
        (
            "return_plan",
            "Return-to-school support for 马彬: deferred exams",
            "Return-to-school support for %(name)s: %(text)s",
            {"name": "马彬", "text": "deferred exams"},
        ),
        ("peer_watch", "", None, None),  # erased by the retention sweep
    ]
    with app.app_context():
        upgrade(revision="0036_notification_sent_at")
        with db.engine.begin() as conn:
            conn.execute(_filled(conn, "institution"), {"id": 1, "code": "x", "kind": "university"})
            for number, (kind, stored, key, params) in enumerate(old, start=1):
                conn.execute(
                    text(
                        "INSERT INTO task (id, institution_id, kind, text, text_key, text_params,"
                        " due_at, created_at) VALUES (:id, 1, :kind, :text, :key, :params,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": number,
                        "kind": kind,
                        "text": stored,
                        "key": key,
                        "params": None if params is None else json.dumps(params),
                    },
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT text, text_key, text_params FROM task ORDER BY id")
            ).all()
        db.engine.dispose()
    wording = "Please keep company with %(name)s and see how they are doing"
    peer = ("Please keep company with 马彬 and see how they are doing", wording, {"name": "马彬"})
    assert [(r.text, r.text_key, _json(r.text_params)) for r in rows] == [
        *[peer] * 5,
        (old[5][1], old[5][2], old[5][3]),
        ("", None, None),
    ]


def _filled(conn, name: str):
    """An INSERT into table `name` as migrated, giving every required column without a default a
    plain value of its type (the caller's values override them)."""
    table = Table(name, MetaData(), autoload_with=conn)
    plain = {bool: False, int: 1, str: "x", datetime.datetime: datetime.datetime(2026, 9, 1)}
    plain[datetime.date] = datetime.date(2026, 9, 1)
    required = {
        column.name: plain[column.type.python_type]
        for column in table.columns
        if not column.nullable and column.server_default is None and not column.primary_key
    }
    return table.insert().values(**required)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_an_interview_whose_warning_was_assessed_after_it_was_listed_is_held_by_the_migration(
    fresh_database_url, monkeypatch
):
    """Stored before 0040: Zhao Min's red result listed her; sc02 invited her for next month;
    sc01 recorded the red's assessment three hours later, and the entry stood overdue. After it,
    the entry is held by the assessment, as the code now does, and sc02 and the student find a
    note. Li Lei's interview, listed after his red was assessed, and Wang Fang's (no assessment)
    stay on the list."""
    from campus import clock
    from casework import interviews
    from tests.casework import interview_world as w
    from tests.conftest import Campus
    from warning import actions

    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database_url)
    monkeypatch.delitem(actions.ASSESSMENT_SERVES, "post_screening_interview")  # as before 0040
    clock.set_now(w.NOW)
    later = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(days=30)
    try:
        with app.app_context():
            upgrade()
            campus = Campus()
            world = w.build(campus)
            w.judged_red(world, world.classmate)
            w.assess(world.counsellor, world.classmate)
            clock.advance(datetime.timedelta(hours=1))
            made, yellow, red = w.listed(world)
            w.submit(made, world.classmate, "phq9", w.phq9_total(22))
            sc02 = w.invited_by_sc02(campus, world, red, later)
            clock.advance(datetime.timedelta(hours=3))
            assessed_at = clock.now()
            w.assess(world.counsellor, world.mathematician)
            ids = {"red": red.id, "zhao": world.mathematician.id}
            people = (world.counsellor.id, sc02.id, world.mathematician.user_id)
            db.session.remove()
            downgrade(revision="0039_referral_closure_audit")
            upgrade()
            with db.engine.connect() as conn:
                stored = Table("interview_entry", MetaData(), autoload_with=conn)
                rows = {row.id: row for row in conn.execute(stored.select()).mappings()}
                notes = conn.execute(
                    text("SELECT user_id, text, link FROM notification ORDER BY id")
                ).all()
                audited = conn.execute(
                    text(
                        "SELECT record_id, actor_id, detail FROM audit_event "
                        "WHERE action = 'interview.held_by_assessment'"
                    )
                ).all()
            db.engine.dispose()
    finally:
        clock.set_now(None)
    held = rows[ids["red"]]
    counsellor, other, student = people
    assert (held["state"], held["conclusion"], held["level_decision"]) == (
        "DONE",
        "assessment",
        "confirm",
    )
    assert (held["held_at"], held["closed_at"]) == (assessed_at, assessed_at)
    assert (held["interviewer_id"], held["closed_by_id"]) == (counsellor, counsellor)
    assert (held["level_before"], held["level_after"]) == (3, 3)
    assert (held["scheduled_for"], held["place"]) == (None, None)
    assert {row["state"] for key, row in rows.items() if key != ids["red"]} == {"TO_ASSIGN"}
    assert len(rows) == 3  # Li Lei's, listed after his assessment, is still to assign
    assert (student, interviews.INVITATION_WITHDRAWN_TEXT, "/interviews/mine") in notes
    assert (other, interviews.HELD_ELSEWHERE_TEXT, f"/warnings/students/{ids['zhao']}") in notes
    assert [(r.record_id, r.actor_id) for r in audited] == [(str(ids["red"]), None)]
    assert f"interviewer={other}" in audited[0].detail


def test_a_school_counsellor_handed_an_interview_before_0049_has_its_student_on_her_caseload(
    fresh_database_url,
):
    """Stored before 0049: the director handed Zhao Min's interview to sc01 and Wang Fang's to
    her department's counsellor, and nobody's caseload changed. After it, Zhao Min is on sc01's
    caseload, with an audit row; a department counsellor has no caseload."""
    from campus import clock
    from casework import interviews
    from tests.casework import interview_world as w
    from tests.conftest import Campus

    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database_url)
    clock.set_now(w.NOW)
    try:
        with app.app_context():
            upgrade()
            world = w.build(Campus())
            made, yellow, red = w.listed(world)
            interviews.assign(db.session, world.director, [red], world.counsellor, clock.now())
            interviews.assign(
                db.session, world.director, [yellow], world.computing_counsellor, clock.now()
            )
            ids = (red.id, world.counsellor.id, world.mathematician.id)
            db.session.remove()
            downgrade(revision="0048_task_checked_in_at")
            with db.engine.begin() as conn:  # as stored before: no caseload from an interview
                conn.execute(text("DELETE FROM caseload"))
            upgrade()
            with db.engine.connect() as conn:
                caseload = conn.execute(
                    text("SELECT counsellor_id, student_id FROM caseload")
                ).all()
                audited = conn.execute(
                    text(
                        "SELECT record_type, record_id, student_id FROM audit_event "
                        "WHERE action = 'caseload_joined' AND actor_id IS NULL"
                    )
                ).all()
            db.engine.dispose()
    finally:
        clock.set_now(None)
    entry_id, counsellor, student = ids
    assert [tuple(row) for row in caseload] == [(counsellor, student)]
    assert [tuple(row) for row in audited] == [("interview", str(entry_id), student)]
