"""A peer's task closes when what it served is done, by anyone, or is no longer owed.

Found in a walk of the demo: the dorm informant's home said 17 tasks were overdue; her list had
each blue classmate twice, the check-in due a month ago (the department counsellor had called the
student the week it was asked, meeting it) and the follow-up planned after it, while the
oversight page showed every deadline met on time. Meeting a deadline closed no task. Now a check-in
or follow-up met by anyone leaves the peers' lists, one passed on to the department leaves them
too, a peer holds one open task per student and purpose, and each closed task keeps why.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import RoleAssignment
from campus.models import User
from tests.factories import open_warning
from tests.warning.response_helpers import department_contact
from warning import actions
from warning.models import OwnerTier
from warning.models import Task
from warning.models import TaskClosed
from warning.policy import Level

from .conftest import Network
from .response_helpers import open_deadlines
from .response_helpers import page_text
from .response_helpers import sweep_after

KEEP_COMPANY = "Please keep company with 张三 and see how they are doing"


def _tasks(warning) -> list[Task]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Task).where(Task.warning_id == warning.id).order_by(Task.id))
    )


def _open(warning) -> list[Task]:
    return [t for t in _tasks(warning) if t.done_at is None]


def _listed(login, user: User) -> str:
    return page_text(login(user).get("/tasks").get_data(as_text=True))


def _overdue(page: str) -> str:
    """The Overdue section of a task list's text."""
    return page.split("Overdue", 1)[1].split("Due today", 1)[0]


def test_a_check_in_met_by_the_counsellors_call_leaves_the_peers_lists(login, network):
    """The department counsellor reached the blue student on day 2: a month on, the informant's
    list has the next follow-up only, not the check-in overdue beside it."""
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    check_ins = _open(warning)
    assert {(t.kind, bool(t.assignee_class_id)) for t in check_ins} == {
        ("check_in", True),
        ("check_in", False),
    }
    clock.set_now(start + timedelta(days=2))
    department_contact(network, warning)
    # The follow-up planned after the call (due day 32) is listed from the week it is due.
    clock.set_now(start + timedelta(days=26))
    closed = {t.id: t for t in _tasks(warning)}
    for task in check_ins:
        assert closed[task.id].closed_reason is TaskClosed.MET
        assert closed[task.id].done_at == start + timedelta(days=2)
        assert closed[task.id].done_by_id is None  # closed, not done by the peer
    assert [t.kind for t in _open(warning)] == ["follow_up", "follow_up"]
    page = _listed(login, network.dorm_informant)
    assert page.count(KEEP_COMPANY) == 1
    assert KEEP_COMPANY not in _overdue(page)


def test_the_other_peers_check_in_closes_when_one_peer_has_done_it(login, network):
    warning = open_warning(network.student, Level.BLUE)
    room_task = next(t for t in _open(warning) if t.assignee_room_id is not None)
    login(network.dorm_informant).post(f"/tasks/{room_task.id}/done", data={"note": "聊过了"})
    tasks = _tasks(warning)
    class_check_in = next(t for t in tasks if t.kind == "check_in" and t.assignee_class_id)
    assert class_check_in.closed_reason is TaskClosed.MET
    assert next(t for t in tasks if t.id == room_task.id).done_by_id == network.dorm_informant.id
    # The committee member's list offers nothing a month away (`task_list.not_begun`).
    assert KEEP_COMPANY not in _listed(login, network.class_committee)
    # Her old page's tick is told the work is taken care of, not that she did it twice.
    client = login(network.class_committee)
    client.post(f"/tasks/{class_check_in.id}/done", data={})
    page = client.get("/tasks").get_data(as_text=True)
    assert "Someone has already taken care of this." in page
    # The committee member has the month's follow-up, once, from the week it is due.
    clock.set_now(room_task.done_at + timedelta(days=24))
    assert _listed(login, network.class_committee).count(KEEP_COMPANY) == 1


def test_a_check_in_the_class_let_pass_leaves_them_when_it_reaches_the_department(login, network):
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    assert sweep_after(timedelta(days=8), start) == 1
    assert open_deadlines(warning)["check_in"].tier == OwnerTier.DEPARTMENT
    assert _open(warning) == []
    assert {t.closed_reason for t in _tasks(warning)} == {TaskClosed.ESCALATED}
    assert KEEP_COMPANY not in _listed(login, network.dorm_informant)


