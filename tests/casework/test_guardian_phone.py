"""The guardian's phone number where the person who must call sees it: on a red warning the
department counsellor owes 通知监护人 within 24 hours, and the roster's number was shown nowhere."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.conftest import sign_in

TAP_TO_CALL = 'href="tel:13912345678"'


@pytest.fixture
def world(campus) -> CrisisWorld:
    found = crisis_world(campus)
    found.student.guardian_phone = "139 1234 5678"
    campus.commit()
    return found


def _pages(world: CrisisWorld) -> dict[str, str]:
    student = world.student.id
    return {
        "warning page": f"/warnings/students/{student}",
        "student file": f"/casework/students/{student}",
        "crisis record": f"/crisis/warnings/{world.warning.id}",
        "family-contact form": f"/casework/students/{student}/family-contacts/new?back=warning",
    }


def _client(app: Flask, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def test_the_department_counsellor_and_the_centre_see_the_number_to_tap_on_every_page(app, world):
    for user in (world.dept_counsellor, world.counsellor, world.director):
        client = _client(app, user)
        for page, url in _pages(world).items():
            html = client.get(url).get_data(as_text=True)
            assert TAP_TO_CALL in html, (user.login, page)
            assert "139 1234 5678" in html, (user.login, page)
            assert "李建国" in html, (user.login, page)


def test_the_warning_page_gives_the_number_beside_the_owed_guardian_step(app, world):
    html = _client(app, world.dept_counsellor).get(_pages(world)["warning page"]).text
    owed = html.split('id="owed-title"', 1)[1].split("</ul>", 1)[0]
    assert TAP_TO_CALL in owed.split("Notify the guardian", 1)[1].split("<li>", 1)[0]


def test_peers_the_department_leader_and_the_administrator_never_see_the_number(app, campus, world):
    admin = campus.staff(world.student.institution, Role.ADMIN)
    campus.commit()
    for user in (world.dept_leader, admin, world.committee, world.dorm):
        client = _client(app, user)
        for page, url in _pages(world).items():
            html = client.get(url).get_data(as_text=True)
            assert "tel:139" not in html, (user.login, page)
            assert "1234 5678" not in html, (user.login, page)
    # The leader does read the warning and the file: the number alone is left out.
    leader = _client(app, world.dept_leader)
    assert leader.get(_pages(world)["warning page"]).status_code == 200
    assert leader.get(_pages(world)["student file"]).status_code == 200


def test_no_number_on_the_roster_says_so_and_who_can_add_it(app, campus, world):
    world.student.guardian_phone = None
    campus.commit()
    client = _client(app, world.dept_counsellor)
    for page, url in _pages(world).items():
        html = client.get(url).get_data(as_text=True)
        assert "tel:" not in html.split("<footer", 1)[0], page
        assert "No guardian phone number is on the roster." in html, page
        assert f"/casework/students/{world.student.id}/guardian?next=" in html, page


def test_opening_the_family_contact_form_that_shows_the_number_is_audited(app, world):
    client = _client(app, world.dept_counsellor)
    assert client.get(_pages(world)["family-contact form"]).status_code == 200
    row = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "family_contact_form", AuditEvent.outcome == "ok"
        )
    ).one()
    assert (row.actor_id, row.student_id, row.detail) == (
        world.dept_counsellor.id,
        world.student.id,
        "guardian_phone=shown",
    )
