"""The roster page is named for who reads it: peers are students, so their list is classmates."""

from __future__ import annotations

from datetime import datetime

from campus.models import Caseload
from campus.models import EnrolmentStatus
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


def _names(page: str, *names: str) -> list[str]:
    """The names among `names` in the page's table, in the order they appear."""
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return sorted((n for n in names if n in rows), key=rows.index)


def test_a_school_counsellor_opens_on_their_caseload_newest_first(campus, login):
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst, "Computing"))
    older, newer, other = (campus.student(group, name=n) for n in ("王一", "李二", "赵三"))
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    campus.session.add_all(
        [
            Caseload(counsellor_id=counsellor.id, student_id=older.id, since=datetime(2026, 10, 1)),
            Caseload(counsellor_id=counsellor.id, student_id=newer.id, since=datetime(2026, 12, 1)),
        ]
    )
    campus.commit()
    client = login(counsellor)

    mine = client.get("/students").get_data(as_text=True)
    assert "My caseload (2)" in mine
    assert _names(mine, "王一", "李二", "赵三") == ["李二", "王一"]
    assert "2026-10-01" in mine

    everyone = client.get("/students?show=all").get_data(as_text=True)
    assert _names(everyone, "王一", "李二", "赵三") == ["王一", "李二", "赵三"]
    searched = client.get("/students?show=all&q=赵三").get_data(as_text=True)
    assert _names(searched, "王一", "李二", "赵三") == ["赵三"]
    assert _names(client.get("/students?q=赵三").get_data(as_text=True), "赵三") == []
    by_digits = client.get("/students?show=all&q=S0000").get_data(as_text=True)
    assert _names(by_digits, "王一", "李二", "赵三") == ["王一", "李二", "赵三"]
    by_tail = client.get(f"/students?show=all&q={other.student_number[1:]}").get_data(as_text=True)
    assert _names(by_tail, "王一", "李二", "赵三") == ["赵三"]
    assert _names(client.get("/students?show=all&q=%25").get_data(as_text=True), "赵三") == []
    forged = client.get("/students?show=everything").get_data(as_text=True)
    assert _names(forged, "王一", "李二", "赵三") == ["李二", "王一"]


def test_a_roster_without_a_caseload_has_no_tabs(campus, login):
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    campus.student(campus.class_group(dept), name="王一")
    for role, scope in ((Role.SCHOOL_COUNSELLOR, {}), (Role.DEPT_COUNSELLOR, {"department": dept})):
        user = campus.staff(inst, role, **scope)
        campus.commit()
        for url in ("/students", "/students?show=caseload"):
            page = login(user).get(url).get_data(as_text=True)
            assert "王一" in page
            assert "My caseload" not in page


def test_the_roster_and_the_response_network_say_why_their_counts_differ(campus, login):
    """A counsellor's list said 共 336 条 and the response network 335 名学生: the one on leave
    is on the roster and in no unit of the network, and neither page said so."""
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept)
    campus.student(group, name="王一")
    away = campus.student(group, name="李二")
    away.enrolment_status = EnrolmentStatus.ON_LEAVE
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()
    client = login(counsellor)
    roster = client.get("/students").get_data(as_text=True)
    assert "2 students, of whom 1 on leave" in roster
    assert _names(roster, "王一", "李二") == ["王一", "李二"]
    assert 'class="tag">On leave</span>' in roster.split("李二", 1)[1].split("</tr>", 1)[0]
    network = client.get("/network/").get_data(as_text=True)
    assert "1 student in school (those on leave not counted)" in network
