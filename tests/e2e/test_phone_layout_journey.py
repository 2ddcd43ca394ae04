"""Found walking every role on a phone in Chinese: a table squeezed every column to one character a
line (names read downwards), and a long class roster in the concern-report picker ran off sideways
in columns. Both pages must read across a 390-pixel screen."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import select

from campus.extensions import db
from campus.models import ClassGroup
from tests.conftest import Campus
from tests.e2e.conftest import PHONE, World

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
