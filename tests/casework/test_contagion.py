"""Contagion follow-up: the students a crisis touched get a neutral check-in through the usual
tiers and stay on the follow-up list until a counsellor clears them or escalates them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from casework import contagion
from casework.models import ContagionFollowUp
from casework.models import CrisisRecord
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import CrisisWorld
from tests.casework.crisis_world import crisis_world
from tests.casework.test_crisis_records import as_
from tests.pages import without_tokens
from warning import services
from warning.models import Signal
from warning.models import Task
from warning.response import PEER_TASK_TEXT

# Words of the crisis and its record that no peer may read in a task.
CLINICAL = re.compile(
    r"crisis|hospital|suicid|self-harm|balcony|red|warning|risk|宿舍 305|湖南省脑科医院", re.I
)


CHECK_IN = Task.kind == "contagion_check_in"


@pytest.fixture
def world(campus) -> CrisisWorld:
    return crisis_world(campus)


def _record(app, world: CrisisWorld):
    client = as_(app, world.counsellor)
    client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY)
    return client, db.session.scalars(select(CrisisRecord)).one()


def _list(client, record, **data):
    return client.post(f"/crisis/{record.id}/contagion", data=data)


def test_roommates_and_classmates_are_offered_and_each_listed_one_gets_a_neutral_check_in(
    app, world
):
    client, record = _record(app, world)
    page = client.get(f"/crisis/{record.id}").get_data(as_text=True)
    for s in (*world.roommates, world.classmate):
        assert f"{s.name} ({s.student_number})" in page
    assert world.elsewhere.name not in page
    response = _list(
        client,
        record,
        roommates=[str(s.id) for s in world.roommates],
        classmates=[str(world.classmate.id)],
        numbers=world.elsewhere.student_number,
        relation="witness",
    )
    assert response.status_code == 302
    tasks = {t.student_id: t for t in db.session.scalars(select(Task).where(CHECK_IN))}
    assert {
        s: (t.assignee_room_id, t.assignee_class_id, t.assignee_department_id)
        for s, t in tasks.items()
    } == {
        world.roommates[0].id: (world.student.room_id, None, None),
        world.roommates[1].id: (world.student.room_id, None, None),
        world.classmate.id: (None, world.classmate.class_id, None),
        world.elsewhere.id: (None, None, world.elsewhere.department_id),
    }
    assert {t.warning_id for t in tasks.values()} == {None}
    assert tasks[world.classmate.id].text == (
        "Please keep company with 陈静 and see how they are doing"
    )
    assert tasks[world.classmate.id].text_key == PEER_TASK_TEXT

    committee = as_(app, world.committee).get("/tasks").get_data(as_text=True)
    assert "Please keep company with 陈静 and see how they are doing" in committee
    main = without_tokens(committee.split("<main", 1)[1].split("</main>", 1)[0])
    assert not CLINICAL.search(main), CLINICAL.search(main)
    dorm = as_(app, world.dorm).get("/tasks").get_data(as_text=True)
    assert "Please keep company with 王明 and see how they are doing" in dorm
    assert "Please keep company with 张伟 and see how they are doing" in dorm
    assert "陈静" not in dorm
    # The witness's department counsellor reads staff words, not the peer's.
    assert (tasks[world.elsewhere.id].text_key, tasks[world.elsewhere.id].text_params) == (
        contagion.STAFF_CHECK_IN_TEXT,
        {"name": "赵雷"},
    )
    dept = as_(app, world.other_dept_counsellor).get("/tasks").get_data(as_text=True)
    assert "Check in with 赵雷 and see how they are doing; record what you find" in dept
    assert "Student number 2026099" in dept
    assert "Please keep company with 赵雷" not in dept


def test_an_unknown_student_number_is_named_and_nothing_is_listed(app, world):
    client, record = _record(app, world)
    response = _list(
        client,
        record,
        roommates=[str(world.roommates[0].id)],
        numbers="2026099, 9999999",
        relation="friend",
    )
    assert response.status_code == 400
    assert "No student with these numbers: 9999999" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ContagionFollowUp.id))) == 0
    assert db.session.scalar(select(func.count(Task.id)).where(CHECK_IN)) == 0


def test_a_forged_pick_and_an_empty_pick_are_refused(app, world):
    client, record = _record(app, world)
    response = _list(client, record, roommates=[str(world.elsewhere.id)])
    assert response.status_code == 400
    assert "is not a valid choice" in response.get_data(as_text=True)
    response = _list(client, record)
    assert response.status_code == 400
    assert "Choose at least one student who is not listed yet." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ContagionFollowUp.id))) == 0


def test_the_follow_up_list_until_the_dorm_checks_in_and_the_counsellor_clears(app, world):
    client, record = _record(app, world)
    _list(client, record, roommates=[str(world.roommates[0].id)])
    follow_up = db.session.scalars(select(ContagionFollowUp)).one()
    listed = client.get("/crisis/follow-ups").get_data(as_text=True)
    assert "王明" in listed
    assert "Roommate" in listed
    assert "Check-in due Mon 21 Sep 10:00" in listed  # a week on, with its weekday
    dept_list = as_(app, world.dept_counsellor).get("/crisis/follow-ups").get_data(as_text=True)
    assert "王明" in dept_list
    other = as_(app, world.other_dept_counsellor).get("/crisis/follow-ups").get_data(as_text=True)
    assert "王明" not in other
    assert (
        as_(app, world.other_dept_counsellor)
        .post(f"/crisis/follow-ups/{follow_up.id}/clear", data={"note": "Fine"})
        .status_code
        == 404
    )

    dorm = as_(app, world.dorm)
    task = db.session.scalars(select(Task).where(CHECK_IN)).one()
    assert dorm.post(f"/tasks/{task.id}/done", data={"note": "聊过了，状态还好"}).status_code == 302
    listed = client.get("/crisis/follow-ups").get_data(as_text=True)
    assert "聊过了，状态还好" in listed

    refused = client.post(f"/crisis/follow-ups/{follow_up.id}/clear", data={"note": ""})
    assert refused.status_code == 400
    response = client.post(
        f"/crisis/follow-ups/{follow_up.id}/clear", data={"note": "Sleeping and eating well"}
    )
    assert response.status_code == 302
    assert "王明" not in client.get("/crisis/follow-ups").get_data(as_text=True)
    assert "Sleeping and eating well" in client.get("/crisis/follow-ups?all=1").get_data(
        as_text=True
    )
    again = client.post(f"/crisis/follow-ups/{follow_up.id}/clear", data={"note": "twice"})
    assert again.status_code == 400
    assert "no longer on the follow-up list" in again.get_data(as_text=True)


def test_escalating_a_follow_up_records_a_signal_through_the_warning_service(app, world):
    client, record = _record(app, world)
    _list(client, record, classmates=[str(world.classmate.id)])
    follow_up = db.session.scalars(select(ContagionFollowUp)).one()
    response = client.post(
        f"/crisis/follow-ups/{follow_up.id}/escalate",
        data={"note": "Not sleeping since the night of the incident", "level": "2"},
    )
    assert response.status_code == 302
    signal = db.session.scalars(select(Signal).where(Signal.student_id == world.classmate.id)).one()
    assert signal.source == "counsellor"
    assert "Not sleeping since the night" in signal.label
    warning = services.open_warning(db.session, world.classmate.id)
    assert warning is not None
    assert warning.level == 2
    db.session.expire_all()
    closed = db.session.get(ContagionFollowUp, follow_up.id)
    assert (closed.outcome, closed.signal_id) == ("escalated", signal.id)
    # The peer's check-in is no longer owed.
    assert db.session.get(Task, closed.task_id).done_at is not None
    bad = client.post(
        f"/crisis/follow-ups/{follow_up.id}/escalate", data={"note": "x", "level": "9"}
    )
    assert bad.status_code == 400


def test_a_check_in_about_a_committee_member_goes_to_the_other_members(app, campus, world):
    """Work about a student never goes to that student, even when she holds her class's role."""
    campus.staff(
        world.student.institution,
        Role.CLASS_COMMITTEE,
        group=world.classmate.class_group,
        user=world.classmate.user,
    )
    campus.commit()
    client, record = _record(app, world)
    _list(client, record, classmates=[str(world.classmate.id)], relation="witness")

    herself = as_(app, world.classmate.user).get("/tasks").get_data(as_text=True)
    assert "Please keep company with 陈静" not in herself
    assert not db.session.scalars(
        select(Notification).where(Notification.user_id == world.classmate.user_id)
    ).all()
    others = as_(app, world.committee).get("/tasks").get_data(as_text=True)
    assert "Please keep company with 陈静 and see how they are doing" in others
