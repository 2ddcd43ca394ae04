"""The records of processing: generated from the code's configuration, for the director only."""

from __future__ import annotations

import html

import pytest

from campus.encryption import encrypted_columns
from campus.forms import ROLE_LABELS
from campus.models import Role
from privacy import records
from screening.instruments import list_instruments
from screening.vocabulary import instrument_name


@pytest.fixture
def director(campus):
    inst = campus.institution("XJU")
    user = campus.staff(inst, Role.DIRECTOR, login="director")
    campus.commit()
    return user


def _page(login, user) -> str:
    response = login(user).get("/privacy/records")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_the_page_lists_every_encrypted_column_and_every_role(app, login, director):
    page = _page(login, director)
    columns = [f"{model.__tablename__}.{name}" for model, name in encrypted_columns()]
    assert columns, "the app has encrypted columns to list"
    for column in columns:
        assert column in page
    with app.test_request_context():
        labels = [str(ROLE_LABELS[role]) for role in Role]
    for label in labels:
        assert label in page


def test_every_encrypted_field_is_named_in_the_readers_words():
    """A new encrypted column without words would be listed by its column name alone, as every
    field was before (`appointment_precheck.reason`): give it its words in
    `privacy.records.ENCRYPTED_FIELD_WORDS`."""
    columns = {f"{model.__tablename__}.{name}" for model, name in encrypted_columns()}
    assert columns - set(records.ENCRYPTED_FIELD_WORDS) == set()
    assert set(records.ENCRYPTED_FIELD_WORDS) - columns == set(), "words for a field gone"


def test_the_director_reads_what_each_encrypted_field_is_with_its_column_small(login, director):
    section = _page(login, director).split('id="encrypted-h"', 1)[1].split("</section>", 1)[0]
    line = section.split("session_note.body", 1)[0].rsplit("<li>", 1)[1]
    assert line.startswith("Session note: text")
    assert '<small class="muted"><code>session_note.body</code></small>' in section
    assert "<li><code>" not in section  # no field by its column name alone


def test_the_page_lists_every_shipped_questionnaire(app, login, director):
    page = _page(login, director)
    with app.test_request_context():
        names = [instrument_name(code) for code in list_instruments()]
    for name in names:
        assert name in page


def test_who_reads_clinical_records_comes_from_the_access_rules():
    from campus.scope import Capability

    readers = records.readers_of(Capability.CLINICAL)
    assert Role.DIRECTOR in readers
    assert Role.SCHOOL_COUNSELLOR in readers  # caseload or break-glass
    assert Role.DEPT_COUNSELLOR not in readers
    assert Role.DORM_INFORMANT not in records.readers_of(Capability.WARNING)


def test_export_tiers_follow_the_configuration(app, login, director, monkeypatch):
    monkeypatch.setitem(app.config["EXPORT_TIERS"], "admin", "aggregates")
    with app.test_request_context():
        built = records.build(app)
    tiers = {line.role: line.export_tier.name for line in built.roles}
    assert tiers[Role.ADMIN] == "AGGREGATES"
    assert tiers[Role.DIRECTOR] == "IDENTIFIED"


def test_retention_is_read_from_the_institutions_schedule(login, director):
    page = _page(login, director)
    # privacy/retention/default.yaml: screening_results {from: left, years: 5, action: delete},
    # audit {from: created, years: 30, action: delete}.
    assert "5 years after the student leaves the university, then deleted" in page
    assert "30 years after the record is made, then deleted" in page
    assert "See the retention schedule" not in page


def test_an_institutions_own_schedule_changes_the_page(app, login, director, tmp_path, monkeypatch):
    (tmp_path / f"{director.institution.code}.yaml").write_text(
        'version: "own-1"\nrecord_types:\n'
        "  screening_results: {from: left, years: 2, action: delete}\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(app.config, "RETENTION_DIR", str(tmp_path))
    assert "2 years after the student leaves the university, then deleted" in _page(login, director)


@pytest.mark.parametrize("role", [Role.SCHOOL_COUNSELLOR, Role.ADMIN, Role.DEPT_COUNSELLOR])
def test_only_the_director_opens_the_page(campus, login, role):
    inst = campus.institution("XJU")
    department = campus.department(inst)
    user = campus.staff(inst, role, department=department)
    campus.commit()
    assert login(user).get("/privacy/records").status_code == 403


def test_reading_the_page_is_audited(login, director):
    from sqlalchemy import select

    from campus.audit import AuditEvent
    from campus.extensions import db

    _page(login, director)
    row = db.session.scalar(
        select(AuditEvent).where(AuditEvent.record_type == "records_of_processing")
    )
    assert row is not None
    assert row.actor_id == director.id
