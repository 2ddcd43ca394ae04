"""Administration: which institution an administrator acts for, and the writes they make there."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import admin
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Department
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import ScopeKind
from campus.models import User
from tests.pages import without_tokens


@pytest.fixture
def admin_of_two(campus):
    """An administrator of AAA who also administers BBB, and a counsellor of each."""
    a = campus.institution("AAA", name="Alpha University")
    b = campus.institution("BBB", name="Beta University")
    boss = campus.staff(a, Role.ADMIN, login="boss")
    campus.staff(b, Role.ADMIN, user=boss)
    staff_a = campus.staff(a, Role.DEPT_COUNSELLOR, login="alice", department=campus.department(a))
    staff_b = campus.staff(b, Role.DEPT_COUNSELLOR, login="bob", department=campus.department(b))
    campus.commit()
    return boss, staff_a, staff_b


def test_admin_of_two_institutions_is_asked_which_one_not_shown_the_first(login, admin_of_two):
    boss, _staff_a, _staff_b = admin_of_two
    page = without_tokens(login(boss).get("/admin/users").get_data(as_text=True))
    assert "Alpha University" in page
    assert "Beta University" in page
    assert "alice" not in page
    assert "bob" not in page


def test_chosen_institution_is_remembered_and_the_other_ones_users_are_404(login, admin_of_two):
    boss, staff_a, staff_b = admin_of_two
    client = login(boss)
    a_id = staff_a.institution_id
    assert "alice" in client.get(f"/admin/users?institution={a_id}").get_data(as_text=True)
    page = without_tokens(client.get("/admin/users").get_data(as_text=True))
    assert "alice" in page
    assert "bob" not in page
    assert client.get(f"/admin/users/{staff_b.id}").status_code == 404
    assignment = staff_b.roles[0]
    assert client.post(f"/admin/users/{staff_b.id}/roles/{assignment.id}/remove").status_code == 404
    assert client.post(f"/admin/users/{staff_b.id}/password").status_code == 404
    db.session.expire_all()
    assert db.session.get(RoleAssignment, assignment.id) is not None


def test_admin_of_two_can_change_to_the_other_institution(login, admin_of_two):
    boss, staff_a, staff_b = admin_of_two
    client = login(boss)
    client.get(f"/admin/users?institution={staff_a.institution_id}")
    page = client.get(f"/admin/users?institution={staff_b.institution_id}").get_data(as_text=True)
    assert "bob" in page
    assert "alice" not in page
    assert client.get(f"/admin/users/{staff_b.id}").status_code == 200
    assert client.get(f"/admin/users/{staff_a.id}").status_code == 404


def test_a_form_sent_before_choosing_an_institution_changes_nothing(login, admin_of_two):
    boss, _staff_a, _staff_b = admin_of_two
    client = login(boss)
    response = client.post("/admin/users", data={"login": "carol", "name": "Carol"})
    assert response.status_code == 409
    assert "Beta University" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.login == "carol")) is None


def test_an_institution_role_cannot_be_assigned_twice(login, campus):
    inst = campus.institution()
    boss = campus.staff(inst, Role.ADMIN)
    director = campus.staff(inst, Role.DIRECTOR)
    campus.commit()
    client = login(boss)
    response = client.post(
        f"/admin/users/{director.id}", data={"role": "director"}, follow_redirects=True
    )
    assert "That role is already assigned." in response.get_data(as_text=True)
    held = select(func.count()).where(RoleAssignment.user_id == director.id)
    assert db.session.scalar(held) == 1


def test_adding_a_department_is_audited(login, campus):
    inst = campus.institution()
    boss = campus.staff(inst, Role.ADMIN)
    campus.commit()
    login(boss).post("/admin/structure", data={"dept-name": "Physics", "dept-submit": "y"})
    department = db.session.scalar(select(Department).where(Department.name == "Physics"))
    audited = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "create_department", AuditEvent.actor_id == boss.id
        )
    )
    assert audited.record_id == str(department.id)
    assert audited.institution_id == inst.id


def test_a_staff_account_with_a_bad_email_or_a_taken_number_is_refused_saying_which(login, campus):
    inst = campus.institution()
    boss = campus.staff(inst, Role.ADMIN, login="boss")
    campus.commit()
    client = login(boss)
    bad = client.post(
        "/admin/users", data={"login": "T01", "name": "王老师", "email": "not-an-email"}
    )
    assert "Give an email address such as name@school.edu.cn." in bad.get_data(as_text=True)
    taken = client.post(
        "/admin/users", data={"login": "boss", "name": "李老师"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "That staff number is already in use by another account." in taken
    assert "That name already exists." not in taken
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_class_goes_only_into_a_department_of_the_institution(campus):
    a, b = campus.institution("AAA"), campus.institution("BBB")
    boss = campus.staff(a, Role.ADMIN)
    foreign = campus.department(b)
    campus.commit()
    with pytest.raises(admin.AdminError):
        admin.create_class(db.session, boss, a, foreign.id, "C1", 2026)
    assert foreign.classes == []


def test_assigning_a_role_records_who_granted_it_in_which_institution(campus):
    a, b = campus.institution("AAA"), campus.institution("BBB")
    boss = campus.staff(a, Role.ADMIN)
    campus.staff(b, Role.ADMIN, user=boss)
    target = campus.staff(b, Role.DORM_INFORMANT, room=campus.room(b))
    campus.commit()
    admin.assign_role(db.session, boss, b, target, Role.DIRECTOR, None)
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assign_role"))
    assert (row.actor_id, row.institution_id, row.record_id) == (boss.id, b.id, str(target.id))


@pytest.mark.parametrize("kind", ["department", "class", "room", "hospital"])
def test_a_role_over_another_institutions_unit_or_a_forged_id_is_refused(campus, kind):
    a, b = campus.institution("AAA"), campus.institution("BBB")
    boss = campus.staff(a, Role.ADMIN)
    target = campus.staff(a, Role.DEPT_COUNSELLOR, department=campus.department(a))
    department = campus.department(b)
    foreign = {
        "department": (Role.DEPT_LEADER, department),
        "class": (Role.CLASS_COMMITTEE, campus.class_group(department)),
        "room": (Role.DORM_INFORMANT, campus.room(b)),
        "hospital": (Role.HOSPITAL_LIAISON, campus.hospital(b)),
    }
    role, unit = foreign[kind]
    campus.commit()
    before = db.session.scalar(select(func.count()).select_from(RoleAssignment))
    for scope_id in (unit.id, 99999):
        with pytest.raises(admin.AdminError) as refused:
            admin.assign_role(db.session, boss, a, target, role, scope_id)
        assert refused.value.message.shown() == "Choose a scope that belongs to your institution."
    assert db.session.scalar(select(func.count()).select_from(RoleAssignment)) == before


def test_a_liaisons_hospitals_are_offered_by_name_not_in_the_order_they_were_added(campus):
    a = campus.institution("AAA")
    for name in ("Zhongshan Hospital", "Anding Hospital", "Mental Health Centre"):
        campus.hospital(a, name)
    campus.commit()
    offered = [label for _id, label in admin.scope_choices(db.session, a, ScopeKind.HOSPITAL)]
    assert offered == ["Anding Hospital", "Mental Health Centre", "Zhongshan Hospital"]


def test_a_hospital_goes_to_the_institution_the_admin_acts_for_with_an_audit_row(
    login, admin_of_two
):
    """Before: the hospitals page added to whichever institution the admin's first role named."""
    from campus.models import Hospital

    boss, _staff_a, staff_b = admin_of_two
    client = login(boss)
    assert "Beta University" in client.get("/admin/hospitals").get_data(as_text=True)
    beta = staff_b.institution_id
    response = client.post(f"/admin/hospitals?institution={beta}", data={"name": "Beta Brain"})
    assert response.status_code == 302
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "Beta Brain"))
    assert hospital.institution_id == beta
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "create_hospital"))
    assert (row.institution_id, row.record_id, row.actor_id) == (beta, str(hospital.id), boss.id)


