"""Found walking every role on a phone in Chinese: a table squeezed every column to one character a
line (names read downwards), a long class roster in the concern-report picker ran off sideways
in columns, and the warning queue hid its deadline column past the screen's edge. Each page must
read across a 390-pixel screen."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Student
from tests.conftest import Campus
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.factories import open_warning
from warning.policy import Level

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]
SURNAMES = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


def _sideways_overflow(page: Page, selector: str) -> int:
    """How far `selector`'s content reaches past its box to the right, in pixels."""
    return page.locator(selector).evaluate("e => e.scrollWidth - e.clientWidth")


def test_class_roster_picker_is_one_column_on_a_phone(world: World, live_app: Flask):
    with live_app.app_context():
        group = db.session.scalar(select(ClassGroup).where(ClassGroup.name == "CS2601"))
        campus = Campus()
        for i, surname in enumerate(SURNAMES):
            campus.student(group, name=f"{surname}同学", number=f"20269{i:03d}")
        db.session.commit()
    page = world.page_for("committee", PHONE)
    page.goto("/warnings/my-class")
    world.shot(page, "walk-concern-picker-phone")
    assert _sideways_overflow(page, "ul#student_id") <= 0


def test_student_list_keeps_each_name_on_one_line_on_a_phone(world: World):
    page = world.page_for("counsellor", PHONE)
    page.goto("/students")
    world.shot(page, "walk-students-phone")
    cell = page.locator("main tbody td", has_text="李晓雨").first
    lines = cell.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    )
    assert lines == 1
    # One card a student: the dorm room is on the screen, not past its edge.
    assert _sideways_overflow(page, "main table") <= 0
    assert page.locator("main tbody td[data-label='宿舍']").first.is_visible()


def test_a_department_counsellor_reads_each_warning_and_its_deadline_on_a_phone(
    world: World, live_app: Flask
):
    with live_app.app_context():
        student = db.session.scalars(select(Student).where(Student.name == world.student_name))
        open_warning(student.one(), Level.RED)
        db.session.remove()
    page = world.page_for("dept_counsellor", PHONE)
    page.goto("/warnings/")
    row = page.locator("main table.queue tbody tr", has_text=world.student_name)
    deadline = row.locator("td").nth(6)
    assert "下一处置时限" in deadline.evaluate("e => getComputedStyle(e, '::before').content")
    box = deadline.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    assert "未确认接收" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    world.shot(page, "21-warning-queue-phone")


def test_every_page_in_each_menu_fits_a_phone(world: World):
    """Each person's home and every page their menu offers, at 390 pixels: nothing reaches past
    the screen's edge (a wide table scrolls inside its own box). Found this way: the interview
    list's assign form, pushed wide by a long counsellor's name."""
    too_wide = []
    for who in world.logins:
        page = world.page_for(who, PHONE)
        links = ["/", *(a.get_attribute("href") or "" for a in page.locator("nav a").all())]
        for href in [link for link in links if link.startswith("/")]:
            page.goto(href)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide.append((who, href, width))
    assert too_wide == []
