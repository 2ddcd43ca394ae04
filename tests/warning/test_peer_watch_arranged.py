"""A red's peer watch is arranged by staff, so no peer learns a level from it.

Found in a fresh-eyes walk: the shipped response policy made a red's peer watch the class's, owed
within 24 hours, so the minute a student answered PHQ-9 item 9 (a false positive included) her
class's psychology committee member and her dorm informant were asked to keep her company "due
tomorrow", while a blue's check-in read a date a week away: a peer could tell red from blue. By
default the department counsellor now owes arranging it within 24 hours; her "Ask class and dorm
to keep company" gives the peers a task due at the end of the watch, as any peer task is.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from tests import factories
from warning.models import Deadline
from warning.models import OwnerTier
from warning.models import Task

from .response_helpers import arrange_peer_watch
from .response_helpers import events
from .response_helpers import open_deadlines
from .response_helpers import page_text
from .response_helpers import sweep_after

SAFETY = {"instrument": "phq9", "total": 3, "flags": ["safety", "phq9_item9"]}


def _safety_answer(student):
    """A red from a PHQ-9 item 9 answer in the screening; the warning."""
    return factories.signal(student, **SAFETY)


def _peer_work(network) -> tuple[list[Task], list[Notification]]:
    """The tasks and notes the network's class committee member and dorm informant have."""
    peers = [network.class_committee.id, network.dorm_informant.id]
    tasks = db.session.scalars(
        select(Task).where(
            (Task.assignee_class_id == network.group.id)
            | (Task.assignee_room_id == network.room.id)
        )
    ).all()
    notes = db.session.scalars(select(Notification).where(Notification.user_id.in_(peers))).all()
    return list(tasks), list(notes)


def _arrange(client, warning, days: str = "7"):
    return client.post(
        f"/warnings/{warning.id}/actions/peer_watch",
        data={"peer_watch-version": warning.version, "peer_watch-days": days},
    )


def test_a_red_set_by_a_safety_answer_gives_class_and_dorm_no_task_and_no_note(network, login):
    warning = _safety_answer(network.student)
    assert warning.level == 3
    assert _peer_work(network) == ([], [])
    for peer in (network.class_committee, network.dorm_informant):
        page = login(peer).get("/tasks").get_data(as_text=True)
        assert network.student.name not in page


def test_the_department_counsellor_owes_the_peer_watch_and_it_leads_to_her_form(network, login):
    warning = _safety_answer(network.student)
    deadline = open_deadlines(warning)["peer_watch"]
    assert deadline.tier == OwnerTier.DEPARTMENT
    assert deadline.due_at == clock.now() + timedelta(hours=24)
    form_url = f"/warnings/{warning.id}/actions/peer_watch"
    client = login(network.dept_counsellor)

    own, _, others = client.get("/tasks").get_data(as_text=True).partition('id="h-others"')
    assert f'<a href="{form_url}">Arrange the peer watch</a>' in own
    assert "Arrange the peer watch" not in others
    page = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    owed = page[page.index("Still to do") :]
    assert (
        f'<a href="{form_url}">Arrange the peer watch</a><span class="muted"> (department)' in owed
    )
    # The centre's acknowledgement is not hers to give: that step leads to no form of hers.
    assert "actions/acknowledge" not in owed
    form = client.get(form_url).get_data(as_text=True)
    assert "Ask class and dorm to keep company" in form
    assert 'value="7"' in form  # a week's watch unless she sets another


def test_her_action_gives_the_peer_tasks_due_at_the_watchs_end_and_meets_the_deadline(
    network, login
):
    warning = _safety_answer(network.student)
    assert _arrange(login(network.dept_counsellor), warning).status_code == 302

    assert "peer_watch" not in open_deadlines(warning)
    met = db.session.scalar(select(Deadline).where(Deadline.kind == "peer_watch"))
    assert met.met_at == clock.now()
    assert events(warning, "peer_watch_assigned") == 1
    tasks, notes = _peer_work(network)
    assert len(tasks) == 2
    assert {task.due_at for task in tasks} == {clock.now() + timedelta(days=7)}
    assert sorted(note.user_id for note in notes) == sorted(
        [network.class_committee.id, network.dorm_informant.id]
    )
    assert all(note.detail == {"new_tasks": 1} and not note.urgent for note in notes)
    # Met on time: nothing of it goes up to the centre a day later.
    assert sweep_after(timedelta(hours=24, minutes=1), clock.now()) == 3  # the other three steps
    assert "peer_watch" not in open_deadlines(warning)


def _task_lines(page: str) -> list[str]:
    """The committee member's task lines as she reads them, names and numbers taken out."""
    lines = re.findall(r'<li>\s*(?:(?!</li>).)*?class="task-due".*?</p>', page, re.S)
    return [page_text(line) for line in lines]


