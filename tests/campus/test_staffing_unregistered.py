"""A school counsellor (心理中心专职教师) given the role but not entered in the staffing register
is not counted by the staffing figure: the administrator's home, the register and the person's
account page say so, and the register's form comes filled in for them."""

from __future__ import annotations

import re
from datetime import date

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.models import StaffingEntry
from campus.models import StaffPost
from tests.campus.test_staffing import _add
from tests.campus.test_staffing import _school
from tests.campus.test_staffing import _teachers_today

LINE = "school counsellor is not in the staffing register"


def test_a_school_counsellor_outside_the_register_is_named_until_added_and_then_counted(
    campus, login
):
    inst, admin, teacher = _school(campus)
    client = login(admin)
    home = client.get("/").get_data(as_text=True)
    assert f"1 {LINE}" in home
    assert "counts only the register: Teacher Lin" in home
    assert f"/admin/staffing/?institution={inst.id}#unregistered" in home
    assert _teachers_today(inst) == 0

    register = client.get("/admin/staffing/").get_data(as_text=True)
    assert 'id="unregistered"' in register
    assert f'href="/admin/staffing/?account={teacher.id}#add"' in register

    account = client.get(f"/admin/users/{teacher.id}").get_data(as_text=True)
    assert "Teacher Lin is a school counsellor but not in the staffing register" in account
    assert f'href="/admin/staffing/?account={teacher.id}#add"' in account

    # The link fills the form in: their account, a full-time post from the day the role was given.
    offered = client.get(f"/admin/staffing/?account={teacher.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{teacher.id}">', offered)
    assert '<option selected value="full_time">' in offered
    given = clock.local_date(teacher.roles[0].since, clock.institution_zone(inst))
    assert f'value="{given.isoformat()}"' in offered

    fields = {"user_id": teacher.id, "post": "full_time", "starts_on": given.isoformat()}
    assert _add(client, fields).status_code == 302
    assert LINE not in client.get("/").get_data(as_text=True)
    assert 'id="unregistered"' not in client.get("/admin/staffing/").get_data(as_text=True)
    assert "not in the staffing register" not in client.get(f"/admin/users/{teacher.id}").get_data(
        as_text=True
    )
    assert _teachers_today(inst) == 1


def test_only_a_counsellor_with_no_post_in_the_register_today_is_named(campus, login):
    """An entry by name without an account counts, a part-time post too (the register says
    what post it is), a closed account is no one's teacher; a post that ended does not count."""
    inst, admin, teacher = _school(campus)
    part_timer = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    part_timer.name = "Teacher Qi"
    leaver = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    leaver.name = "Teacher Gone"
    gone = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    gone.active = False
    for name, user, post in (
        ("Teacher Lin", None, StaffPost.FULL_TIME),  # entered by name, no account linked
        ("Teacher Qi", part_timer, StaffPost.PART_TIME),
    ):
        db.session.add(
            StaffingEntry(
                institution_id=inst.id,
                user_id=user.id if user else None,
                person_name=name,
                post=post,
                starts_on=date(2024, 9, 1),
            )
        )
    db.session.add(
        StaffingEntry(
            institution_id=inst.id,
            user_id=leaver.id,
            person_name="Teacher Gone",
            post=StaffPost.FULL_TIME,
            starts_on=date(2020, 9, 1),
            ends_on=date(2024, 7, 1),  # left the post: the role they still hold is not counted
        )
    )
    campus.commit()
    home = login(admin).get("/").get_data(as_text=True)
    assert f"1 {LINE}" in home
    assert "counts only the register: Teacher Gone" in home