def test_a_sooner_follow_up_keeps_a_peer_task_when_the_check_in_goes_to_the_department(
    login, network
):
    """In the check-in's week the department counsellor set a follow-up for day 10, sooner than
    the month's cadence: the peers held one task for both, due at the check-in's day 7. When the
    class let the check-in pass to the department, that task closed as escalated, and the
    follow-up the class still owed was on nobody's list: on day 10 it would have gone to the
    department as the class's miss."""
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    follow_up_on = start + timedelta(days=10)
    actions.schedule_follow_up(
        db.session, network.dept_counsellor, warning, warning.version, start, due_at=follow_up_on
    )
    check_ins = _open(warning)
    assert sweep_after(timedelta(days=8), start) == 1
    owed = open_deadlines(warning)
    assert (owed["check_in"].tier, owed["follow_up"].tier) == (
        OwnerTier.DEPARTMENT,
        OwnerTier.CLASS,
    )
    closed = {t.id: t.closed_reason for t in _tasks(warning)}
    assert [closed[t.id] for t in check_ins] == [TaskClosed.ESCALATED, TaskClosed.ESCALATED]
    still = _open(warning)
    assert sorted((t.kind, t.due_at, bool(t.assignee_class_id)) for t in still) == [
        ("follow_up", follow_up_on, False),
        ("follow_up", follow_up_on, True),
    ]
    page = _listed(login, network.dorm_informant)
    assert page.count(KEEP_COMPANY) == 1
    assert KEEP_COMPANY not in _overdue(page)


def test_a_follow_up_passed_to_the_department_gives_the_check_in_back_its_own_day(network):
    """The other way round: the follow-up set for day 3 went to the department first. The
    check-in the class still owes keeps its task, due at its own day 7 again, not standing
    overdue at the follow-up's day 3."""
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    check_in_due = open_deadlines(warning)["check_in"].due_at
    actions.schedule_follow_up(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        start,
        due_at=start + timedelta(days=3),
    )
    assert sweep_after(timedelta(days=4), start) == 1
    assert open_deadlines(warning)["follow_up"].tier == OwnerTier.DEPARTMENT
    assert {(t.kind, t.due_at) for t in _open(warning)} == {("check_in", check_in_due)}
    assert len(_open(warning)) == 2


def test_a_follow_up_planned_while_the_check_in_is_open_is_one_task(network):
    """A sooner follow-up set in the check-in's week asks the peers the same thing: each keeps
    one task, due at the sooner of the two."""
    warning = open_warning(network.student, Level.BLUE)
    soon = clock.now() + timedelta(days=3)
    actions.schedule_follow_up(
        db.session, network.dept_counsellor, warning, warning.version, clock.now(), due_at=soon
    )
    still = _open(warning)
    assert len(still) == 2
    assert {t.due_at for t in still} == {soon}


def test_level_change_and_closure_end_the_tasks_with_their_reason(network):
    warning = open_warning(network.student, Level.BLUE)
    first = _open(warning)
    actions.change_level(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        clock.now(),
        level=Level.YELLOW,
        reason="Told a roommate she stopped eating",
    )
    ended = {t.id: t.closed_reason for t in _tasks(warning)}
    assert [ended[t.id] for t in first] == [TaskClosed.ENDED, TaskClosed.ENDED]


def test_a_peer_holding_both_roles_sees_the_request_once_and_one_tick_closes_both(
    login, network: Network
):
    """A committee member who is also her room's informant is asked by the class and by the
    room: one line on her list, one tick."""
    both = network.class_committee
    both.roles.append(
        RoleAssignment(
            role=network.dorm_informant.roles[0].role,
            institution_id=network.institution.id,
            room_id=network.room.id,
        )
    )
    db.session.commit()
    warning = open_warning(network.student, Level.BLUE)
    assert len(_open(warning)) == 2
    page = login(both).get("/tasks").get_data(as_text=True)
    assert page_text(page).count(KEEP_COMPANY) == 1
    listed = db.session.scalars(actions.open_tasks_query(both)).all()
    assert len(listed) == 1
    login(both).post(f"/tasks/{listed[0].id}/done", data={"note": "一起吃饭"})
    assert [t.kind for t in _open(warning)] == ["follow_up", "follow_up"]
    assert KEEP_COMPANY not in page_text(login(both).get("/tasks").get_data(as_text=True))
    clock.set_now(clock.now() + timedelta(days=24))  # the follow-up's week
    assert page_text(login(both).get("/tasks").get_data(as_text=True)).count(KEEP_COMPANY) == 1
