"""Clinical free text is unreadable in the database, readable on the page, survives a key
rotation (interrupted or not), and a wrong key stops the app instead of showing garbage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy import text

from campus import clock
from campus import create_app
from campus import encryption
from campus.audit import AuditEvent
from campus.cli import rotation_summary
from campus.encryption import KeyCheck
from campus.encryption import UnreadableField
from campus.extensions import db
from campus.models import Role
from config import ProductionConfig
from tests.conftest import Campus
from tests.factories import open_warning
from tests.test_migrations import fresh_database_url  # noqa: F401 - a fixture
from warning import actions
from warning.models import WarningEvent

NOTE = "学生自述近两周失眠，曾想过轻生，已约周四复谈"
OLD, NEW = encryption.new_key(), encryption.new_key()


@pytest.fixture
def keys(app) -> Iterator[None]:
    """Lets a test change this process's keys; the app's own are put back afterwards."""
    yield
    encryption.configure(encryption.keys_from_config(app.config))


def _stored(session, table: str, column: str) -> list[str]:
    return list(session.execute(text(f"SELECT {column} FROM {table}")).scalars())  # noqa: S608


def _contact_with_note(campus, students: int = 1):
    """A department counsellor's contact note on each of `students` students' red warnings."""
    institution = campus.institution()
    department = campus.department(institution)
    counsellor = campus.staff(institution, Role.DEPT_COUNSELLOR, department=department)
    for _ in range(students):
        student = _noted(campus, department, counsellor)
    return student, counsellor


def _noted(campus, department, counsellor):
    student = campus.student(campus.class_group(department))
    warning = open_warning(student)
    actions.log_contact(
        db.session,
        counsellor,
        warning,
        warning.version,
        clock.now(),
        method="in_person",
        outcome="reached",
        note=NOTE,
    )
    return student


def test_a_contact_note_is_a_token_in_the_database_and_text_on_the_page(campus, client, login):
    student, counsellor = _contact_with_note(campus)
    stored = [value for value in _stored(db.session, "warning_event", "note") if value]
    assert stored
    assert all(NOTE not in value for value in stored)
    assert all(value.startswith("gAAAA") for value in stored)  # a Fernet token
    login(counsellor)
    page = client.get(f"/warnings/students/{student.id}")
    assert NOTE in page.get_data(as_text=True)


def test_rotation_moves_every_note_to_the_new_key_even_when_interrupted(campus, keys, monkeypatch):
    encryption.configure([OLD])
    _contact_with_note(campus, students=3)
    encryption.configure([NEW, OLD])  # the new key in front: the app reads both meanwhile
    real_rotated, calls = encryption.rotated, []

    def killed_after_two(token: str) -> str:
        calls.append(token)
        if len(calls) > 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the host going down
        return real_rotated(token)

    monkeypatch.setattr(encryption, "rotated", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        encryption.rotate_all(db.session, batch=1)
    db.session.rollback()
    assert {event.note for event in db.session.query(WarningEvent) if event.note} == {NOTE}
    monkeypatch.setattr(encryption, "rotated", real_rotated)
    counts = encryption.rotate_all(db.session, batch=2)
    assert counts["warning_event.note"] == 3

    encryption.configure([NEW])  # the old key removed
    db.session.expire_all()
    assert [event.note for event in db.session.query(WarningEvent) if event.note] == [NOTE] * 3
    encryption.check_keys(db.session)
    encryption.configure([OLD])
    db.session.expire_all()
    with pytest.raises(UnreadableField):
        db.session.query(WarningEvent).all()


def test_the_app_refuses_to_start_with_a_key_that_cannot_read_the_data(app, campus, keys):
    encryption.configure([OLD])
    db.session.add(KeyCheck(token=encryption.encrypt(encryption.KNOWN_VALUE)))
    db.session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    with pytest.raises(RuntimeError, match="cannot read this database"):
        create_app("test", SQLALCHEMY_DATABASE_URI=url, FIELD_ENCRYPTION_KEYS=NEW)
    create_app("test", SQLALCHEMY_DATABASE_URI=url, FIELD_ENCRYPTION_KEYS=f"{NEW},{OLD}")


def test_a_malformed_key_is_refused_by_name(keys):
    with pytest.raises(RuntimeError, match="malformed key"):
        encryption.configure(["not-a-key"])


def test_production_refuses_to_start_without_a_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@127.0.0.1/x")
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("FIELD_ENCRYPTION_KEY_FILE", raising=False)
    with pytest.raises(RuntimeError, match="FIELD_ENCRYPTION_KEY_FILE"):
        ProductionConfig.validate()


def test_the_migration_encrypts_existing_notes_and_the_downgrade_restores_them(
    fresh_database_url,  # noqa: F811 - the fixture
):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database_url)
    with app.app_context():
        before = _revision_before("0020_encrypted_notes")
        # The campus is made as the models now stand, then the schema taken back to before the
        # notes were encrypted: the models have outgrown that schema since.
        upgrade()
        campus = Campus()
        institution = campus.institution()
        student = campus.student(campus.class_group(campus.department(institution)))
        warning_id = open_warning(student, planned=False).id
        db.session.commit()
        db.session.remove()
        downgrade(revision=before)
        db.session.execute(
            text(
                "INSERT INTO warning_event (warning_id, at, kind, note) "
                "VALUES (:warning, CURRENT_TIMESTAMP, 'contact', :note)"
            ),
            {"warning": warning_id, "note": NOTE},
        )
        db.session.commit()

        upgrade(revision="0020_encrypted_notes")
        (stored,) = _stored(db.session, "warning_event", "note")
        assert NOTE not in stored
        assert encryption.decrypt(stored) == NOTE
        db.session.rollback()

        downgrade(revision=before)
        assert _stored(db.session, "warning_event", "note") == [NOTE]
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_the_rotate_command_reports_and_audits_what_it_re_encrypted(app, campus):
    _contact_with_note(campus, students=2)
    result = app.test_cli_runner().invoke(args=["campus", "rotate-keys", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "warning_event.note" in result.output
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "rotate_keys")).one()
    assert "warning_event.note=2" in row.detail


def _revision_before(revision: str) -> str:
    """The migration `revision` follows, as the chain now stands."""
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config())
    return str(script.get_revision(revision).down_revision)


def test_the_rotation_audit_names_every_field_that_held_values_however_many_are_empty():
    counts = {f"table_{n:02}.note": 0 for n in range(40)} | {"warning_event.note": 2}
    detail = rotation_summary(counts)
    assert detail.startswith("total=2 fields=41 ")
    assert "warning_event.note=2" in detail
    assert "table_00" not in detail
