"""Who hears of a red warning, and what the inbox may say that the mail may not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests import factories
from warning.escalation import sweep_deadlines
from warning.models import EarlyWarning
from warning.models import Task

from .response_helpers import class_peer_watch_policy


def _staff(campus, unit):
    """Everyone with a stake in Li Hua's department, each with a mail address."""
    people = {
        "counsellor": campus.staff(
            unit.institution, Role.DEPT_COUNSELLOR, department=unit.department, email="c@x.test"
        ),
        "leader": campus.staff(
            unit.institution, Role.DEPT_LEADER, department=unit.department, email="l@x.test"
        ),
        "centre": campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR, email="s@x.test"),
        "committee": campus.staff(
            unit.institution, Role.CLASS_COMMITTEE, group=unit.group, email="k@x.test"
        ),
    }
    elsewhere = campus.department(unit.institution, "Maths")
    people["other counsellor"] = campus.staff(
        unit.institution, Role.DEPT_COUNSELLOR, department=elsewhere, email="o@x.test"
    )
    campus.commit()
    return people


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_a_new_red_tells_the_department_counsellor_once_alongside_the_leader_and_centre(
    campus, unit
):
    people = _staff(campus, unit)
    factories.phq9_signal(unit.student, 22)
    told = {name: len(_notes(user)) for name, user in people.items()}
    assert told == {
        "counsellor": 1,
        "leader": 1,
        "centre": 1,
        # The department counsellor arranges red's peer watch: the class hears nothing until she
        # asks it to keep company (a red from a safety answer no one has looked at yet included).
        "committee": 0,
        "other counsellor": 0,
    }


def test_a_campus_whose_class_owes_the_peer_watch_tells_the_class_of_its_task_at_once(campus, unit):
    """The engine's other way, for a campus whose own policy makes the class owe red's 24-hour
    peer watch: the class's task is given when the red is set, and the class is told of it by a
    note that names no student and no level."""
    people = _staff(campus, unit)
    class_peer_watch_policy(unit.institution.id)
    factories.phq9_signal(unit.student, 22)
    (note,) = _notes(people["committee"])
    assert note.detail == {"new_tasks": 1}
    assert note.link == "/tasks"
    assert not note.urgent  # 紧急 on a peer's note would tell her the classmate's level
    (task,) = db.session.scalars(select(Task).where(Task.assignee_class_id == unit.group.id))
    assert task.due_at == clock.now() + timedelta(hours=24)


def test_a_raise_to_red_tells_the_department_counsellor_again(campus, unit):
    people = _staff(campus, unit)
    factories.phq9_signal(unit.student, 15)
    assert [n.detail["level"] for n in _notes(people["counsellor"])] == [2]
    factories.phq9_signal(unit.student, 22)
    assert db.session.scalar(select(EarlyWarning.level)) == 3
    assert [n.detail["level"] for n in _notes(people["counsellor"])] == [2, 3]


def test_the_inbox_names_student_level_and_deadline_but_the_mail_does_not(campus, unit, login):
    people = _staff(campus, unit)
    factories.phq9_signal(unit.student, 22)
    inbox = login(people["counsellor"]).get("/inbox/").get_data(as_text=True)
    assert "Li Hua" in inbox
    assert f'href="/warnings/students/{unit.student.id}"' in inbox
    assert 'class="level red"' in inbox
    assert "Notify the guardian due tomorrow 10:00" in inbox  # 24 hours, Beijing time
    centre = login(people["centre"]).get("/inbox/").get_data(as_text=True)
    assert "Acknowledge due today 11:00" in centre
    mails = db.session.scalars(select(OutboxMail)).all()
    assert {m.recipient for m in mails} == {"c@x.test", "l@x.test", "s@x.test"}
    for mail in mails:
        assert "Li Hua" not in mail.body
        assert unit.student.student_number not in mail.body
        assert "red" not in mail.body.lower()
        assert "/tasks" in mail.body


def test_a_class_committee_notice_names_no_student_and_no_level(campus, unit, login):
    people = _staff(campus, unit)
    factories.phq9_signal(unit.student, 8)  # blue: the class and the dorm are told
    (note,) = _notes(people["committee"])
    assert note.detail == {"new_tasks": 1}  # how many tasks: no student, no level, no deadline
    inbox = login(people["committee"]).get("/inbox/").get_data(as_text=True)
    assert "You have a new task" in inbox
    assert "Li Hua" not in inbox
    assert "level" not in inbox


def _inbox_line(page: str, name: str) -> str:
    """The inbox line about `name`."""
    return page[: page.index(name)].rsplit("<li", 1)[1] + page[page.index(name) :].split("</li>")[0]


def test_a_note_whose_deadline_was_met_reads_done_and_stops_being_urgent(campus, unit, login):
    people = _staff(campus, unit)
    other = campus.student(unit.group, name="王芳")
    campus.commit()
    warning = factories.phq9_signal(unit.student, 22)
    factories.phq9_signal(other, 22)
    client = login(people["centre"])
    before = client.get("/inbox/").get_data(as_text=True)
    assert "urgent-tag" in _inbox_line(before, unit.student.name)

    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )

    after = client.get("/inbox/").get_data(as_text=True)
    done = _inbox_line(after, unit.student.name)
    assert "done-tag" in done
    assert "urgent-tag" not in done
    assert "New" in done  # still unread: the counsellor has not read it
    waiting = _inbox_line(after, "王芳")
    assert "urgent-tag" in waiting
    assert "done-tag" not in waiting


def test_a_note_whose_deadline_passed_to_the_next_tier_says_so(campus, unit, login):
    people = _staff(campus, unit)
    factories.phq9_signal(unit.student, 12)  # a yellow: the department contacts within 72 hours
    clock.advance(timedelta(hours=73))
    assert sweep_deadlines(db.session, clock.now()) == 1

    page = login(people["counsellor"]).get("/inbox/").get_data(as_text=True)
    line = _inbox_line(page, unit.student.name)
    assert "passed on to the next tier" in line
    assert "urgent-tag" not in line


def test_a_settled_note_leaves_the_top_of_the_inbox_to_the_ones_still_waiting(campus, unit, login):
    people = _staff(campus, unit)
    other = campus.student(unit.group, name="王芳")
    campus.commit()
    factories.phq9_signal(other, 22)
    clock.advance(timedelta(hours=1))
    warning = factories.phq9_signal(unit.student, 22)  # the newer of the two reds
    client = login(people["centre"])
    before = client.get("/inbox/").get_data(as_text=True)
    assert before.index(unit.student.name) < before.index("王芳")

    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )

    after = client.get("/inbox/").get_data(as_text=True)
    assert after.index("王芳") < after.index(unit.student.name)
    assert "done-tag" in _inbox_line(after, unit.student.name)
