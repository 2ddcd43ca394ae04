"""A student's forgotten password, reset by the administrator from the pages where they look for
a student: the student list (found by number), the student's file, the accounts page. Before,
the activation page sent them to "the student's account page" and nothing led there."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import User
from tests.conftest import sign_in


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    boss = campus.staff(inst, Role.ADMIN)
    dept = campus.department(inst)
    student = campus.student(campus.class_group(dept), number="2026001")
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()
    return boss, student, counsellor


def test_an_administrator_finds_the_student_by_number_and_resets_the_password(school, login, app):
    boss, student, _counsellor = school
    client = login(boss)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/students"' in home  # the student list is in the administrator's menu
    listed = client.get("/students?q=2026001").get_data(as_text=True)
    account = re.search(r'href="(/admin/users/(\d+)[^"]*)"[^>]*>Account and password<', listed)
    assert account is not None
    assert int(account[2]) == student.user_id
    page = client.get(account[1].replace("&amp;", "&")).get_data(as_text=True)
    assert "Student account" in page
    issued = client.post(f"/admin/users/{student.user_id}/password").get_data(as_text=True)
    password = re.search(r'<p class="otp"><code>([^<]+)</code>', issued)[1]
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reset_password"))
    assert (row.actor_id, row.record_id) == (boss.id, str(student.user_id))
    own = app.test_client()
    assert sign_in(own, student.user, password).status_code == 302
    assert own.get("/").headers["Location"].endswith("/password")  # a new password first


def test_the_accounts_page_opens_a_students_account_by_number(school, login):
    boss, student, _counsellor = school
    client = login(boss)
    found = client.get("/admin/users?student=2026001")
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/admin/users/{student.user_id}")
    missing = client.get("/admin/users?student=2099999")
    assert missing.status_code == 404
    assert "No student of this institution has that student number." in missing.get_data(
        as_text=True
    )


def test_the_students_file_links_the_account_for_the_administrator_only(school, login):
    boss, student, counsellor = school
    client = login(boss)
    link = f'href="/admin/users/{student.user_id}?institution='
    assert link in client.get(f"/casework/students/{student.id}").get_data(as_text=True)
    client.post("/logout")
    client = login(counsellor)
    assert link not in client.get(f"/casework/students/{student.id}").get_data(as_text=True)
    assert "Account and password" not in client.get("/students").get_data(as_text=True)


def test_a_department_counsellor_cannot_reset_a_students_password(school, login):
    _boss, student, counsellor = school
    before = db.session.get(User, student.user_id).password_hash
    client = login(counsellor)
    assert client.post(f"/admin/users/{student.user_id}/password").status_code == 403
    assert client.get(f"/admin/users/{student.user_id}").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, student.user_id).password_hash == before


def test_a_lost_slip_for_a_student_with_a_password_takes_the_administrator_to_the_reset(
    school, login
):
    boss, student, counsellor = school
    client = login(boss)
    asked = client.post(
        "/activation/student",
        data={"student_number": "2026001", "valid_days": "14", "submission": "a" * 32},
    )
    assert asked.headers["Location"].endswith(
        f"/admin/users/{student.user_id}?institution={student.institution_id}#password"
    )
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "issue a one-time password here." in page
    client.post("/logout")
    told = login(counsellor).post(
        "/activation/student",
        data={"student_number": "2026001", "valid_days": "14", "submission": "b" * 32},
        follow_redirects=True,
    )
    assert "the Students list, “Account and password”" in told.get_data(as_text=True)
