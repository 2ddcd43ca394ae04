"""Found walking the demo: a class's psychology committee member who was herself the red student
was sent "keep 李霞子 company this week" about herself. Work about a student never goes to that
student: not the task, not the note, not the right to mark it done; and when she is the only
one who holds her class and room, her peer watch reaches no one: the department arranges it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from tests.factories import phq9_signal

from .response_helpers import arrange_peer_watch
from .response_helpers import class_peer_watch_policy


@pytest.fixture
def subject(campus, network):
    """The network's student, who also holds a committee role in her own class."""
    campus.staff(
        network.institution, Role.CLASS_COMMITTEE, group=network.group, user=network.student.user
    )
    campus.commit()
    return network.student


def _notes(user_id: int) -> int:
    return len(
        db.session.scalars(select(Notification).where(Notification.user_id == user_id)).all()
    )


def test_a_committee_member_is_not_given_her_own_peer_watch(subject, network, login):
    warning = phq9_signal(subject, 22)
    response = login(network.dept_counsellor).post(
        f"/warnings/{warning.id}/actions/peer_watch",
        data={"peer_watch-version": warning.version, "peer_watch-days": "7"},
    )
    assert response.status_code == 302

    own_tasks = login(subject.user).get("/tasks").get_data(as_text=True)
    assert f"keep company with {subject.name}" not in own_tasks
    assert _notes(subject.user_id) == 0
    # Her fellow committee member and the room's informant are asked, and told.
    theirs = login(network.class_committee).get("/tasks").get_data(as_text=True)
    assert f"keep company with {subject.name}" in theirs
    assert _notes(network.class_committee.id) == 1
    assert _notes(network.dorm_informant.id) == 1


def test_she_cannot_mark_her_own_peer_watch_done(subject, network, login):
    warning = phq9_signal(subject, 22)
    task, _room_task = arrange_peer_watch(warning, network.dept_counsellor)
    assert task.assignee_class_id == subject.class_id
    response = login(subject.user).post(f"/tasks/{task.id}/done", data={"note": ""})
    assert response.status_code in (403, 404)
    db.session.refresh(task)
    assert task.done_at is None


def test_when_she_alone_holds_her_class_and_room_the_department_arranges_it(campus, network, login):
    """Where the campus's policy makes the class owe red's peer watch, one nobody in the class
    can receive is the department counsellor's own, marked so."""
    class_peer_watch_policy(network.institution.id)
    alone = campus.student(campus.class_group(network.department, "CS-2026-9"), name="孤生")
    campus.staff(
        network.institution, Role.CLASS_COMMITTEE, group=alone.class_group, user=alone.user
    )
    campus.commit()
    phq9_signal(alone, 22)

    counsellor = login(network.dept_counsellor)
    own, _, _others = counsellor.get("/tasks").get_data(as_text=True).partition('id="h-others"')
    assert "Arrange the peer watch" in own
    assert "no committee member or informant to receive it: yours to arrange" in own
    page = counsellor.get(f"/warnings/students/{alone.id}").get_data(as_text=True)
    assert "孤生 is the only psychology committee member of CS-2026-9" in page


def test_a_committee_member_cannot_file_a_concern_report_about_herself(
    campus, subject, network, login
):
    from warning.models import ConcernReport

    classmate = campus.student(network.group, name="王五")
    campus.commit()
    client = login(subject.user)
    page = client.get(f"/warnings/units/class/{network.group.id}").get_data(as_text=True)
    weekly = page[page.index('id="week-h"') : page.index('id="concern-h"')]
    concern = page[page.index('id="concern-h"') : page.index('id="roster-h"')]
    for form in (weekly, concern):  # she is on neither list; her classmate is on both
        assert f'value="{classmate.id}"' in form
        assert f'value="{subject.id}"' not in form
    token = page.split('name="submission" type="hidden" value="', 1)[1][:32]
    response = client.post(
        f"/warnings/units/class/{network.group.id}/concern",
        data={
            "submission": token,
            "student_id": subject.id,
            "category": "low_mood",
            "text": "I have been sleeping badly",
        },
    )
    assert response.status_code == 400
    assert "Choose a student from your list." in response.get_data(as_text=True)
    assert db.session.scalars(select(ConcernReport)).all() == []


def test_a_peer_watch_nobody_can_receive_needs_the_company_arranged_in_person(
    campus, network, login
):
    """Before: the button met the red's peer-watch deadline with tasks nobody received."""
    from .response_helpers import events
    from .response_helpers import open_deadlines

    alone = campus.student(campus.class_group(network.department, "CS-2026-9"), name="孤生")
    campus.staff(
        network.institution, Role.CLASS_COMMITTEE, group=alone.class_group, user=alone.user
    )
    campus.commit()
    warning = phq9_signal(alone, 22)
    client = login(network.dept_counsellor)
    url = f"/warnings/{warning.id}/actions/peer_watch"
    refused = client.post(url, data={"peer_watch-version": warning.version, "peer_watch-days": "7"})
    assert refused.status_code == 400
    assert "No classmate or roommate can receive this peer watch." in refused.get_data(True)
    assert "peer_watch" in open_deadlines(warning)

    company = "Her cousin Zhang Min stays with her tonight (138 0000 0000); I call at 21:00"
    done = client.post(
        url,
        data={
            "peer_watch-version": warning.version,
            "peer_watch-days": "7",
            "peer_watch-arranged": company,
        },
    )
    assert done.status_code == 302
    assert "peer_watch" not in open_deadlines(warning)
    assert events(warning, "peer_watch_assigned") == 1
    page = client.get(f"/warnings/students/{alone.id}").get_data(as_text=True)
    assert company in page
