"""A student asks for help on a phone (zh-CN): from her home page to "ask a teacher to contact
me", crisis numbers first; her request reaches her department counsellor as a warning to act on,
and she is told who will call, never a level."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def test_a_student_asks_a_teacher_to_contact_her_and_her_counsellor_is_told(world: World):
    page = world.page_for("student", PHONE)
    page.goto("/")
    page.locator("#help").get_by_role("link", name="请老师联系我").click()
    expect(page).to_have_url(re.compile(r"/help$"))
    main = page.locator("main")
    expect(main.locator("section.crisis a.phone").first).to_be_visible()  # numbers come first

    form = page.locator("#contact-me")
    form.get_by_role("button", name="请老师联系我").click()  # no way chosen: refused, in words
    expect(form.locator(".error")).to_contain_text("请选择希望我们怎样联系你")
    form.get_by_label("打电话").check()
    form.get_by_label("什么时候方便（选填）").fill("工作日下午")
    form.get_by_role("button", name="请老师联系我").click()
    expect(main).to_contain_text("你的辅导员或心理中心的老师会尽快与你联系")
    expect(form).to_contain_text("我们已收到你在")
    expect(main).not_to_contain_text("黄色")
    world.shot(page, "help-request-received-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    counsellor = world.page_for("dept_counsellor")
    counsellor.goto("/warnings/")
    row = counsellor.locator("table.queue tr", has_text=world.student_name)
    expect(row).to_contain_text("学生主动求助：希望的联系方式为电话，方便时间：工作日下午")
    row.get_by_role("link", name=world.student_name).click()
    expect(counsellor.locator("main")).to_contain_text("联系学生")
