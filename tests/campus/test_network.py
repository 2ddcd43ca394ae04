"""The response network page: the administrator sees which units have students and no one to
hold them, on the home page and unit by unit, and appoints a class's committee member or a room's
informant from its own students."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import admin as admin_service
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import EnrolmentStatus
from campus.models import Role
from campus.models import RoleAssignment
from tests.factories import phq9_signal


@pytest.fixture
def first_week(campus):
    """A campus just imported: one department, one class, one room, two students, an
    administrator, and no one yet in the response network."""
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept, "CS-2026-1")
    room = campus.room(inst, "101")
    student = campus.student(group, room, name="Li Hua")
    classmate = campus.student(group, name="Wang Fang")
    admin = campus.staff(inst, Role.ADMIN)
    campus.commit()
    return inst, dept, group, room, student, classmate, admin


def _gaps_line(home: str) -> str:
    """The workbench item about the network, with its detail line."""
    match = re.search(r"The response network has gaps.*?</li>", home, re.S)
    return match.group(0) if match else ""


def _roles(role: Role) -> list[RoleAssignment]:
    return list(db.session.scalars(select(RoleAssignment).where(RoleAssignment.role == role)))


def test_a_new_campus_shows_its_gaps_and_an_appointment_closes_one(first_week, login):
    inst, dept, group, room, student, classmate, admin = first_week
    client = login(admin)

    line = _gaps_line(client.get("/").get_data(as_text=True))
    assert "no school counsellor" in line
    assert "1 department without a counsellor" in line
    assert "1 class without a psychology committee member" in line
    assert "1 dorm room without an informant" in line

    page = client.get("/network/").get_data(as_text=True)
    assert "CS-2026-1" in page
    assert "0 of 1 dorm rooms with students have an informant." in page

    form = client.get(f"/network/class/{group.id}").get_data(as_text=True)
    assert "Li Hua" in form
    assert "Wang Fang" in form
    response = client.post(f"/network/class/{group.id}", data={"student_id": classmate.id})
    assert response.status_code == 302
    assert [a.user_id for a in _roles(Role.CLASS_COMMITTEE)] == [classmate.user_id]
    assert _roles(Role.CLASS_COMMITTEE)[0].class_id == group.id
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assign_role"))
    assert audit is not None
    assert audit.actor_id == admin.id

    line = _gaps_line(client.get("/").get_data(as_text=True))
    assert "class without" not in line
    assert "1 dorm room without an informant" in line

    # The new committee member is told, and finds their class on their own home page.
    client.post("/logout")
    member = login(classmate.user)
    assert "You are now your class&#39;s psychology committee member." in member.get(
        "/inbox/"
    ).get_data(as_text=True)
    assert "My class" in member.get("/").get_data(as_text=True)


def test_a_foreign_student_a_forged_unit_and_a_second_click_change_nothing(
    campus, first_week, login
):
    inst, dept, group, room, student, classmate, admin = first_week
    other_group = campus.class_group(dept, "CS-2026-2")
    stranger = campus.student(other_group, name="Zhao Lei")
    campus.commit()
    client = login(admin)

    page = client.post(f"/network/room/{room.id}", data={"student_id": stranger.id})
    assert page.status_code == 422
    assert "Not a valid choice" in page.get_data(as_text=True)
    assert _roles(Role.DORM_INFORMANT) == []

    assert client.get("/network/class/99999").status_code == 404
    assert client.get(f"/network/department/{dept.id}").status_code == 404

    client.post(f"/network/room/{room.id}", data={"student_id": student.id})
    again = client.post(
        f"/network/room/{room.id}", data={"student_id": student.id}, follow_redirects=True
    )
    assert "That role is already assigned." in again.get_data(as_text=True)
    assert len(_roles(Role.DORM_INFORMANT)) == 1

    (admin_role,) = _roles(Role.ADMIN)  # not a peer role of this room: not ended through it
    forged = client.post(f"/network/room/{room.id}/end/{admin_role.id}", follow_redirects=True)
    assert "That role is not held here any more." in forged.get_data(as_text=True)
    assert len(_roles(Role.ADMIN)) == 1


def test_an_ended_holder_leaves_a_gap_and_a_class_with_no_one_enrolled_is_none(
    campus, first_week, login
):
    inst, dept, group, room, student, classmate, admin = first_week
    campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.staff(inst, Role.DEPT_LEADER, department=dept)
    campus.staff(inst, Role.DORM_INFORMANT, user=student.user, room=room)
    yesterday = admin_service.local_today(inst, clock.now()) - timedelta(days=1)
    campus.staff(inst, Role.CLASS_COMMITTEE, user=classmate.user, group=group, until=yesterday)
    on_leave = campus.class_group(dept, "CS-2026-3")
    campus.student(on_leave).enrolment_status = EnrolmentStatus.ON_LEAVE
    campus.commit()

    line = _gaps_line(login(admin).get("/").get_data(as_text=True))
    assert line.count("without") == 1
    assert "1 class without a psychology committee member" in line
    assert "school counsellor" not in line


def test_a_complete_network_leaves_the_home_page(campus, first_week, login):
    inst, dept, group, room, student, classmate, admin = first_week
    campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.staff(inst, Role.DEPT_LEADER, department=dept)
    campus.staff(inst, Role.DORM_INFORMANT, user=student.user, room=room)
    campus.staff(inst, Role.CLASS_COMMITTEE, user=classmate.user, group=group)
    campus.commit()
    assert "response network" not in login(admin).get("/").get_data(as_text=True)


def test_a_department_counsellor_appoints_and_ends_for_their_own_classes_only(
    campus, first_week, login
):
    inst, dept, group, room, student, classmate, admin = first_week
    history = campus.department(inst, "History")
    their_class = campus.class_group(history, "HI-2026-1")
    campus.student(their_class, name="Zhou Min")
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()
    client = login(counsellor)

    line = _gaps_line(client.get("/").get_data(as_text=True))
    assert "1 class without a psychology committee member" in line
    assert "dorm room" not in line  # the rooms are the administrator's
    page = client.get("/network/").get_data(as_text=True)
    assert "CS-2026-1" in page
    assert "HI-2026-1" not in page
    assert 'id="rooms"' not in page
    assert client.get(f"/network/class/{their_class.id}").status_code == 404
    assert client.get(f"/network/room/{room.id}").status_code == 404

    client.post(f"/network/class/{group.id}", data={"student_id": student.id})
    (held,) = _roles(Role.CLASS_COMMITTEE)
    assert held.user_id == student.user_id
    assert "class without" not in _gaps_line(client.get("/").get_data(as_text=True))

    ended = client.post(f"/network/class/{group.id}/end/{held.id}", follow_redirects=True)
    assert "Role ended." in ended.get_data(as_text=True)
    assert _roles(Role.CLASS_COMMITTEE) == []
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "remove_role"))
    assert audit is not None
    assert audit.actor_id == counsellor.id
    assert "1 class without" in _gaps_line(client.get("/").get_data(as_text=True))
    client.post("/logout")
    inbox = login(student.user).get("/inbox/").get_data(as_text=True)
    assert "You are no longer your class&#39;s psychology committee member." in inbox


def test_the_warning_page_says_when_no_one_would_receive_a_peer_watch(campus, first_week, login):
    inst, dept, group, room, student, classmate, admin = first_week
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()
    phq9_signal(student, 22)
    client = login(counsellor)

    page = client.get(f"/warnings/students/{student.id}").get_data(as_text=True)
    assert "CS-2026-1 has no psychology committee member" in page
    assert f"Dorm room {room.label} has no informant" in page
    assert f'href="/network/class/{group.id}"' in page

    client.post(f"/network/class/{group.id}", data={"student_id": classmate.id})
    page = client.get(f"/warnings/students/{student.id}").get_data(as_text=True)
    assert "has no psychology committee member" not in page
    assert f"Dorm room {room.label} has no informant" in page


def test_a_department_without_a_leader_is_a_gap_everywhere_gaps_are_listed(
    campus, first_week, login
):
    """Before, /network/ showed 「院系分管领导：无人」 in red, but neither its list of gaps nor the
    administrator's or the department counsellor's home said so, though the department's red
    warnings go to its leader."""
    inst, dept, group, room, student, classmate, admin = first_week
    campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.staff(inst, Role.DORM_INFORMANT, user=student.user, room=room)
    campus.staff(inst, Role.CLASS_COMMITTEE, user=classmate.user, group=group)
    campus.commit()
    client = login(admin)
    line = _gaps_line(client.get("/").get_data(as_text=True))
    assert "1 department without a department leader" in line
    assert "urgency-today" in client.get("/").get_data(as_text=True)
    page = client.get("/network/").get_data(as_text=True)
    gaps = page[page.index('id="h-gaps"') : page.index("</section>", page.index('id="h-gaps"'))]
    assert "1 department without a department leader" in gaps
    assert f'<a href="#dept-{dept.id}">Computing</a>' in gaps
    assert f'id="dept-{dept.id}"' in page
    section = page[page.index(f'id="dept-{dept.id}"') :]
    assert 'href="/admin/users"' in section.split("</p>", 2)[1]  # the leader's line: give it

    client.post("/logout")
    theirs = login(counsellor)
    assert "1 department without a department leader" in _gaps_line(
        theirs.get("/").get_data(as_text=True)
    )
    page = theirs.get("/network/").get_data(as_text=True)
    assert "1 department without a department leader" in page
    assert "ask them to" in page  # the administrator gives it; the counsellor cannot
    assert 'href="/admin/users"' not in page

    campus.staff(inst, Role.DEPT_LEADER, department=dept)
    campus.commit()
    assert "response network" not in theirs.get("/").get_data(as_text=True)


def test_a_department_without_a_counsellor_names_it_with_a_link_to_its_section(
    campus, first_week, login
):
    inst, dept, group, room, student, classmate, admin = first_week
    campus.staff(inst, Role.DEPT_LEADER, department=dept)
    campus.commit()
    page = login(admin).get("/network/").get_data(as_text=True)
    gaps = page[page.index('id="h-gaps"') : page.index("</section>", page.index('id="h-gaps"'))]
    assert "1 department without a counsellor" in gaps
    assert f'<a href="#dept-{dept.id}">Computing</a>' in gaps
    assert "department leader" not in gaps


def test_the_administrator_finds_any_room_by_building_or_as_written_past_the_first_200(
    campus, login
):
    """Before: only the first 200 rooms without an informant were listed, with no way to reach
    the others (or a room whose informant is to be replaced)."""
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst, "Computing"), "CS2601")
    six = DormBuilding(institution_id=inst.id, name="6栋")
    sixteen = DormBuilding(institution_id=inst.id, name="16栋")
    rooms = {}
    for building in (six, sixteen):
        for floor in range(1, 7):
            for number in range(1, 41):
                room = DormRoom(building=building, number=f"{floor}{number:02d}")
                rooms[room.label] = room
    db.session.add_all(rooms.values())
    db.session.flush()
    for label in ("6栋-303", "16栋-303", "16栋-640"):
        campus.student(group, rooms[label], name=f"Resident {label}")
    held = campus.student(group, rooms["6栋-101"], name="Informant Zhao")
    campus.staff(inst, Role.DORM_INFORMANT, room=rooms["6栋-101"], user=held.user)
    for index in range(220):  # a full building of freshmen, one a room, none yet appointed
        campus.student(group, list(rooms.values())[240 + index], name=f"Freshman {index}")
    admin = campus.staff(inst, Role.ADMIN)
    campus.commit()
    client = login(admin)

    page = client.get("/network/").get_data(as_text=True)
    assert "16栋-640" not in page  # past the first 200
    assert "choose a building, or search for a room" in page

    found = client.get("/network/", query_string={"room": "6栋-303"}).get_data(as_text=True)
    assert "2 rooms with students found" in found  # 6栋-303 and 16栋-303
    assert f'/network/room/{rooms["6栋-303"].id}"' in found

    in_six = client.get("/network/", query_string={"building": six.id, "room": "303室"}).get_data(
        as_text=True
    )
    assert "1 room with students found" in in_six
    assert "16栋-303" not in in_six

    informant = client.get("/network/", query_string={"room": "6栋 101"}).get_data(as_text=True)
    assert "Informant Zhao" in informant
    assert "Appoint another" in informant

    tail = client.get("/network/", query_string={"room": "16栋-640"}).get_data(as_text=True)
    assert f'/network/room/{rooms["16栋-640"].id}"' in tail
    # As people type it: a building's number without 栋, a full-width keyboard's digits.
    for typed in ("16-640", "１６栋－６４０"):
        page = client.get("/network/", query_string={"room": typed}).get_data(as_text=True)
        assert "1 room with students found" in page, typed
        assert f'/network/room/{rooms["16栋-640"].id}"' in page, typed
