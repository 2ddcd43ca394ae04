"""A `next` or a stored link only ever sends the browser to a path on this site."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from campus.notifications import notify
from campus.redirects import safe_next

OFF_SITE = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/%09/evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "https://evil.example/",
    "http:/\\evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_anything_but_a_plain_path_on_this_site_is_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/students?q=Li&page=2", "/inbox/", "/a%20b"])
def test_a_path_on_this_site_is_kept_as_it_is(target):
    assert safe_next(target) == target


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    user = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    student = campus.student(campus.class_group(campus.department(inst)))
    campus.commit()
    return user, student


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language/en", data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_returns_to_the_page_it_was_used_on(client):
    response = client.post("/language/en", data={"next": "/login?x=1"})
    assert response.headers["Location"] == "/login?x=1"


@pytest.mark.parametrize("target", OFF_SITE)
def test_break_glass_never_redirects_off_site(login, school, target):
    user, student = school
    client = login(user)
    response = client.post(
        f"/students/{student.id}/break-glass?next={quote(target, safe='')}",
        data={"reason": "Student called the hotline tonight"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/students"


def test_break_glass_returns_to_the_record_it_was_opened_for(login, school):
    user, student = school
    client = login(user)
    record = f"/warning/students/{student.id}"
    response = client.post(
        f"/students/{student.id}/break-glass?next={quote(record)}",
        data={"reason": "Student called the hotline tonight"},
    )
    assert response.headers["Location"] == record


@pytest.mark.parametrize("link", ["/\t/evil.example", "/%2F%2Fevil.example", "//evil.example"])
def test_a_notification_link_never_leads_off_site(login, school, link):
    user, _student = school
    notify(db.session, [user.id], "You have a new task", link)
    db.session.commit()
    note = db.session.scalar(select(Notification))
    response = login(user).post(f"/inbox/{note.id}/read")
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox/"
