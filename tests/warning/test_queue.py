"""The queue and the student page show only what each role and scope allow; overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.models import Student
from warning import services
from warning.models import EarlyWarning
from warning.models import WarningEvent
from warning.policy import Level


def _signal(student, total=15, instrument="phq9", label="PHQ-9 moderate in the intake"):
    services.record_signal(
        db.session,
        student=student,
        source="screening",
        observed_at=clock.now(),
        label=label,
        instrument=instrument,
        total=total,
    )
    db.session.commit()


@pytest.fixture
def two_departments(campus, unit):
    """Li Hua (Computing, yellow) and Wang Fang (Maths, red, a different department)."""
    maths = campus.department(unit.institution, "Maths")
    other = campus.student(campus.class_group(maths, "M-1"), name="Wang Fang")
    campus.commit()
    _signal(unit.student)
    _signal(other, total=22, label="PHQ-9 severe in the intake")
    return maths, other


ROLE_SEES = [
    (Role.DEPT_COUNSELLOR, {"Li Hua"}),
    (Role.DEPT_LEADER, {"Li Hua"}),
    (Role.SCHOOL_COUNSELLOR, {"Li Hua", "Wang Fang"}),
    (Role.DIRECTOR, {"Li Hua", "Wang Fang"}),
    (Role.ADMIN, {"Li Hua", "Wang Fang"}),
]


@pytest.mark.parametrize(("role", "seen"), ROLE_SEES)
def test_queue_shows_only_warnings_in_the_viewers_scope_and_is_audited(
    campus, unit, two_departments, login, role, seen
):
    viewer = campus.staff(unit.institution, role, department=unit.department)
    campus.commit()
    page = login(viewer).get("/warnings/").get_data(as_text=True)
    assert {name for name in ("Li Hua", "Wang Fang") if name in page} == seen
    assert "PHQ-9 moderate in the intake" in page
    audits = db.session.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "warning_queue")
    ).all()
    assert {a.actor_id for a in audits} == {viewer.id}
    named = db.session.scalars(
        select(Student.name)
        .join(AuditEvent, AuditEvent.student_id == Student.id)
        .where(AuditEvent.record_type == "warning_queue")
    ).all()
    assert sorted(named) == sorted(seen)


def test_queue_lists_red_first_and_filters_by_level(campus, unit, two_departments, login):
    viewer = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    client = login(viewer)
    page = client.get("/warnings/").get_data(as_text=True)
    assert page.index("Wang Fang") < page.index("Li Hua")
    only_yellow = client.get("/warnings/?level=2&sort=bogus").get_data(as_text=True)
    assert "Li Hua" in only_yellow
    assert "Wang Fang" not in only_yellow


@pytest.mark.parametrize("role", [Role.STUDENT, Role.CLASS_COMMITTEE, Role.DORM_INFORMANT])
def test_queue_and_student_page_are_forbidden_to_students_and_peer_tiers(
    campus, unit, two_departments, login, role
):
    viewer = campus.staff(unit.institution, role, group=unit.group, room=unit.room)
    campus.commit()
    client = login(viewer)
    assert client.get("/warnings/").status_code == 403
    assert client.get(f"/warnings/students/{unit.student.id}").status_code == 403


def test_department_counsellor_gets_404_for_a_student_of_another_department(
    campus, unit, two_departments, login
):
    viewer = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _maths, other = two_departments
    assert login(viewer).get(f"/warnings/students/{other.id}").status_code == 404


def test_student_page_shows_scores_only_with_clinical_access(campus, unit, two_departments, login):
    dept = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    school = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    db.session.add(Caseload(counsellor_id=school.id, student_id=unit.student.id))
    campus.commit()
    client = login(dept)
    page = client.get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert "PHQ-9 moderate in the intake" in page
    assert "PHQ-9 = 15" not in page
    client.post("/logout")
    page = login(school).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert "PHQ-9 = 15" in page
    reads = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "student_warnings", AuditEvent.outcome == "ok"
        )
    ).all()
    assert {r.actor_id for r in reads} == {dept.id, school.id}


def test_department_counsellor_may_raise_but_not_lower_and_the_override_is_audited(
    campus, unit, two_departments, login
):
    dept = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    client = login(dept)
    url = f"/warnings/students/{unit.student.id}/override"
    client.post(url, data={"level": "1", "reason": "seems much better now"})
    warning = db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.student_id == unit.student.id)
    )
    db.session.refresh(warning)
    assert warning.level == Level.YELLOW
    client.post(url, data={"level": "3", "reason": "told me of a plan last night"})
    db.session.refresh(warning)
    assert warning.level == Level.RED
    assert warning.override_reason == "told me of a plan last night"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "override_level"))
    assert audit.student_id == unit.student.id
    assert audit.reason == "told me of a plan last night"
    event = db.session.scalar(select(WarningEvent).where(WarningEvent.kind == "override"))
    assert (event.from_level, event.to_level) == (Level.YELLOW, Level.RED)
    page = client.get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert "told me of a plan last night" in page


def test_only_a_school_counsellor_lowers_red(campus, unit, two_departments, login):
    _maths, other = two_departments
    school = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = db.session.scalar(select(EarlyWarning).where(EarlyWarning.student_id == other.id))
    services.override_level(
        db.session,
        warning=warning,
        actor=school,
        level=Level.YELLOW,
        reason="assessed today, no plan, safety plan agreed",
        now=clock.now() + timedelta(hours=1),
    )
    assert warning.level == Level.YELLOW
    assert warning.computed_level == Level.RED


def test_a_level_change_has_one_rule_a_department_counsellor_raises_only_their_departments(
    campus, unit, two_departments
):
    """The service applies the same scoped rule as the warning page: another department's
    counsellor may not raise a warning outside their department."""
    maths, _other = two_departments
    yellow = campus.student(campus.class_group(maths, "M-2"), name="Zhao Lei")
    computing = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _signal(yellow)
    mine = db.session.scalar(select(EarlyWarning).where(EarlyWarning.student_id == unit.student.id))
    theirs = db.session.scalar(select(EarlyWarning).where(EarlyWarning.student_id == yellow.id))
    services.override_level(
        db.session,
        warning=mine,
        actor=computing,
        level=Level.RED,
        reason="told me of a plan last night",
        now=clock.now(),
    )
    with pytest.raises(services.OverrideError):
        services.override_level(
            db.session,
            warning=theirs,
            actor=computing,
            level=Level.RED,
            reason="heard about it from a friend",
            now=clock.now(),
        )
    assert mine.level == Level.RED
    assert theirs.level == Level.YELLOW
