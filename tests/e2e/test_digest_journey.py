"""A department counsellor's Monday inbox in a real browser: the new red on top, and the weekly
reports three classes missed as one line that opens to their names.

The university has been live since the start of term; three classes of the department have had
their committee member since then and filed nothing last week. CS2601's member was appointed this
morning, so last week's report was never theirs to file and is not listed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from tests import factories
from tests.conftest import Campus
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.factories import TERM_START
from tests.factories import went_live
from warning import escalation

pytestmark = pytest.mark.e2e

CLASSES = {
    "zh_CN": ("计科2501班", "计科2502班", "软工2501班"),
    "en": ("CS2501", "CS2502", "SE2501"),
}
DIGEST = {"zh_CN": "您所在院系有周报未提交", "en": "Weekly reports are missing in your department"}
URGENT = {"zh_CN": "紧急", "en": "Urgent"}
IN_ALL = {"zh_CN": "共 3 项", "en": "3 in all"}
# The week missed, by its Monday (7 September), as every page says a day.
WEEK = {"zh_CN": "9月7日 周一", "en": "Mon 7 Sep"}


@pytest.fixture(scope="module")
def monday(world: World, live_app: Flask) -> World:
    """A red at ten this morning; at one o'clock the sweep finds last week's reports missing."""
    with live_app.app_context():
        campus = Campus()
        inst = db.session.scalar(select(Institution).where(Institution.code == "XJU"))
        computing = db.session.scalar(
            select(Department).where(Department.institution_id == inst.id)
        )
        members = [
            campus.staff(inst, Role.CLASS_COMMITTEE, group=campus.class_group(computing, name))
            for name in CLASSES[world.locale]
        ]
        went_live(TERM_START, inst, *members)
        campus.commit()
        student = db.session.scalar(select(Student).where(Student.student_number == "2026001"))
        factories.phq9_signal(student, 22, label="PHQ-9 item 9")
        clock.advance(timedelta(hours=3))  # 13:00 in Changsha: last week's reports are overdue
        escalation.sweep_missing_reports(db.session, clock.now())
        db.session.commit()
        db.session.remove()
    return world


def test_the_red_heads_the_inbox_and_the_missing_reports_are_one_line_that_opens(monday: World):
    page = monday.page_for("dept_counsellor")
    page.goto("/inbox/")
    notes = page.locator("main ul.inbox > li")
    expect(notes).to_have_count(2)
    expect(notes.first).to_have_class("unread urgent")
    expect(notes.first.locator(".urgent-tag")).to_have_text(URGENT[monday.locale])
    expect(notes.first.locator(".level.red")).to_be_visible()
    expect(notes.first).to_contain_text(monday.student_name)
    digest = notes.nth(1).locator("details.digest")
    expect(digest.locator("summary")).to_contain_text(DIGEST[monday.locale])
    expect(digest.locator(".count")).to_have_text(IN_ALL[monday.locale])
    expect(digest.locator("li").first).to_be_hidden()
    monday.shot(page, "6-inbox-red-first-digest-closed")
    digest.locator("summary").click()
    expect(digest.locator("li")).to_have_count(3)
    for name, item in zip(CLASSES[monday.locale], digest.locator("li").all(), strict=True):
        expect(item).to_contain_text(name)
        expect(item).to_contain_text(WEEK[monday.locale])
    expect(digest).not_to_contain_text("CS2601")
    monday.shot(page, "6-inbox-digest-open")


def test_the_digest_reads_on_a_phone(monday: World):
    page = monday.page_for("dept_counsellor", PHONE)
    page.goto("/inbox/")
    digest = page.locator("main details.digest")
    digest.locator("summary").click()
    expect(digest.locator("li")).to_have_count(3)
    monday.shot(page, "6-inbox-digest-phone")
