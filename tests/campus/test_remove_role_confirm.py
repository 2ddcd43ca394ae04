"""Before ending a role the administrator sees what the person still holds and what becomes of
it; the confirm step itself changes nothing."""

from __future__ import annotations

from datetime import timedelta

from appointments.models import AppointmentState
from campus import clock
from campus.extensions import db
from campus.models import Role
from tests.appointments.session_world import appointment
from tests.factories import open_warning
from tests.factories import role_assignment
from warning import caseload
from warning.policy import Level


def test_the_confirm_step_names_the_cases_and_appointments_and_ends_nothing(campus, login):
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst))
    students = [campus.student(group, name=name) for name in ("张三", "李四", "王五")]
    leaving = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    administrator = campus.staff(inst, Role.ADMIN)
    campus.commit()
    for student in students[:2]:
        open_warning(student, Level.RED, assigned_counsellor_id=leaving.id)
    soon = clock.now() + timedelta(days=2)
    appointment(students[2], leaving, soon)
    appointment(students[2], leaving, soon + timedelta(days=7))
    appointment(students[2], leaving, clock.now() - timedelta(days=7))  # past: not counted
    appointment(students[2], leaving, soon + timedelta(days=1), state=AppointmentState.CANCELLED)
    db.session.commit()
    role = role_assignment(leaving, Role.SCHOOL_COUNSELLOR)
    admin = login(administrator)

    detail = admin.get(f"/admin/users/{leaving.id}").get_data(as_text=True)
    confirm_url = f"/admin/users/{leaving.id}/roles/{role.id}/remove"
    assert f'href="{confirm_url}"' in detail
    page = admin.get(confirm_url).get_data(as_text=True)

    assert (
        "This person currently holds 2 open warning cases, 2 future appointments. Once the role "
        "ends, the cases go back to the centre to be assigned; the centre must arrange the "
        "appointments with someone else." in page
    )
    db.session.expire_all()
    assert role_assignment(leaving, Role.SCHOOL_COUNSELLOR).ends_at is None

    assert admin.post(confirm_url).status_code == 302
    db.session.expire_all()
    assert role_assignment(leaving, Role.SCHOOL_COUNSELLOR).ends_at is not None
    # Once ended, the confirm step says so instead of offering it again.
    again = admin.get(confirm_url, follow_redirects=True).get_data(as_text=True)
    assert "This role has already ended." in again


def test_the_confirm_step_names_the_students_whose_full_records_the_end_closes(campus, login):
    inst = campus.institution("XJU")
    group = campus.class_group(campus.department(inst))
    students = [campus.student(group, name=name) for name in ("张三", "李四", "王五")]
    leaving = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    colleague = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    administrator = campus.staff(inst, Role.ADMIN)
    campus.commit()
    open_warning(students[0], Level.RED, assigned_counsellor_id=leaving.id)
    for student in students:
        caseload.join(db.session, leaving, student, clock.now())
    caseload.join(db.session, colleague, students[0], clock.now())  # hers: not counted
    db.session.commit()
    role = role_assignment(leaving, Role.SCHOOL_COUNSELLOR)

    page = login(administrator).get(f"/admin/users/{leaving.id}/roles/{role.id}/remove")

    assert (
        "This person currently holds 1 open warning case, 3 students on their caseload. Once "
        "the role ends, the cases go back to the centre to be assigned; their access to those "
        "students&#39; full records ends." in page.get_data(as_text=True)
    )


def test_a_person_holding_nothing_is_said_to_hold_nothing(campus, login):
    inst = campus.institution("XJU")
    member = campus.staff(inst, Role.DEPT_COUNSELLOR, department=campus.department(inst))
    administrator = campus.staff(inst, Role.ADMIN)
    campus.commit()
    role = role_assignment(member, Role.DEPT_COUNSELLOR)

    page = login(administrator).get(f"/admin/users/{member.id}/roles/{role.id}/remove")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "This person currently holds" not in text
    assert (
        "This person holds no cases, interviews, return-plan items or future appointments" in text
    )


def test_another_institutions_role_has_no_confirm_step(campus, login):
    inst = campus.institution("XJU")
    other = campus.institution("HNU")
    stranger = campus.staff(other, Role.SCHOOL_COUNSELLOR)
    administrator = campus.staff(inst, Role.ADMIN)
    campus.commit()
    role = role_assignment(stranger, Role.SCHOOL_COUNSELLOR)

    page = login(administrator).get(f"/admin/users/{stranger.id}/roles/{role.id}/remove")

    assert page.status_code == 404