@pytest.mark.parametrize(
    "path",
    [
        "/warnings/academic-import",
        "/warnings/policy",
        "/screening/campaigns/new",
        "/crisis/settings",
        "/appointments/sessions/figures",
    ],
)
def test_an_admin_of_two_is_asked_which_institution_a_page_of_one_is_for(login, admin_of_two, path):
    """Registrar data, a triage policy and a campaign belong to one institution: before, these
    pages silently took the admin's home institution (or their first role's)."""
    boss, _staff_a, _staff_b = admin_of_two
    page = login(boss).get(path).get_data(as_text=True)
    assert "Alpha University" in page
    assert "Beta University" in page


def test_a_policy_draft_goes_to_the_institution_the_admin_acts_for(login, admin_of_two):
    from warning import retriage
    from warning.models import PolicyKind
    from warning.models import PolicyVersion

    boss, _staff_a, staff_b = admin_of_two
    beta = staff_b.institution_id
    response = login(boss).post(
        f"/warnings/policy?institution={beta}",
        data={
            "yaml_text": retriage.default_yaml(PolicyKind.TRIAGE).replace(
                'version: "default-2026.1"', 'version: "beta-1"'
            )
        },
    )
    assert response.status_code == 302
    draft = db.session.scalar(select(PolicyVersion).order_by(PolicyVersion.id.desc()))
    assert draft.institution_id == beta


