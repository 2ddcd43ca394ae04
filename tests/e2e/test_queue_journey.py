"""A counsellor's morning in a real browser: the new red leads the queue and the task list.

The university already has reds its centre acknowledged last week and forty classes that missed
their weekly report; a freshman's answers raise a new red this morning.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.i18n import Message
from campus.models import ClassGroup
from campus.models import Department
from campus.models import User
from tests import factories
from tests.conftest import Campus
from tests.e2e.conftest import World
from warning import actions
from warning import escalation
from warning.models import EarlyWarning
from warning.models import Task

pytestmark = pytest.mark.e2e

NEW_RED = {"zh_CN": "周晓宁", "en": "Zhou Xiaoning"}
NOT_ACKNOWLEDGED = {"zh_CN": "未确认接收", "en": "Not acknowledged"}
DUE_AT_ELEVEN = {"zh_CN": "期限 今天 11:00", "en": "due today 11:00"}


def _red(student) -> EarlyWarning:
    warning = factories.phq9_signal(student, 22, label="PHQ-9 item 9")
    assert warning is not None
    return warning


def _missing_reports(department: Department, count: int) -> None:
    for number in range(count):
        text = Message(
            escalation.REPORT_MISSING_TEXT["class"], unit=f"CS25{number:02}", week="2026-09-07"
        )
        db.session.add(
            Task(
                institution_id=department.institution_id,
                kind="report_missing",
                text=text,
                text_key=text.key,
                text_params=text.params,
                assignee_department_id=department.id,
                due_at=clock.now() - timedelta(hours=20),
            )
        )
    db.session.commit()


@pytest.fixture(scope="module")
def morning(world: World, live_app: Flask) -> World:
    """Three reds acknowledged over the past days, forty missing reports, then the new red."""
    with live_app.app_context():
        campus = Campus()
        group = db.session.scalar(select(ClassGroup).where(ClassGroup.name == "CS2601"))
        counsellor = db.session.scalar(select(User).where(User.login == "sc01"))
        start = clock.now()
        clock.set_now(start - timedelta(days=3))
        for number in range(3):
            older = _red(campus.student(group, name=f"Earlier {number}", number=f"E{number}"))
            actions.acknowledge(db.session, counsellor, older, older.version, clock.now())
            clock.advance(timedelta(hours=20))
        clock.set_now(start)
        _missing_reports(db.session.get(Department, group.department_id), 40)
        _red(campus.student(group, name=NEW_RED[world.locale], number="N1"))
        db.session.remove()
    return world


def test_the_new_unacknowledged_red_leads_the_counsellors_queue(morning: World):
    page = morning.page_for("counsellor")
    page.goto("/warnings/")
    first = page.locator("main table tbody tr").first
    expect(first).to_contain_text(NEW_RED[morning.locale])
    expect(first.locator(".level.red")).to_be_visible()
    expect(first).to_contain_text(NOT_ACKNOWLEDGED[morning.locale])
    # An hour to acknowledge, Changsha time, in the words the tasks page uses.
    expect(first).to_contain_text(DUE_AT_ELEVEN[morning.locale])
    second = page.locator("main table tbody tr").nth(1)
    expect(second).to_contain_text("Earlier 0")
    expect(second).not_to_contain_text(NOT_ACKNOWLEDGED[morning.locale])
    assert page.locator("main table thead th").count() == 9
    # On a laptop the status keeps to one line (it wrapped over three).
    status = first.locator("strong.error")
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('main td')).lineHeight)"
    )
    assert status.bounding_box()["height"] < 1.5 * line
    morning.shot(page, "5-warning-queue-unacknowledged-first")


def test_the_department_counsellor_sees_the_red_above_collapsed_chores_and_in_the_inbox(
    morning: World,
):
    page = morning.page_for("dept_counsellor")
    page.goto("/tasks")
    red = page.locator("main li.deadline", has_text=NEW_RED[morning.locale]).first
    chores = page.locator("main details.chore-group")
    expect(red).to_be_visible()
    expect(chores).to_have_count(1)
    assert red.bounding_box()["y"] < chores.bounding_box()["y"]
    expect(chores.locator(".count")).to_have_text("40")
    expect(chores.locator("li").first).to_be_hidden()
    morning.shot(page, "5-tasks-red-above-chores")
    chores.locator("summary").click()
    expect(chores.locator("li")).to_have_count(40)
    expect(chores.locator("li").first).to_be_visible()

    page.goto("/inbox/")
    note = page.locator("main ul.inbox li", has_text=NEW_RED[morning.locale])
    expect(note.locator(".level.red")).to_be_visible()
    morning.shot(page, "5-inbox-red-notice")
    note.locator("a", has_text=NEW_RED[morning.locale]).click()
    expect(page.locator("main h1")).to_contain_text(NEW_RED[morning.locale])
