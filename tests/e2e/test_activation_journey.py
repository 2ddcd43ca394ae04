"""Issue #16 section 3 in Chinese: the administrator prints activation slips for a freshman class
(one code per student who has no password yet, shown once, laid out for A4), and a freshman on a
phone signs in with the code from the slip, is made to choose a password and lands on the home
page; the same code then no longer works."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import ClassGroup
from tests.conftest import Campus
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.conftest import follow_menu

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]
A4 = {"width": 794, "height": 1123}  # an A4 page at 96 dpi
FRESHMEN = {"2026801": "赵新生", "2026802": "钱新生"}


def _freshmen(live_app: Flask) -> None:
    """Two students just imported from the roster: accounts without a password."""
    with live_app.app_context():
        group = db.session.scalar(select(ClassGroup).where(ClassGroup.name == "CS2601"))
        campus = Campus()
        for number, name in FRESHMEN.items():
            user = campus.student(group, name=name, number=number).user
            user.password_hash = None
            user.must_change_password = True
            user.locale = None
        db.session.commit()
        db.session.remove()


def test_administrator_prints_slips_and_a_freshman_signs_in_with_a_code(
    world: World, live_app: Flask
):
    _freshmen(live_app)
    admin = world.page_for("admin")
    follow_menu(admin, "账号激活单")
    expect(admin.locator("h1")).to_have_text("账号激活单")
    admin.get_by_label("学生").select_option(label="计算机学院 CS2601（2026级）")
    expect(admin.get_by_label("激活码有效天数")).to_have_value("14")
    world.shot(admin, "16-activation-issue")
    admin.get_by_role("button", name="生成激活码并打印激活单").click()

    slips = admin.locator("article.slip")
    expect(slips).to_have_count(2)  # the class's students with a password are left out
    expect(admin.locator("main")).to_contain_text("激活码仅在本页显示这一次")
    expect(admin.locator("main")).to_contain_text("已有密码、未发放激活码的学生：3 人")
    expect(admin.get_by_role("button", name="打印激活单")).to_be_visible()
    slip = slips.filter(has_text="2026801")
    expect(slip).to_contain_text("赵新生")
    expect(slip).to_contain_text("湘江大学")
    expect(slip).to_contain_text("2026-09-28")
    expect(slip).to_contain_text(f"{world.base_url}/activate")
    code = slip.locator(".code").inner_text().strip()
    admin.set_viewport_size(A4)
    world.shot(admin, "16-activation-slips")
    admin.emulate_media(media="print")
    expect(admin.locator("header.top")).to_be_hidden()
    expect(admin.locator("section.no-print")).to_be_hidden()
    world.shot(admin, "16-activation-slips-print")
    # Ten slips fit on one A4 page: each is at most a fifth of the printable height.
    height = slip.evaluate("e => e.getBoundingClientRect().height")
    assert height <= (1123 - 2 * 38) / 5

    context = world.browser.new_context(
        base_url=world.base_url, viewport=PHONE, locale="zh-CN", is_mobile=True
    )
    world.contexts.append(context)
    phone = context.new_page()
    phone.goto("/login")
    phone.get_by_role("link", name="首次登录（使用激活码）").click()
    phone.fill("#institution", "XJU")
    phone.fill("#login", "2026801")
    phone.fill("#code", code.lower())
    world.shot(phone, "16-first-sign-in-phone")
    phone.get_by_role("button", name="首次登录").click()
    expect(phone.locator("h1")).to_have_text("设置你的密码")
    world.shot(phone, "16-choose-password-phone")
    phone.fill("#new", "xinqiao-2026-mine")
    phone.fill("#confirm", "xinqiao-2026-mine")
    phone.get_by_role("button", name="设置密码").click()
    expect(phone.locator("main")).to_contain_text("密码已设置")
    expect(phone.locator("h1").first).to_have_text("首页")
    world.shot(phone, "16-freshman-home-phone")

    again = world.browser.new_context(base_url=world.base_url, viewport=PHONE, locale="zh-CN")
    world.contexts.append(again)
    retry = again.new_page()
    retry.goto("/activate")
    retry.fill("#institution", "XJU")
    retry.fill("#login", "2026801")
    retry.fill("#code", code)
    retry.get_by_role("button", name="首次登录").click()
    expect(retry.locator("main .flash.error")).to_contain_text("此激活码已使用过")


def test_a_double_click_on_a_lost_slip_still_shows_its_code(world: World, live_app: Flask):
    """Before: the second request of a double click answered "already issued" in place of the
    page with the code, which was then lost; the student's old code was replaced all the same."""
    with live_app.app_context():
        group = db.session.scalar(select(ClassGroup).where(ClassGroup.name == "CS2601"))
        user = Campus().student(group, name="孙新生", number="2026803").user
        user.password_hash = None
        db.session.commit()
        db.session.remove()
    admin = world.page_for("admin")
    admin.goto("/activation")
    lost = admin.locator("#lost-slip")
    lost.get_by_label("学号").fill("2026803")
    # Two submits in a row, as a double tap on a slow connection sends them.
    form = lost.locator("form")
    form.evaluate("f => { f.requestSubmit(); setTimeout(() => f.requestSubmit(), 30); }")
    slip = admin.locator("article.slip")
    expect(slip).to_have_count(1)
    expect(slip).to_contain_text("孙新生")
    world.shot(admin, "16-lost-slip-reissued")
