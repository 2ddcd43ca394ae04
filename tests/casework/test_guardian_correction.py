"""The guardian's name and phone corrected on the student file by whoever calls the family: the
roster's number was missing or wrong, and only a new roster import could change it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Student
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.conftest import sign_in


@pytest.fixture
def world(campus) -> CrisisWorld:
    found = crisis_world(campus)
    found.student.guardian_phone = "13900000000"
    campus.commit()
    return found


def _client(app: Flask, user):
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client


def _url(world: CrisisWorld) -> str:
    return f"/casework/students/{world.student.id}/guardian"


def _on_file(world: CrisisWorld) -> tuple[str | None, str | None]:
    db.session.expire_all()
    student = db.session.get(Student, world.student.id)
    return student.guardian_name, student.guardian_phone


def _corrections() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "correct_guardian", AuditEvent.outcome == "ok"
            )
        )
    )


def _send(client, world: CrisisWorld, phone: str, name: str = "李建国", *, query: str = ""):
    """The form as drawn over the roster's guardian (李建国, 13900000000), sent with `phone`."""
    data = {"was_name": "李建国", "was_phone": "13900000000", "name": name, "phone": phone}
    return client.post(_url(world) + query, data=data)


def test_the_department_counsellor_corrects_the_number_and_every_page_shows_it(app, world):
    client = _client(app, world.dept_counsellor)
    page = client.get(f"/casework/students/{world.student.id}").text
    assert f'href="{_url(world)}?next=/casework/students/{world.student.id}"' in page

    response = _send(client, world, "138 0731 2345", name="王芳")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/casework/students/{world.student.id}"
    assert _on_file(world) == ("王芳", "138 0731 2345")
    (row,) = _corrections()
    assert (row.actor_id, row.student_id) == (world.dept_counsellor.id, world.student.id)
    assert row.detail == (
        "guardian_name: '李建国' -> '王芳'; guardian_phone: '13900000000' -> '138 0731 2345'"
    )
    # The school centre, who also calls, dials the new number and reads who corrected it.
    html = _client(app, world.counsellor).get(f"/warnings/students/{world.student.id}").text
    assert 'href="tel:13807312345"' in html
    assert "tel:13900000000" not in html
    assert f"Corrected by {world.dept_counsellor.name} on" in html


def test_a_counsellor_of_another_department_gets_404_and_the_attempt_is_audited(app, world):
    client = _client(app, world.other_dept_counsellor)
    assert client.get(_url(world)).status_code == 404
    assert _send(client, world, "13807312345").status_code == 404
    assert _on_file(world) == ("李建国", "13900000000")
    denied = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "correct_guardian", AuditEvent.outcome == "denied"
        )
    ).all()
    assert [(d.actor_id, d.record_id) for d in denied] == [
        (world.other_dept_counsellor.id, str(world.student.id))
    ] * 2
    assert _corrections() == []


def test_who_does_not_call_the_family_cannot_correct_it(app, world):
    # The department leader reads the file but never sees the number: nor may she change it.
    leader = _client(app, world.dept_leader)
    assert "/guardian" not in leader.get(f"/casework/students/{world.student.id}").text
    assert _send(leader, world, "13807312345").status_code == 403
    assert _on_file(world) == ("李建国", "13900000000")


def test_a_bad_phone_is_refused_with_the_roster_rule_and_nothing_is_written(app, world):
    client = _client(app, world.dept_counsellor)
    response = _send(client, world, "1390000")
    assert response.status_code == 400
    assert "&#39;1390000&#39; is not a phone number (a mobile or an area code and number)" in (
        response.text
    )
    assert _send(client, world, "").status_code == 400
    assert _on_file(world) == ("李建国", "13900000000")
    assert _corrections() == []


def test_a_double_submit_writes_once(app, world):
    client = _client(app, world.dept_counsellor)
    first = _send(client, world, "13807312345")
    second = _send(client, world, "13807312345")
    assert first.status_code == second.status_code == 302
    assert len(_corrections()) == 1
    assert "This correction was already saved." in client.get(second.headers["Location"]).text
    assert _on_file(world) == ("李建国", "13807312345")


def test_a_form_drawn_before_another_correction_is_refused_not_applied_over_it(app, world):
    _send(_client(app, world.counsellor), world, "13807312345")
    response = _send(_client(app, world.dept_counsellor), world, "13911112222")
    assert response.status_code == 400
    assert "was changed since this page was opened" in response.text
    assert _on_file(world) == ("李建国", "13807312345")
    assert len(_corrections()) == 1


def test_back_returns_to_the_warning_page_the_link_was_on(app, world):
    client = _client(app, world.dept_counsellor)
    warning_page = f"/warnings/students/{world.student.id}"
    assert f"{_url(world)}?next={warning_page}" in client.get(warning_page).text
    response = _send(client, world, "13807312345", query=f"?next={warning_page}")
    assert response.headers["Location"] == warning_page
    # Never another site.
    response = _send(client, world, "13807312345", query="?next=//evil.example")
    assert response.headers["Location"] == f"/casework/students/{world.student.id}"


@pytest.mark.parametrize(
    ("typed", "stored", "dialled"),
    [
        ("+86 139-3400-4632", "+86 139-3400-4632", "+8613934004632"),  # copied from WeChat
        ("１３９３４００４６３２", "13934004632", "13934004632"),  # a full-width keyboard
        ("０７３１－８８８８１２３４", "0731-88881234", "073188881234"),
    ],
)
def test_a_number_written_as_phones_and_keyboards_write_it_is_taken_and_dialled(
    app, world, typed, stored, dialled
):
    """A walk found the correction refused '+86 139-3400-4632' and full-width digits while a red
    warning's guardian notice was due."""
    client = _client(app, world.dept_counsellor)
    assert _send(client, world, typed).status_code == 302
    assert _on_file(world) == ("李建国", stored)
    html = client.get(f"/warnings/students/{world.student.id}").text
    assert f'href="tel:{dialled}"' in html
