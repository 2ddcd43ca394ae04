"""Access that ends (zh-CN): the administrator gives the class committee member's role a last
day, opens this term's access review, confirms some roles, ends one, and watches the home page's
count fall; after that last day the member signs in on a phone to a home page without the role.
"""

from __future__ import annotations

from datetime import datetime
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
from campus.models import User
from tests.conftest import Campus
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import START
from tests.e2e.conftest import World
from tests.e2e.conftest import follow_menu

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]

# The committee member's last day: Sunday; in Changsha it ends at 16:00 UTC.
LAST_DAY = "2026-09-20"


@pytest.fixture(scope="module")
def staffed(world: World, live_app: Flask) -> World:
    """The department counsellor also leads the department; an hour has passed since the roles
    were given, so this term's review covers them all."""
    with live_app.app_context():
        inst = db.session.scalar(select(Institution).where(Institution.code == "XJU"))
        counsellor = db.session.scalar(
            select(User).where(User.login == world.logins["dept_counsellor"])
        )
        department = db.session.scalar(
            select(Department).where(Department.institution_id == inst.id)
        )
        Campus().staff(inst, Role.DEPT_LEADER, department=department, user=counsellor)
        db.session.commit()
        db.session.remove()
    clock.set_now(START + timedelta(hours=1))
    return world


def _user_id(live_app: Flask, login: str) -> int:
    with live_app.app_context():
        found = db.session.scalar(select(User.id).where(User.login == login))
        db.session.remove()
    assert found is not None
    return found


def test_administrator_sets_a_last_day_on_the_committee_members_role(staffed: World, live_app):
    page = staffed.page_for("admin")
    page.goto(f"/admin/users/{_user_id(live_app, staffed.logins['committee'])}")
    row = page.locator("table.roles tbody tr", has_text="班级心理委员")
    row.locator("input[type=date]").fill(LAST_DAY)
    row.get_by_role("button", name="保存最后任职日").click()
    expect(page.locator(".flash.success")).to_contain_text("最后任职日已保存")
    expect(
        page.locator("table.roles tbody tr", has_text="班级心理委员").locator("input[type=date]")
    ).to_have_value(LAST_DAY)
    staffed.shot(page, "7-access-last-day")


def test_administrator_reviews_this_terms_access_and_the_home_count_falls(staffed: World):
    page = staffed.page_for("admin")
    page.goto("/")
    follow_menu(page, "权限复核")
    page.get_by_role("button", name="开启本学期复核").click()
    expect(page.locator(".flash.success")).to_contain_text("本学期权限复核已开启")
    expect(page.locator(".review-count")).to_contain_text("尚有 8 项权限待复核")
    page.goto("/")
    item = page.locator("main .workbench-item", has_text="项权限待复核")
    expect(item).to_contain_text("8 项权限待复核（截止 10月14日 周三）")
    item.locator("a").click()

    counsellor = page.locator("section.person", has_text="心理中心专职教师")
    counsellor.get_by_role("button", name="确认", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("已确认")
    leader = page.locator("section.person", has_text="院系分管领导")
    leader.get_by_role("button", name="确认此人全部角色").click()
    expect(page.locator(".flash.success")).to_contain_text("已确认 2 项角色")
    dorm = page.locator("section.person", has_text="宿舍信息员")
    dorm.get_by_role("button", name="立即终止").click()
    expect(page.locator(".flash.success")).to_contain_text("该角色已终止")
    expect(page.locator("section.person", has_text="宿舍信息员")).to_contain_text("终止")
    expect(page.locator(".review-count")).to_contain_text("尚有 4 项权限待复核")
    staffed.shot(page, "7-access-review")

    page.goto("/")
    expect(page.locator("main .workbench-item", has_text="项权限待复核")).to_contain_text(
        "4 项权限待复核（截止 10月14日 周三）"
    )
    staffed.shot(page, "7-access-admin-home")


def test_the_expired_member_signs_in_on_a_phone_to_a_home_page_without_the_role(staffed: World):
    clock.set_now(datetime(2026, 9, 20, 16, 1))  # the first minute after the last day
    page = staffed.page_for("committee", PHONE)
    page.goto("/")
    expect(page.locator("main p.muted").first).to_contain_text("学生")
    expect(page.locator("main")).not_to_contain_text("班级心理委员")
    expect(page.locator("main")).not_to_contain_text("心理周报")
    expect(page.locator("header nav a[href='/students']")).to_have_count(0)
    staffed.shot(page, "7-access-expired-member-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.goto("/students").status == 403
