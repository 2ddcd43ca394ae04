"""Each role's day starts on its workbench (zh-CN): the student's screening and where to get help
on a phone, the red whose acknowledgement the department counsellor awaits from the centre, the
class committee member's weekly report on a phone (and no word of the red classmate), and the
director's dashboard by term with headline cards first.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import ClassGroup
from tests import factories
from tests.conftest import Campus
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]

NEW_RED = "周晓宁"


@pytest.fixture(scope="module")
def red_this_morning(world: World, live_app: Flask) -> World:
    """A classmate's answers raised a red a moment ago: its hour to acknowledge is running."""
    with live_app.app_context():
        group = db.session.scalar(select(ClassGroup).where(ClassGroup.name == "CS2601"))
        student = Campus().student(group, name=NEW_RED, number="N1")
        factories.phq9_signal(student, 22, label="PHQ-9 item 9")
        db.session.remove()
    return world


def test_student_sees_the_screening_to_do_and_where_to_get_help_on_a_phone(world: World):
    page = world.page_for("student", PHONE)
    page.goto("/")
    expect(page.locator("main h1")).to_have_text("首页")
    item = page.locator("main .workbench-item").first
    expect(item).to_contain_text("你有 1 项心理测评待完成")
    expect(item).to_contain_text("每完成一部分都会保存")
    help_box = page.locator("#help")
    expect(help_box).to_contain_text("需要帮助时")
    expect(help_box.locator("a[href='tel:0731-8888-0000']")).to_be_visible()
    world.shot(page, "6-workbench-student-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    item.locator("a").click()
    expect(page).to_have_url(re.compile(r"/screening/mine$"))


def test_department_counsellor_sees_the_red_awaiting_the_centre_and_the_queue_shows_it(
    red_this_morning: World,
):
    page = red_this_morning.page_for("dept_counsellor")
    page.goto("/")
    first = page.locator("main .workbench-item").first
    expect(first).to_contain_text("1 条红色预警待心理中心确认")
    expect(first).to_contain_text("最早一条1小时后到期（今天 11:00）")
    red_this_morning.shot(page, "6-workbench-dept-counsellor")
    first.locator("a").click()
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table tbody tr").first).to_contain_text(NEW_RED)
    expect(page.locator("main .pager")).to_contain_text("共 1 条")
    expect(page.locator("input[name=unacknowledged]")).to_be_checked()


def test_class_committee_files_the_weekly_report_from_the_workbench_on_a_phone(
    red_this_morning: World,
):
    page = red_this_morning.page_for("committee", PHONE)
    page.goto("/")
    report = page.locator("main .workbench-item", has_text="本周班级心理周报尚未提交")
    expect(report).to_contain_text("本周一切正常")  # the button's own words
    expect(page.locator("main")).not_to_contain_text("红色")  # never a level for the class tier
    # A red's peer watch is the department counsellor's to arrange: nothing reaches the class
    # the minute a classmate's answers raised it.
    expect(page.locator("main")).not_to_contain_text(NEW_RED)
    red_this_morning.shot(page, "6-workbench-committee-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    report.locator("a").click()
    with page.expect_navigation():
        page.locator("main form button", has_text="本周一切正常").click()
    page.goto("/")
    expect(page.locator("main")).not_to_contain_text("本周班级心理周报尚未提交")
    red_this_morning.shot(page, "6-workbench-committee-after-report-phone")


def test_director_picks_a_term_and_reads_the_cards_before_the_tables(red_this_morning: World):
    page = red_this_morning.page_for("director")
    page.goto("/")
    glance = page.locator("main .workbench-item", has_text="本学期概况")
    expect(glance).to_contain_text("2026–2027 学年秋季学期")
    glance.locator("a").click()
    expect(page).to_have_url(re.compile(r"period=term%3A2026-autumn|period=term:2026-autumn"))
    main = page.locator("main")
    expect(main).to_contain_text("统计期间：2026年9月 至 2027年1月。")
    expect(main).to_contain_text("秋季学期：9 月至次年 1 月")
    expect(page.locator("#card-crisis .figure")).to_have_text("1")
    expect(page.locator("#kpi-crisis tbody")).to_be_hidden()
    red_this_morning.shot(page, "6-dashboard-director-term")

    page.select_option("#period", "year:2026")
    with page.expect_navigation():
        page.locator("main form.filters button[type=submit]").click()
    expect(main).to_contain_text("统计期间：2026年9月 至 2027年8月。")
    page.locator("#card-crisis a").click()  # a card opens its table
    expect(page.locator("#kpi-crisis tbody")).to_be_visible()
    expect(page.locator("#kpi-screening tbody")).to_be_hidden()
    red_this_morning.shot(page, "6-dashboard-director-year-open-table")
