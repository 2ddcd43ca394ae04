"""A campus's first week in Chinese: the department counsellor appoints a second psychology
committee member for a class from the response network page, and the student, on a phone, is
told in the inbox and finds the class's page in the menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def test_a_department_counsellor_appoints_a_committee_member_who_is_told(world: World):
    counsellor = world.page_for("dept_counsellor")
    counsellor.get_by_role("link", name="响应网络", exact=True).click()
    row = counsellor.locator("main table tbody tr", has_text="CS2601")
    expect(row).to_contain_text("陈静")
    expect(counsellor.locator("#rooms")).to_have_count(0)  # the rooms are the administrator's
    row.get_by_role("link", name="再任命一名").click()
    counsellor.get_by_label("学生", exact=True).select_option(
        label=f"{world.student_number} {world.student_name}"
    )
    counsellor.get_by_role("button", name="任命").click()
    expect(counsellor.locator("main .flash.success")).to_have_text("已任命。")
    expect(counsellor.locator("main ul.holders li")).to_have_count(2)
    world.shot(counsellor, "20-network-appointed")

    student = world.page_for("student", PHONE)
    expect(student.get_by_role("link", name="我的班级")).to_be_visible()
    student.goto("/inbox/")
    expect(student.locator("main")).to_contain_text("你已被任命为本班心理委员")
    assert student.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    world.shot(student, "20-network-appointed-inbox-phone")
