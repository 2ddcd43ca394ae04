"""The structure page after the first import: dorm buildings and rooms shown and added by hand,
and a department, class, building or room renamed or removed while nothing holds it."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Role
from screening.models import Campaign


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    boss = campus.staff(inst, Role.ADMIN)
    dept = campus.department(inst, "计算机学院")
    group = campus.class_group(dept, "计科2601班")
    room = campus.room(inst, "305")
    campus.student(group, room)
    campus.commit()
    return inst, boss, dept, group, room


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_structure_page_lists_dorm_buildings_with_their_rooms_and_residents(school, login):
    _inst, boss, _dept, _group, room = school
    page = login(boss).get("/admin/structure").get_data(as_text=True)
    building = room.building.name
    assert f">{building}</a></td><td>1</td><td>1</td>" in page
    assert 'name="dorm-rooms"' in page


def test_rooms_are_added_by_hand_to_a_new_building_and_a_range_counts_each_room(school, login):
    _inst, boss, *_ = school
    client = login(boss)
    response = client.post(
        "/admin/structure",
        data={"dorm-building": "桃园1栋", "dorm-rooms": "305, 306、401-403", "dorm-submit": "y"},
        follow_redirects=True,
    )
    assert "5 rooms added to 桃园1栋." in response.get_data(as_text=True)
    building = db.session.scalar(select(DormBuilding).where(DormBuilding.name == "桃园1栋"))
    numbers = db.session.scalars(select(DormRoom.number).where(DormRoom.building_id == building.id))
    assert sorted(numbers) == ["305", "306", "401", "402", "403"]
    again = client.post(
        "/admin/structure",
        data={"dorm-building": "桃园1栋", "dorm-rooms": "306, 307", "dorm-submit": "y"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 room added to 桃园1栋." in again
    assert "桃园1栋 had these already: 306." in again
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_type == "dorm_building")
    )
    assert sorted(actions) == ["add_rooms", "add_rooms", "create_dorm_building"]


def test_a_room_number_that_is_none_is_refused_on_the_form_and_nothing_is_added(school, login):
    _inst, boss, *_ = school
    before = _count(DormRoom)
    response = login(boss).post(
        "/admin/structure",
        data={"dorm-building": "桃园1栋", "dorm-rooms": "305, 三楼", "dorm-submit": "y"},
    )
    assert response.status_code == 422
    assert "“三楼” is not a room number such as 305 or 305A." in response.get_data(as_text=True)
    assert _count(DormRoom) == before
    assert _count(DormBuilding) == 1


def test_a_class_without_students_is_removed_and_the_removal_audited(school, campus, login):
    _inst, boss, dept, _group, _room = school
    empty = campus.class_group(dept, "计科2699班")
    campus.commit()
    client = login(boss)
    page = client.get(f"/admin/structure/class/{empty.id}").get_data(as_text=True)
    assert "Remove 计科2699班" in page
    done = client.post(f"/admin/structure/class/{empty.id}/remove", follow_redirects=True)
    assert "计科2699班 removed." in done.get_data(as_text=True)
    assert db.session.get(ClassGroup, empty.id) is None
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "remove_unit"))
    assert (row.record_type, row.detail) == ("class_group", "计科2699班")


def test_a_class_with_a_student_is_kept_and_its_page_says_why(school, login):
    _inst, boss, _dept, group, _room = school
    client = login(boss)
    page = client.get(f"/admin/structure/class/{group.id}").get_data(as_text=True)
    assert "计科2601班 has 1 students, so it cannot be removed." in page
    assert f"/admin/structure/class/{group.id}/remove" not in page
    refused = client.post(f"/admin/structure/class/{group.id}/remove", follow_redirects=True)
    assert "cannot be removed" in refused.get_data(as_text=True)
    assert db.session.get(ClassGroup, group.id) is not None


def test_a_department_with_classes_is_kept_until_they_are_removed(school, campus, login):
    inst, boss, *_ = school
    dept = campus.department(inst, "物理学院")
    group = campus.class_group(dept, "物理2601班")
    campus.commit()
    client = login(boss)
    client.post(f"/admin/structure/department/{dept.id}/remove")
    assert db.session.get(Department, dept.id) is not None
    client.post(f"/admin/structure/class/{group.id}/remove")
    client.post(f"/admin/structure/department/{dept.id}/remove")
    db.session.expire_all()
    assert db.session.get(Department, dept.id) is None


def test_an_empty_class_an_ended_role_or_a_campaign_named_is_kept(school, campus, login):
    """What was done there stays readable: a class someone was once committee member of, or a
    campaign's cohort, is renamed rather than removed."""
    inst, boss, dept, _group, _room = school
    named = campus.class_group(dept, "计科2698班")
    db.session.add(
        Campaign(
            institution_id=inst.id,
            name="2026 新生筛查",
            instruments=[],
            class_ids=[named.id],
            opens_at=clock.now(),
            closes_at=clock.now(),
        )
    )
    campus.commit()
    page = login(boss).post(f"/admin/structure/class/{named.id}/remove", follow_redirects=True)
    assert "Rename it instead." in page.get_data(as_text=True)
    assert db.session.get(ClassGroup, named.id) is not None


def test_a_department_is_renamed_and_a_name_taken_is_refused(school, campus, login):
    inst, boss, dept, *_ = school
    campus.department(inst, "软件学院")
    campus.commit()
    client = login(boss)
    taken = client.post(f"/admin/structure/department/{dept.id}", data={"name": "软件学院"})
    assert "That name already exists." in taken.get_data(as_text=True)
    client.post(f"/admin/structure/department/{dept.id}", data={"name": "计算机科学学院"})
    db.session.expire_all()
    assert db.session.get(Department, dept.id).name == "计算机科学学院"
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rename_unit"))
    assert row.detail == "计算机学院 -> 计算机科学学院"


def test_an_empty_room_is_removed_from_its_building_page_and_an_occupied_one_is_not(school, login):
    _inst, boss, _dept, _group, room = school
    empty = DormRoom(building_id=room.building_id, number="306")
    db.session.add(empty)
    db.session.commit()
    client = login(boss)
    page = client.get(f"/admin/structure/building/{room.building_id}").get_data(as_text=True)
    assert f"/admin/structure/room/{empty.id}/remove" in page
    assert f"/admin/structure/room/{room.id}/remove" not in page
    client.post(f"/admin/structure/room/{empty.id}/remove")
    client.post(f"/admin/structure/room/{room.id}/remove")
    db.session.expire_all()
    assert db.session.get(DormRoom, empty.id) is None
    assert db.session.get(DormRoom, room.id) is not None


def test_another_institutions_unit_is_404(school, campus, login):
    _inst, boss, *_ = school
    other = campus.department(campus.institution("BBB"), "外校学院")
    campus.commit()
    client = login(boss)
    assert client.get(f"/admin/structure/department/{other.id}").status_code == 404
    assert client.post(f"/admin/structure/department/{other.id}/remove").status_code == 404
    assert client.get("/admin/structure/hospital/1").status_code == 404
    assert db.session.get(Department, other.id) is not None