@pytest.fixture
def units(campus):
    """An administrator, a staff account without a unit role, a class and another department."""
    inst = campus.institution("AAA")
    boss = campus.staff(inst, Role.ADMIN)
    departments = [campus.department(inst, f"D{n}") for n in range(3)]
    group = campus.class_group(departments[0])
    target = campus.staff(inst, Role.DIRECTOR)
    campus.commit()
    return boss, target, {"class": group.id, "department": departments[1].id}


def _assigned(client, user: User, role: str, scope: str) -> None:
    client.post(f"/admin/users/{user.id}", data={"role": role, "scope": scope})


@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        ("dept_counsellor", "class", "a department: under “Scope”, choose a department."),
        ("dorm_informant", "department", "a dorm room: under “Scope”, choose a room."),
        ("class_committee", "", "a class: under “Scope”, choose a class."),
        (
            "school_counsellor",
            "department",
            "the whole institution: under “Scope”, choose “The whole institution”.",
        ),
    ],
)
def test_a_scope_of_another_kind_than_the_role_needs_is_refused_not_reread(
    units, campus, login, role, scope, message
):
    """Before: the page sent a bare id and the server read it as the kind the role needed, so a
    class chosen for a department counsellor granted the department that shared its number."""
    boss, target, ids = units
    if role in ("dorm_informant", "class_committee"):  # offered on a student's page only
        target = campus.student(db.session.get(ClassGroup, ids["class"])).user
        campus.commit()
    before = {a.role for a in target.roles}
    sent = f"{scope}:{ids[scope]}" if scope else ""
    response = login(boss).post(f"/admin/users/{target.id}", data={"role": role, "scope": sent})
    page = response.get_data(as_text=True)
    assert message in page
    assert "Role assigned." not in page
    db.session.expire_all()
    assert {a.role for a in db.session.get(User, target.id).roles} == before


def test_a_hospital_chosen_for_a_department_leader_is_refused_naming_the_scope_field_in_chinese(
    units, login
):
    """Found by an administrator: the error sent her to a "院系" field the form does not have;
    院系 is a group inside the list labelled 范围."""
    boss, target, ids = units
    client = login(boss)
    client.post("/language/zh_CN", data={"next": "/"})
    hospital = f"hospital:{ids['department']}"  # any id: the kind is wrong before it is looked up
    page = client.post(
        f"/admin/users/{target.id}", data={"role": "dept_leader", "scope": hospital}
    ).get_data(as_text=True)
    error = page.split('id="scope-err"', 1)[1].split("</p>", 1)[0]
    assert '<label for="scope">范围</label>' in page
    assert "范围" in error
    assert "“院系”下" not in error


def test_the_scope_chosen_is_the_scope_given(units, campus, login):
    boss, target, ids = units
    member = campus.student(db.session.get(ClassGroup, ids["class"])).user
    campus.commit()
    client = login(boss)
    _assigned(client, target, "dept_counsellor", f"department:{ids['department']}")
    _assigned(client, member, "class_committee", f"class:{ids['class']}")
    db.session.expire_all()
    held = {(a.role, a.class_id, a.department_id) for a in db.session.get(User, target.id).roles}
    assert (Role.DEPT_COUNSELLOR, None, ids["department"]) in held
    given = {(a.role, a.class_id) for a in db.session.get(User, member.id).roles}
    assert (Role.CLASS_COMMITTEE, ids["class"]) in given


