"""The roster page is named for who reads it: peers are students, so their list is classmates."""

from __future__ import annotations

from campus.models import Role


def test_a_class_committee_member_reads_my_classmates_and_a_counsellor_my_students(campus, login):
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept)
    member = campus.student(group)
    committee = campus.staff(inst, Role.CLASS_COMMITTEE, group=group, user=member.user)
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()

    peer_page = login(committee).get("/students").get_data(as_text=True)
    assert "<h1>My classmates</h1>" in peer_page
    assert "My students" not in peer_page  # nor in the navigation
    staff_page = login(counsellor).get("/students").get_data(as_text=True)
    assert "<h1>My students</h1>" in staff_page
