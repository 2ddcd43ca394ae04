"""Forged ids change nothing and reveal nothing; sensitive reads leave audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User


@pytest.fixture
def two_admins(campus):
    a, b = campus.institution("AAA"), campus.institution("BBB")
    admin_a = campus.staff(a, Role.ADMIN, login="admin")
    admin_b = campus.staff(b, Role.ADMIN, login="admin")
    staff_b = campus.staff(b, Role.DEPT_COUNSELLOR, department=campus.department(b))
    campus.commit()
    return admin_a, admin_b, staff_b


def test_admin_cannot_open_or_change_another_institutions_user(login, two_admins):
    admin_a, _admin_b, staff_b = two_admins
    client = login(admin_a)
    before = db.session.scalar(select(func.count()).select_from(RoleAssignment))
    assert client.get(f"/admin/users/{staff_b.id}").status_code == 404
    assert client.post(f"/admin/users/{staff_b.id}", data={"role": "admin"}).status_code == 404
    assert client.post(f"/admin/users/{staff_b.id}/password").status_code == 404
    assignment = staff_b.roles[0]
    assert client.post(f"/admin/users/{staff_b.id}/roles/{assignment.id}/remove").status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(RoleAssignment)) == before
    assert db.session.get(User, staff_b.id).password_hash == staff_b.password_hash


def test_admin_cannot_assign_a_scope_from_another_institution(login, campus, two_admins):
    admin_a, _b, staff_b = two_admins
    target = campus.staff(admin_a.institution, Role.DIRECTOR)
    campus.commit()
    foreign_department = staff_b.roles[0].department_id
    client = login(admin_a)
    client.post(
        f"/admin/users/{target.id}",
        data={"role": "dept_counsellor", "scope": f"department:{foreign_department}"},
    )
    db.session.expire_all()
    assert [a.role for a in db.session.get(User, target.id).roles] == [Role.DIRECTOR]


def test_non_admin_gets_403_on_admin_pages(login, two_admins):
    _a, _b, staff_b = two_admins
    client = login(staff_b)
    for url in ("/admin/users", "/admin/structure", "/admin/roster"):
        assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, two_admins):
    for url in ("/students", "/admin/users"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_break_glass_on_a_forged_student_id_is_404_and_audited_as_denied(login, campus):
    inst, other = campus.institution("AAA"), campus.institution("BBB")
    school = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    foreign = campus.student(campus.class_group(campus.department(other)))
    campus.commit()
    client = login(school)
    assert client.get(f"/students/{foreign.id}/break-glass").status_code == 404
    assert client.get("/students/999999/break-glass").status_code == 404
    denied = db.session.scalar(select(func.count()).where(AuditEvent.outcome == "denied"))
    assert denied == 2


def test_audit_rows_cannot_be_rewritten(app, campus):
    from campus import audit

    row = audit.record(db.session, actor=None, action="read", record_type="x")
    db.session.commit()
    row.action = "nothing to see"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_next_parameters_never_redirect_off_site(client, campus, target):
    inst = campus.institution("AAA")
    campus.staff(inst, Role.ADMIN)
    campus.commit()
    response = client.post("/language/en", data={"next": target})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_a_server_without_explicit_configuration_refuses_to_start(monkeypatch):
    from campus import create_app

    monkeypatch.delenv("XINQIAO_CONFIG", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