def test_the_scope_list_offers_a_class_only_to_a_student_of_it(units, campus, login):
    """The list offered every class and dorm room (some 500 at the demo) for peer roles that a
    staff account cannot hold and a student holds only over their own class or room."""
    boss, target, ids = units
    group = db.session.get(ClassGroup, ids["class"])
    other = campus.class_group(group.department, "Other class")
    member = campus.student(group).user
    campus.commit()
    client = login(boss)
    staff_page = client.get(f"/admin/users/{target.id}?role=dept_counsellor").get_data(as_text=True)
    assert f'value="department:{ids["department"]}"' in staff_page
    assert 'value="class:' not in staff_page
    student_page = client.get(f"/admin/users/{member.id}?role=class_committee").get_data(
        as_text=True
    )
    assert f'value="class:{group.id}"' in student_page
    assert f'value="class:{other.id}"' not in student_page


def _scope_options(page: str) -> list[str]:
    """The values offered by the scope list of a role's second step ("" for "Choose…")."""
    if 'id="scope"' not in page:
        return []
    listed = page.split('id="scope"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', listed)


def test_the_scope_list_follows_the_role_chosen(units, campus, login):
    """Found by an administrator: the help text promised classes for class roles, rooms for dorm
    roles and hospitals for liaisons, but the list offered the whole institution and departments
    whatever the role. The role is chosen first; the list then holds that role's kind only."""
    boss, target, ids = units
    inst = boss.institution
    group = db.session.get(ClassGroup, ids["class"])
    room = campus.room(inst, "305")
    member = campus.student(group, room).user
    hospital = campus.hospital(inst, "湘雅二医院")
    campus.commit()
    client = login(boss)
    first = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert 'id="scope"' not in first  # no scope before a role is chosen
    assert "Next: choose the scope" in first
    departments = sorted(f"department:{d.id}" for d in db.session.scalars(select(Department)))
    page = client.get(f"/admin/users/{target.id}?role=dept_leader").get_data(as_text=True)
    assert _scope_options(page) == ["", *departments]
    page = client.get(f"/admin/users/{target.id}?role=hospital_liaison").get_data(as_text=True)
    assert _scope_options(page) == [f"hospital:{hospital.id}"]
    assert "The liaison sees only the referrals sent to the hospital chosen." in page
    page = client.get(f"/admin/users/{target.id}?role=director").get_data(as_text=True)
    assert _scope_options(page) == []
    assert "This role works across the whole institution." in page
    page = client.get(f"/admin/users/{member.id}?role=dorm_informant").get_data(as_text=True)
    assert _scope_options(page) == [f"room:{room.id}"]
    page = client.get(f"/admin/users/{member.id}?role=class_committee").get_data(as_text=True)
    assert _scope_options(page) == [f"class:{group.id}"]
    _assigned(client, target, "hospital_liaison", f"hospital:{hospital.id}")
    db.session.expire_all()
    held = {(a.role, a.hospital_id) for a in db.session.get(User, target.id).roles}
    assert (Role.HOSPITAL_LIAISON, hospital.id) in held


def test_a_liaison_without_any_hospital_is_told_to_add_one_first(units, login):
    boss, target, _ids = units
    page = login(boss).get(f"/admin/users/{target.id}?role=hospital_liaison")
    text = page.get_data(as_text=True)
    assert "There are no hospitals yet: add one first." in text
    assert 'href="/admin/hospitals' in text
    assert "Assign role</button>" not in text


def test_a_peer_role_goes_only_to_a_student_of_that_class(units, campus, login):
    """A class committee member reads the class roster and gets tasks about classmates: a staff
    account, or a student of another class, given it by the user page saw a class not theirs."""
    boss, target, ids = units
    elsewhere = campus.class_group(campus.department(boss.institution, "D9"))
    outsider = campus.student(elsewhere).user
    campus.commit()
    client = login(boss)
    staff_page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert 'value="class_committee"' not in staff_page  # not offered to a staff account
    refusals = {}
    for user in (target, outsider):
        response = client.post(
            f"/admin/users/{user.id}",
            data={"role": "class_committee", "scope": f"class:{ids['class']}"},
            follow_redirects=True,
        )
        refusals[user.id] = response.get_data(as_text=True)
        assert "Role assigned." not in refusals[user.id]
        db.session.expire_all()
        held = db.session.get(User, user.id).roles
        assert Role.CLASS_COMMITTEE not in {a.role for a in held}
    assert "is a student of that class or room" in refusals[outsider.id]
