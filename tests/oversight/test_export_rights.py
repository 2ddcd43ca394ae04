"""Export rights by tier: a director's list file names the students, an administrator's replaces
them with a stable code, a role allowed aggregates only gets the KPI tables and a clear refusal for
lists; every export's audit row says which tier made it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campus import create_app
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from tests.oversight.test_views import SEPT


def exports() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")))


def test_a_director_exports_the_list_with_names(world, campus, login):
    director = campus.staff(world.xju.institution, Role.DIRECTOR)
    campus.commit()
    text = login(director).get("/oversight/drill/unscreened.csv", query_string=SEPT).text
    assert "Wang Fang" in text
    assert exports()[0].detail.startswith("tier=identified ")


def test_an_administrators_list_export_is_de_identified_with_a_stable_code(world, login):
    client = login(world.xju.admin)
    page = client.get("/oversight/drill/unscreened", query_string=SEPT).text
    assert "Wang Fang" in page  # the page itself is audited and shows the names
    assert "names and student numbers are replaced by a code" in page
    first = client.get("/oversight/drill/unscreened.csv", query_string=SEPT).text
    again = client.get("/oversight/drill/unscreened.csv", query_string=SEPT).text
    student = world.xju.students[1]
    for name in (student.name, student.student_number):
        assert name not in first
    header, row = first.splitlines()[:2]
    assert header.lstrip("\ufeff").startswith("Student code,Department,")
    assert row.startswith("P")
    assert first == again  # the same student, the same code
    assert {e.detail.split()[0] for e in exports()} == {"tier=deidentified"}
    assert {e.student_id for e in exports()} == {student.id}  # still audited per student


def test_a_role_allowed_aggregates_only_gets_tables_but_not_lists(world, login, app, monkeypatch):
    monkeypatch.setitem(app.config["EXPORT_TIERS"], "admin", "aggregates")
    client = login(world.xju.admin)
    assert client.get("/oversight/export/levels.csv", query_string=SEPT).status_code == 200
    page = client.get("/oversight/drill/unscreened", query_string=SEPT).text
    assert "/oversight/drill/unscreened.csv" not in page
    assert "aggregate tables only" in page
    refused = client.get("/oversight/drill/unscreened.csv", query_string=SEPT)
    assert refused.status_code == 403
    assert "aggregate tables only" in refused.text
    assert [e.detail.split()[0] for e in exports()] == ["tier=aggregates"]


def test_a_role_allowed_no_export_is_refused_every_file(world, login, app, monkeypatch):
    monkeypatch.setitem(app.config["EXPORT_TIERS"], "admin", "none")
    client = login(world.xju.admin)
    assert client.get("/oversight/export/levels.csv", query_string=SEPT).status_code == 403
    assert exports() == []


def test_the_province_exports_aggregates(world, login):
    client = login(world.province)
    response = client.get("/oversight/province/export/levels.csv", query_string=SEPT)
    assert response.status_code == 200
    assert exports()[0].detail.startswith("tier=aggregates ")


def test_a_mistyped_tier_stops_the_app_at_start(monkeypatch):
    monkeypatch.setenv("EXPORT_TIER_ADMIN", "everything")
    import importlib

    import config

    try:
        importlib.reload(config)
        with pytest.raises(RuntimeError, match="EXPORT_TIER_ADMIN='everything'"):
            create_app("test", EXPORT_TIERS=config.Config.EXPORT_TIERS)
    finally:
        monkeypatch.delenv("EXPORT_TIER_ADMIN")
        importlib.reload(config)
