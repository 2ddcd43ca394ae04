"""`flask campus rotate-keys` over the append-only clinical records: signed session notes, their
addenda and crisis entries (whose narrative issue #19 asked to encrypt) are re-encrypted, while
outside a rotation batch the database still refuses to change them."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from appointments import sessions
from campus import clock
from campus import encryption
from campus.extensions import db
from casework.models import CrisisEntry
from tests.appointments.session_world import appointment
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import crisis_world
from tests.conftest import sign_in


def _raw(table: str, column: str) -> str:
    return db.session.execute(text(f"SELECT {column} FROM {table}")).scalar_one()  # noqa: S608


@pytest.fixture
def world(app, campus):
    """A red warning's crisis record with its first entry, and a signed session note with an
    addendum for the same student."""
    world = crisis_world(campus)
    client = app.test_client()
    sign_in(client, world.counsellor)
    assert client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY).status_code == 302
    appt = appointment(world.student, world.counsellor, datetime(2026, 9, 14, 1, 0))
    db.session.commit()
    sessions.record_outcome(
        db.session, world.counsellor, appt, sessions.Outcome("attended", 0), clock.now()
    )
    note = sessions.save_draft(
        db.session, world.counsellor, appt, "危机后首次咨询", clock.now(), sign=True
    )
    sessions.add_addendum(db.session, world.counsellor, note, "补记", "tok", clock.now())
    return world


def test_the_crisis_narrative_is_encrypted_at_rest_and_still_read(app, world):
    raw = _raw("crisis_entry", "narrative")
    assert "balcony" not in raw
    assert db.session.scalar(select(CrisisEntry.narrative)) == ENTRY["narrative"]
    client = app.test_client()
    sign_in(client, world.counsellor)
    record_id = db.session.scalar(select(CrisisEntry.record_id))
    assert "balcony railing" in client.get(f"/crisis/{record_id}").get_data(as_text=True)


def test_rotate_keys_re_encrypts_crisis_entries_and_signed_notes(app, world):
    before = {t: _raw(t, c) for t, c in _TABLES}
    old = encryption.keys_from_config(app.config)
    new = encryption.new_key()
    encryption.configure([new, *old])
    try:
        result: Result = app.test_cli_runner().invoke(args=["campus", "rotate-keys"])
        assert result.exit_code == 0, result.output
        for table, column in _TABLES:
            after = _raw(table, column)
            assert after != before[table]
        encryption.configure([new])  # the old key dropped: everything still reads
        db.session.expire_all()
        assert db.session.scalar(select(CrisisEntry.narrative)) == ENTRY["narrative"]
        assert encryption.decrypt(_raw("session_note", "body")) == "危机后首次咨询"
        assert encryption.decrypt(_raw("session_note_addendum", "body")) == "补记"
        # The guard is closed again once rotate-keys is done.
        for statement in (
            "UPDATE crisis_entry SET narrative = narrative",
            "UPDATE session_note SET body = body",
            "UPDATE session_note_addendum SET body = body",
        ):
            with pytest.raises(DBAPIError):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(text("SELECT count(*) FROM key_rotation_marker")).scalar() == 0
    finally:
        encryption.configure(old)


def test_even_under_rotation_only_the_ciphertext_may_change(world):
    db.session.execute(text("INSERT INTO key_rotation_marker (id) VALUES (1)"))
    for statement in (
        "UPDATE crisis_entry SET place = 'elsewhere'",
        "UPDATE session_note SET state = 'DRAFT'",
        "UPDATE session_note_addendum SET author_id = author_id + 1",
    ):
        with pytest.raises(DBAPIError), db.session.begin_nested():
            db.session.execute(text(statement))
    db.session.rollback()


_TABLES = (
    ("crisis_entry", "narrative"),
    ("session_note", "body"),
    ("session_note_addendum", "body"),
)
