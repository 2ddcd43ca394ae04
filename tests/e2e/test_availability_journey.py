"""Issue #18, the counsellors' time and the duty roster: a school counsellor adds a weekly time and
sees next week's sessions open for booking; the director puts the counsellor on duty and the
crisis follow-up page names them, with the duty phone. In Chinese, on a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.conftest import STAFF_NAMES
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def _submit(page: Page, form) -> None:
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    expect(page.locator("main .flash.error, main p.error")).to_have_count(0)
    expect(page.locator("main .flash.success")).to_be_visible()


def test_a_counsellor_opens_weekly_time_and_the_director_puts_them_on_duty(world: World):
    counsellor = world.page_for("counsellor")
    counsellor.goto("/")
    counsellor.get_by_role("link", name="我的咨询时间").first.click()
    expect(counsellor.locator("h1")).to_have_text("我的咨询时间")
    expect(counsellor.locator("main")).to_contain_text("还没有每周时段")

    weekly = counsellor.locator("form", has=counsellor.locator("#weekly-weekday"))
    weekly.locator("#weekly-weekday").select_option(label="星期二")
    weekly.locator("#weekly-starts").fill("14:00")
    weekly.locator("#weekly-ends").fill("17:00")
    weekly.locator("#weekly-room").fill("心理中心 302")
    weekly.locator("#weekly-kind").select_option(label="初次咨询")
    _submit(counsellor, weekly)

    # This Tuesday, next Tuesday and the one after: three sessions each.
    expect(counsellor.locator("main .flash.success")).to_contain_text("9 个咨询时段开放预约")
    coming = counsellor.locator("#coming")
    expect(coming).to_contain_text("9月22日 周二")
    expect(coming).to_contain_text("14:00–14:50")
    expect(coming.locator("li.slot", has_text="可预约")).to_have_count(6)
    world.shot(counsellor, "18-my-availability")

    director = world.page_for("director")
    director.goto("/appointments/availability/counsellors")
    expect(director.locator("main table")).to_contain_text("星期二 14:00–17:00 初次咨询")
    world.shot(director, "18-counsellors-availability")

    director.goto("/appointments/duty/")
    expect(director.locator("#now")).to_contain_text("现在无人值班")
    plan = director.locator("form", has=director.locator("#user_id"))
    name = STAFF_NAMES["counsellor"][0]  # the journey runs in zh-CN
    plan.locator("#user_id").select_option(label=name)
    plan.locator("#starts").fill("2026-09-14T08:00")
    plan.locator("#ends").fill("2026-09-14T20:00")
    plan.locator("#phone").fill("0731-8888-0101")
    plan.locator("#note").fill("心理中心 301 值班室")
    _submit(director, plan)
    expect(director.locator("#now")).to_contain_text(name)
    world.shot(director, "18-duty-roster")

    director.goto("/crisis/follow-ups")
    on_duty = director.locator("aside.on-duty")
    expect(on_duty).to_contain_text("当前值班")
    expect(on_duty).to_contain_text(name)
    expect(on_duty).to_contain_text("0731-8888-0101")
    world.shot(director, "18-crisis-page-on-duty")