def test_a_peer_cannot_tell_a_reds_week_of_company_from_a_blues_check_in(campus, network, login):
    """Same words, same kind of due words: the red's watch arranged for 7 days and the blue's
    7-day check-in read alike on the committee member's list, in Chinese too."""
    roommate = campus.student(network.group, network.room, name="王五")
    campus.commit()
    red = _safety_answer(network.student)
    before = login(network.class_committee).get("/tasks").get_data(as_text=True)
    assert network.student.name not in before  # nothing until the counsellor asks
    _arrange(login(network.dept_counsellor), red)
    factories.phq9_signal(roommate, 7)  # blue: the class checks in within 7 days
    kinds = db.session.scalars(
        select(Task.kind).where(Task.assignee_class_id == network.group.id).order_by(Task.id)
    ).all()
    assert kinds == ["peer_watch", "check_in"]

    committee = network.class_committee
    committee.locale = "zh_CN"
    db.session.commit()
    page = login(committee).get("/tasks").get_data(as_text=True)
    lines = _task_lines(page)
    assert len(lines) == 2
    for student in (network.student, roommate):
        assert f"请多陪伴{student.name}，关心一下对方的近况" in page
    anonymised = set()
    for line in lines:
        for student in (network.student, roommate):
            line = line.replace(student.name, "X").replace(student.student_number, "N")
        anonymised.add(line)
    (line,) = anonymised  # the two lines are one line once the names are out
    # The same button on both: a day's company, whether a week's watch or a one-off check-in.
    assert page.count(">今天已关心</button>") == 2 or page.count(">Checked in today</button>") == 2
    assert "关注至" in line  # company until the day, not a one-off deadline
    assert "期限" not in line
    assert "明天" not in line
    assert "周" in line  # a day a week away, with its weekday, as any week-long task

    # Her tap on each is thanked in the same words: nothing of a next date, nor of keeping one
    # classmate company on. And after it neither is folded under 以后: the red's watch stays
    # current until its end, the blue's next check-in (due a month out) waits unlisted until the
    # week it is due (`task_list.not_begun`), not offered again the day she did it.
    tasks = db.session.scalars(
        select(Task).where(Task.assignee_class_id == network.group.id).order_by(Task.id)
    ).all()
    flashes = set()
    client = login(committee)
    for task in tasks:
        response = client.post(f"/tasks/{task.id}/done", data={"note": ""})
        page = client.get(response.location).get_data(as_text=True)
        (flash,) = re.findall(r'<p class="flash success"[^>]*>(.*?)</p>', page, re.S)
        flashes.add(flash.replace(task.student.name, "X"))
    (flash,) = flashes
    for student in (network.student, roommate):
        assert student.name not in flash
    assert not re.search(r"\d", flash), "no date"
    assert "继续陪伴" not in flash
    assert "keep" not in flash
    assert 'id="h-later"' not in page
    upcoming = page.split('id="h-upcoming"', 1)[1]
    assert network.student.student_number in upcoming
    assert roommate.student_number not in page
    lines = _task_lines(page)
    assert len(lines) == 1
    assert all("关注至" in line or "until" in line for line in lines)


def _timeline(client, student) -> str:
    page = client.get(f"/warnings/students/{student.id}").get_data(as_text=True)
    return page_text(page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0])


def test_a_peers_tap_on_a_weeks_watch_is_a_days_company_and_the_watch_goes_on(network, login):
    """A dorm informant's one tap on 标记为完成 on the watch's first day ended a red's week of
    company, and the counsellor's timeline read the watch as done."""
    warning = _safety_answer(network.student)
    _arrange(login(network.dept_counsellor), warning)
    task = db.session.scalars(
        select(Task).where(Task.assignee_room_id == network.room.id, Task.kind == "peer_watch")
    ).one()
    client = login(network.dorm_informant)
    response = client.post(f"/tasks/{task.id}/done", data={"note": "一起吃了晚饭"})
    page = client.get(response.location).get_data(as_text=True)
    assert "Thank you. It is recorded." in page_text(page)
    db.session.refresh(task)
    assert task.done_at is None  # the watch goes on
    assert network.student.name in page.split('id="h-upcoming"', 1)[1]
    assert "Your last check-in" in page
    # A second tap the same day (a page loaded before) records nothing more.
    again = client.post(f"/tasks/{task.id}/done", data={"note": ""}, follow_redirects=True)
    assert "You already checked in today" in again.get_data(as_text=True)
    assert events(warning, "peer_check_in") == 1
    # The counsellor reads the day's company and that the watch goes on, not that it is done.
    timeline = _timeline(login(network.dept_counsellor), network.student)
    assert "Checked in by the class or dorm" in timeline
    assert "the watch goes on until" in timeline
    assert "一起吃了晚饭" in timeline
    assert "Done by the class or dorm" not in timeline
    # Its last day the tap ends it, as any peer task.
    clock.set_now(task.due_at - timedelta(hours=1))
    client = login(network.dorm_informant)
    client.post(f"/tasks/{task.id}/done", data={"note": ""})
    db.session.refresh(task)
    assert task.done_at is not None
    assert "Done by the class or dorm" in _timeline(login(network.dept_counsellor), network.student)


def test_a_missed_peer_watch_goes_up_to_the_centre_and_still_tells_no_peer(network, login):
    warning = _safety_answer(network.student)
    start = clock.now()
    assert sweep_after(timedelta(hours=24, minutes=1), start) == 4  # acknowledgement missed too
    watch = open_deadlines(warning)["peer_watch"]
    assert watch.tier == OwnerTier.SCHOOL
    assert watch.due_at == start + timedelta(hours=48, minutes=1)
    assert _peer_work(network) == ([], [])
    own, _, _others = (
        login(network.school_counsellor).get("/tasks").get_data(as_text=True).partition("h-others")
    )
    assert f'<a href="/warnings/{warning.id}/actions/peer_watch">Arrange the peer watch</a>' in own


def test_the_centre_arranging_it_after_the_escalation_meets_the_escalated_deadline(campus, network):
    warning = _safety_answer(network.student)
    sweep_after(timedelta(hours=24, minutes=1), clock.now())
    other_centre = campus.staff(network.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    tasks = arrange_peer_watch(warning, other_centre)
    assert len(tasks) == 2
    assert "peer_watch" not in open_deadlines(warning)
