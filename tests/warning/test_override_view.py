"""The override form goes through the one override service, which checks the actor's scope."""

from __future__ import annotations

from campus.extensions import db
from campus.models import Role
from tests.factories import phq9_signal
from warning.models import EarlyWarning
from warning.policy import Level


def _override(client, student, warning, level: int):
    return client.post(
        f"/warnings/students/{student.id}/override",
        data={
            "level": str(level),
            "reason": "Talked of a plan at the dorm",
            "version": warning.version,
        },
    )


def test_department_counsellor_raises_a_level_in_own_department(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    warning = phq9_signal(unit.student, 12, "PHQ-9 moderate in the intake")
    assert _override(login(counsellor), unit.student, warning, 3).status_code == 302
    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).level == Level.RED


def test_a_counsellor_of_another_department_cannot_override_through_an_admin_role(
    campus, unit, login
):
    """Admin gives sight of the whole school, not the right to act on another department."""
    other = campus.department(unit.institution, "Law")
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=other)
    campus.staff(unit.institution, Role.ADMIN, user=counsellor)
    campus.commit()
    warning = phq9_signal(unit.student, 12, "PHQ-9 moderate in the intake")
    assert _override(login(counsellor), unit.student, warning, 3).status_code == 403
    db.session.expire_all()
    assert db.session.get(EarlyWarning, warning.id).level == Level.YELLOW
    assert db.session.get(EarlyWarning, warning.id).override_level is None


def test_an_override_on_a_stale_version_is_refused_with_409(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    warning = phq9_signal(unit.student, 12, "PHQ-9 moderate in the intake")
    client = login(counsellor)
    response = client.post(
        f"/warnings/students/{unit.student.id}/override",
        data={
            "level": "3",
            "reason": "Talked of a plan at the dorm",
            "version": warning.version - 1,
        },
    )
    assert response.status_code == 409


def test_the_raised_warning_says_why_in_the_readers_language_without_a_user_id(campus, unit, login):
    """It read "yellow: override by user 2006 on 2026-12-06: …" in English on a Chinese page,
    with the UTC date: the stamp's date and the label's did not agree after 16:00 UTC."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    counsellor.locale = "zh_CN"
    campus.commit()
    warning = phq9_signal(unit.student, 12, "PHQ-9 moderate in the intake")
    client = login(counsellor)
    _override(client, unit.student, warning, 3)
    db.session.expire_all()
    raised = db.session.get(EarlyWarning, warning.id)
    assert raised.reason_key is not None
    page = client.get("/warnings/").get_data(as_text=True)
    assert "由老师人工调整：Talked of a plan at the dorm" in page
    assert "override by user" not in page
    assert str(counsellor.id) not in raised.reason
