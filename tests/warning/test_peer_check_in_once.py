"""A peer's tap on a blue's check-in is that day's company, once, and the next one waits.

Found in a walk of the demo: a class committee member pressed 今天已关心 on a blue classmate's
check-in. Doing it met the check-in and planned the month's follow-up, which is the class's too
and so a new task for her, listed at once under "upcoming" (a peer's request is never folded
under "later") with 关注至 a month out and the same button. Her second tap the same day was
accepted: it completed that follow-up and planned another a month further on.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from tests.factories import open_warning
from warning import workbench
from warning.models import Task
from warning.policy import Level

from .response_helpers import arrange_peer_watch
from .response_helpers import page_text

KEEP_COMPANY = "Please keep company with 张三 and see how they are doing"


def _class_tasks(warning) -> list[Task]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Task)
            .where(Task.warning_id == warning.id, Task.assignee_class_id.is_not(None))
            .order_by(Task.id)
        )
    )


def _tap(client, task: Task) -> str:
    response = client.post(f"/tasks/{task.id}/done", data={"note": ""})
    return client.get(response.location).get_data(as_text=True)


def test_a_second_tap_the_same_day_completes_no_other_task(login, network):
    warning = open_warning(network.student, Level.BLUE)
    (check_in,) = _class_tasks(warning)
    client = login(network.class_committee)
    _tap(client, check_in)
    done, following = _class_tasks(warning)
    assert done.done_by_id == network.class_committee.id
    assert following.kind == "follow_up"
    assert following.done_at is None
    # Her second tap that day (a page of hers that still offered it) records nothing more.
    page = _tap(client, following)
    tasks = _class_tasks(warning)
    assert [t.id for t in tasks] == [done.id, following.id]
    assert tasks[1].done_at is None
    assert "You already marked this done." in page
    # The next day it is hers to tap again, once its period has begun.
    clock.set_now(following.due_at - timedelta(days=2))
    _tap(login(network.class_committee), following)
    assert _class_tasks(warning)[1].done_by_id == network.class_committee.id


def test_the_next_check_in_is_listed_only_when_its_period_begins(login, network):
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    (check_in,) = _class_tasks(warning)
    client = login(network.class_committee)
    page = page_text(_tap(client, check_in))
    assert "Thank you. It is recorded." in page
    assert KEEP_COMPANY not in page  # done for now: nothing a month away offered
    following = _class_tasks(warning)[1]
    assert following.due_at == start + timedelta(days=30)
    clock.set_now(start + timedelta(days=22))
    page = page_text(login(network.class_committee).get("/tasks").get_data(as_text=True))
    assert "Tasks" in page
    assert KEEP_COMPANY not in page
    # A week before it is due, as a blue's first check-in is asked within a week.
    clock.set_now(start + timedelta(days=24))
    page = page_text(login(network.class_committee).get("/tasks").get_data(as_text=True))
    assert page.count(KEEP_COMPANY) == 1
    assert "Later" not in page


def test_the_home_page_counts_no_check_in_before_its_period(login, network):
    warning = open_warning(network.student, Level.BLUE)
    (check_in,) = _class_tasks(warning)
    client = login(network.class_committee)
    _tap(client, check_in)
    assert _class_tasks(warning)[1].done_at is None  # the month's follow-up, waiting
    counts = workbench.task_counts(
        db.session, network.class_committee, clock.now(), clock.now() + timedelta(hours=1)
    )
    assert (counts.due_today, counts.upcoming, counts.later) == (0, 0, 0)


def test_a_watch_checked_in_today_shows_its_button_spent_until_tomorrow(login, network):
    """The watch goes on as before, a check-in a day; the day's is shown done, not offered."""
    warning = open_warning(network.student, Level.RED)
    class_task, _room_task = arrange_peer_watch(warning, network.dept_counsellor)
    client = login(network.class_committee)
    page = _tap(client, class_task)
    assert "Thank you. It is recorded." in page
    assert f'action="/tasks/{class_task.id}/done"' not in page
    assert '<button type="button" disabled>Checked in today ✓</button>' in page
    db.session.refresh(class_task)
    assert class_task.done_at is None
    assert class_task.checked_in_at == clock.now()
    # Tomorrow it is hers to tap again.
    clock.set_now(clock.now() + timedelta(days=1))
    page = login(network.class_committee).get("/tasks").get_data(as_text=True)
    assert f'action="/tasks/{class_task.id}/done"' in page
    assert "disabled" not in page
