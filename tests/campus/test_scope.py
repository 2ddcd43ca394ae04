"""Each role sees exactly its scope, across two institutions (minimum necessary)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.models import Student
from campus.scope import Capability
from campus.scope import student_filter

R, W, C = Capability.ROSTER, Capability.WARNING, Capability.CLINICAL


@pytest.fixture
def world(campus):
    """Two institutions; A has two departments, three classes, two rooms; B mirrors a little."""
    a, b = campus.institution("AAA"), campus.institution("BBB")
    d1, d2 = campus.department(a, "D1"), campus.department(a, "D2")
    c1, c2, c3 = (
        campus.class_group(d1, "C1"),
        campus.class_group(d1, "C2"),
        campus.class_group(d2, "C3"),
    )
    r1, r2 = campus.room(a, "101"), campus.room(a, "102")
    bd = campus.department(b, "D1")
    bc = campus.class_group(bd, "C1")
    br = campus.room(b, "101")
    s = {
        "s1": campus.student(c1, r1),
        "s2": campus.student(c2, r2),
        "s3": campus.student(c3, r1),
        "s4": campus.student(bc, br),
    }
    school = campus.staff(a, Role.SCHOOL_COUNSELLOR)
    db.session.add(Caseload(counsellor_id=school.id, student_id=s["s2"].id))
    users = {
        "dorm_r1": campus.staff(a, Role.DORM_INFORMANT, room=r1),
        "class_c1": campus.staff(a, Role.CLASS_COMMITTEE, group=c1),
        "counsellor_d1": campus.staff(a, Role.DEPT_COUNSELLOR, department=d1),
        "leader_d1": campus.staff(a, Role.DEPT_LEADER, department=d1),
        "school": school,
        "director": campus.staff(a, Role.DIRECTOR),
        "admin": campus.staff(a, Role.ADMIN),
        "liaison": campus.staff(a, Role.HOSPITAL_LIAISON, hospital=campus.hospital(a)),
        "auditor": campus.staff(campus.institution("PRV", kind="province"), Role.PROVINCE_AUDITOR),
        "student_s1": s["s1"].user,
        "b_counsellor": campus.staff(b, Role.DEPT_COUNSELLOR, department=bd),
        "b_dorm": campus.staff(b, Role.DORM_INFORMANT, room=br),
    }
    campus.commit()
    return users, s


EXPECTED = {
    # user: {capability: students visible}
    "dorm_r1": {R: {"s1", "s3"}, W: set(), C: set()},
    "class_c1": {R: {"s1"}, W: set(), C: set()},
    "counsellor_d1": {R: {"s1", "s2"}, W: {"s1", "s2"}, C: set()},
    "leader_d1": {R: {"s1", "s2"}, W: {"s1", "s2"}, C: set()},
    "school": {R: {"s1", "s2", "s3"}, W: {"s1", "s2", "s3"}, C: {"s2"}},
    "director": {R: {"s1", "s2", "s3"}, W: {"s1", "s2", "s3"}, C: {"s1", "s2", "s3"}},
    "admin": {R: {"s1", "s2", "s3"}, W: {"s1", "s2", "s3"}, C: set()},
    "liaison": {R: set(), W: set(), C: set()},
    "auditor": {R: set(), W: set(), C: set()},
    "student_s1": {R: set(), W: set(), C: set()},
    "b_counsellor": {R: {"s4"}, W: {"s4"}, C: set()},
    "b_dorm": {R: {"s4"}, W: set(), C: set()},
}


@pytest.mark.parametrize("capability", [R, W, C], ids=["roster", "warning", "clinical"])
@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_role_sees_exactly_its_scope(world, who, capability):
    users, students = world
    names = {v.id: k for k, v in students.items()}
    visible = db.session.scalars(
        select(Student.id).where(student_filter(users[who], capability))
    ).all()
    assert {names[i] for i in visible} == EXPECTED[who][capability]


def test_break_glass_opens_one_record_for_a_limited_time_and_is_audited(world, app):
    from datetime import timedelta

    from campus import clock
    from campus.audit import AuditEvent
    from campus.scope import grant_break_glass

    users, students = world
    school, s1 = users["school"], students["s1"]

    def clinical():
        return db.session.scalars(select(Student.id).where(student_filter(school, C))).all()

    assert s1.id not in clinical()
    grant_break_glass(db.session, school, s1, "Student called the hotline tonight", 60)
    assert s1.id in clinical()
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "break_glass"))
    assert row.reason == "Student called the hotline tonight"
    assert row.student_id == s1.id
    clock.advance(timedelta(minutes=61))
    assert s1.id not in clinical()


def test_break_glass_without_a_real_reason_is_refused(world):
    from campus.scope import grant_break_glass

    users, students = world
    with pytest.raises(ValueError, match="reason must say why"):
        grant_break_glass(db.session, users["school"], students["s1"], "  why  ", 60)
