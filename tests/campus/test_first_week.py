"""A new campus's administrator is told what comes next: the first steps in order, each ticked by
itself from the data, gone once all are done; and, after adding a staff account, that it needs a
role and a password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campus import clock
from campus.extensions import db
from campus.models import ActivationBatch
from campus.models import Role
from campus.models import SignOn
from campus.models import SignOnProtocol
from campus.models import User
from screening.models import Campaign

STEPS = [
    "Give the counselling centre&#39;s on-duty phone",
    "Add the departments and classes",
    "Import the student roster",
    "Add the staff and give them their roles",
    "Add the hospitals students are referred to",
    "Print the students&#39; activation slips",
    "Start the first screening",
]


@pytest.fixture
def new_campus(campus):
    """What `flask campus create-institution` and `create-admin` leave: an institution and its
    administrator, nothing else."""
    inst = campus.institution("HNU", "湖南师范学院")
    admin = campus.staff(inst, Role.ADMIN)
    campus.commit()
    return inst, admin


def _checklist(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<section class="card first-week".*?</section>', page, re.S)
    return match.group(0) if match else ""


def _steps(checklist: str) -> list[tuple[str, str]]:
    """Each step's label and state (done, todo, todo next), in the order shown."""
    found = re.findall(r'<li class="([^"]*)">(.*?)</li>', checklist, re.S)
    return [(next(s for s in STEPS if s in body), state) for state, body in found]


def test_the_empty_campus_lists_every_step_in_order_the_phone_first(new_campus, login):
    inst, admin = new_campus
    client = login(admin)
    client.post("/language/en", data={"next": "/"})
    checklist = _checklist(client)
    assert "Setting up 湖南师范学院: 0 of 7 steps done" in checklist
    assert _steps(checklist) == [(STEPS[0], "todo next")] + [(s, "todo") for s in STEPS[1:]]
    for endpoint in (
        "/admin/settings/",
        "/admin/structure",
        "/admin/roster",
        "/admin/users",
        "/admin/hospitals",
        "/activation",
        "/screening/campaigns/new",
    ):
        assert f'href="{endpoint}?institution={inst.id}"' in checklist, endpoint


def test_each_step_is_ticked_by_the_data_and_the_list_goes_when_all_are(campus, new_campus, login):
    inst, admin = new_campus
    client = login(admin)
    client.post("/language/en", data={"next": "/"})

    inst.on_duty_phone = "0731-88880000"
    dept = campus.department(inst, "教育科学学院")
    group = campus.class_group(dept, "心理学2026级1班")
    campus.commit()
    states = dict(_steps(_checklist(client)))
    assert [states[s] for s in STEPS[:3]] == ["done", "done", "todo next"]

    student = campus.student(group, name="王子涵")
    student.user.password_hash = None  # imported: no password until she activates her account
    campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()
    states = dict(_steps(_checklist(client)))
    # The department has no leader yet: the staff step is not done.
    assert [states[s] for s in STEPS[2:4]] == ["done", "todo next"]

    campus.staff(inst, Role.DEPT_LEADER, department=dept)
    campus.hospital(inst, "湖南省脑科医院")
    db.session.add(
        ActivationBatch(
            institution_id=inst.id,
            issued_by_id=admin.id,
            grade=2026,
            valid_days=30,
            expires_at=clock.now() + timedelta(days=30),
        )
    )
    campus.commit()
    checklist = _checklist(client)
    assert "6 of 7 steps done" in checklist
    assert _steps(checklist)[-1] == (STEPS[-1], "todo next")

    db.session.add(
        Campaign(
            institution_id=inst.id,
            name="2026级新生心理普查",
            instruments=["phq9"],
            opens_at=clock.now(),
            closes_at=clock.now() + timedelta(days=14),
        )
    )
    campus.commit()
    assert _checklist(client) == ""


def test_students_with_passwords_need_no_activation_slips(campus, new_campus, login):
    inst, admin = new_campus
    group = campus.class_group(campus.department(inst))
    campus.student(group).user.password_hash = None
    campus.commit()
    client = login(admin)
    client.post("/language/en", data={"next": "/"})
    assert dict(_steps(_checklist(client)))[STEPS[5]] == "todo"
    campus.student(group)  # moved here with a password
    campus.commit()
    assert dict(_steps(_checklist(client)))[STEPS[5]] == "done"


def test_the_campus_sign_on_stands_for_the_activation_slips(campus, new_campus, login):
    inst, admin = new_campus
    db.session.add(
        SignOn(
            institution_id=inst.id,
            protocol=SignOnProtocol.CAS,
            server_url="https://cas.example.edu.cn/cas",
            enabled=True,
        )
    )
    campus.commit()
    client = login(admin)
    client.post("/language/en", data={"next": "/"})
    assert dict(_steps(_checklist(client)))[STEPS[5]] == "done"


def test_only_administrators_see_the_first_steps(campus, new_campus, login):
    inst, _ = new_campus
    director = campus.staff(inst, Role.DIRECTOR)
    campus.commit()
    assert _checklist(login(director)) == ""


def test_adding_a_staff_account_leads_to_it_and_says_a_role_and_a_password_come_next(
    new_campus, login
):
    inst, admin = new_campus
    client = login(admin)
    client.post("/language/en", data={"next": "/"})
    added = client.post("/admin/users", data={"login": "T1001", "name": "张辅导", "email": ""})
    assert added.status_code == 302
    user = db.session.query(User).filter_by(login="T1001").one()
    assert added.headers["Location"].endswith(f"/admin/users/{user.id}")
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "张辅导&#39;s account is added. Next: give them their role below" in page
    assert "issue a one-time password" in page
    listed = client.get("/admin/users").get_data(as_text=True)
    row = listed[listed.index("T1001") :].split("</tr>")[0]
    assert "No role yet: give one" in row
    assert f'href="/admin/users/{user.id}"' in row


def test_a_staff_number_already_in_use_is_refused_on_the_list(new_campus, login):
    inst, admin = new_campus
    client = login(admin)
    client.post("/language/en", data={"next": "/"})
    client.post("/admin/users", data={"login": "T1001", "name": "张辅导", "email": ""})
    again = client.post(
        "/admin/users",
        data={"login": "T1001", "name": "李辅导", "email": ""},
        follow_redirects=True,
    )
    assert "That staff number is already in use by another account." in again.get_data(as_text=True)
    assert db.session.query(User).filter_by(login="T1001").count() == 1
