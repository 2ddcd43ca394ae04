"""A family follow-up is not lost when its author no longer answers for the student: the
administrator ending the role is told she holds it, the sweep gives it to the student's
department counsellors (else the centre's directors) with a note and an audit row, and its text
says whose follow-up it was. A second sweep changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from campus import clock
from campus import scheduler
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from casework import family_contacts
from casework import family_handover
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from tests.factories import role_assignment
from warning.models import Task


def _follow_up(author, student, submission: str = "fu-1") -> Task:
    entry = family_contacts.log_family_contact(
        db.session,
        author,
        student,
        family_contacts.NewFamilyContact(
            at=clock.to_local(clock.now(), clock.institution_zone(None)),
            direction=ContactDirection.WE_CALLED,
            guardian_name="张父",
            guardian_relation="父亲",
            channel=ContactChannel.PHONE,
            summary="约定下周再通话。",
            outcome=ContactOutcome.REACHED,
            agreements=(),
            other_agreement="",
            follow_up_on=date(2026, 12, 31),
            submission=submission,
        ),
        clock.now(),
    ).record
    task = db.session.get(Task, entry.follow_up_task_id)
    assert task is not None
    assert task.assignee_user_id == author.id
    return task


def _notes(user) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.text == family_handover.HANDED_NOTE_TEXT,
            )
        )
    )


def test_an_ended_counsellors_follow_up_goes_to_the_departments_counsellors(
    app, campus, world, login
):
    """Before, the task stayed addressed to the counsellor whose role had ended: nobody saw it."""
    leaving = world.dept_counsellor
    leaving.name = "王老师"
    staying = campus.staff(world.institution, Role.DEPT_COUNSELLOR, department=world.department)
    administrator = campus.staff(world.institution, Role.ADMIN)
    campus.commit()
    task = _follow_up(leaving, world.student)

    admin = login(administrator)
    role = role_assignment(leaving, Role.DEPT_COUNSELLOR)
    confirm = admin.get(f"/admin/users/{leaving.id}/roles/{role.id}/remove")
    assert "1 family follow-up not yet done" in confirm.get_data(as_text=True)
    assert admin.post(f"/admin/users/{leaving.id}/roles/{role.id}/remove").status_code == 302
    assert scheduler.run_sweeps(app, db.session)["casework.family_follow_ups_handed"] == 1

    db.session.expire_all()
    handed = db.session.get(Task, task.id)
    assert (handed.assignee_user_id, handed.assignee_department_id) == (None, world.department.id)
    assert handed.done_at is None
    listed = login(staying).get("/tasks").get_data(as_text=True)
    assert f"Follow up with the family of {world.student.name}" in listed
    assert "it was 王老师&#39;s follow-up, who no longer answers for the student" in listed
    (note,) = _notes(staying)
    assert note.link == "/tasks"
    assert note.detail["items"][0]["params"] == {
        "student": world.student.name,
        "day": "2026-12-31",
        "author": "王老师",
    }
    assert _notes(world.director) == []
    (row,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "family_follow_up_handed_over")
    ).all()
    assert (row.record_id, row.student_id, row.actor_id) == (str(task.id), world.student.id, None)
    assert family_handover.handover_sweep(db.session, clock.now()) == 0


def test_with_no_department_counsellor_left_the_follow_up_goes_to_the_director(
    campus, world, login
):
    task = _follow_up(world.dept_counsellor, world.student)
    role_assignment(world.dept_counsellor, Role.DEPT_COUNSELLOR).ends_at = clock.now()
    db.session.commit()

    assert family_handover.handover_sweep(db.session, clock.now()) == 1
    db.session.expire_all()
    handed = db.session.get(Task, task.id)
    assert (handed.assignee_user_id, handed.assignee_department_id) == (None, None)
    assert len(_notes(world.director)) == 1
    listed = login(world.director).get("/tasks").get_data(as_text=True)
    assert f"Follow up with the family of {world.student.name}" in listed


def test_a_writer_still_answering_for_the_student_keeps_the_follow_up(campus, world):
    kept_by_department = _follow_up(world.dept_counsellor, world.student, "fu-a")
    kept_by_centre = _follow_up(world.school_counsellor, world.student, "fu-b")
    off = _follow_up(world.off_caseload, world.student, "fu-c")
    world.off_caseload.active = False
    campus.commit()

    assert family_handover.handover_sweep(db.session, clock.now()) == 1
    db.session.expire_all()
    assert db.session.get(Task, kept_by_department.id).assignee_user_id == world.dept_counsellor.id
    assert db.session.get(Task, kept_by_centre.id).assignee_user_id == world.school_counsellor.id
    assert db.session.get(Task, off.id).assignee_department_id == world.department.id
