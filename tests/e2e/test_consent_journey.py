"""A freshman on a phone reads the consent's essentials, opens who sees what in full before
agreeing, then meets the first questionnaire under a neutral title, in zh-CN."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("world", ["zh_CN"], indirect=True)
def test_freshman_reads_who_sees_what_then_a_neutral_first_questionnaire(world: World):
    page = world.page_for("student", PHONE)
    page.goto("/screening/mine")
    # Closes at 02:00 UTC on Monday 28 September, read in words.
    expect(page.locator("main")).to_contain_text("9月28日 周一 10:00")
    page.locator("main a[href*='/screening/a/']").click()

    # The essentials first, in a few lines: who sees her results, the administrator as what it is.
    in_short = page.locator("main section[aria-labelledby=in-short-h]")
    expect(in_short).to_be_in_viewport()
    expect(in_short).to_contain_text("你的作答和得分：在学校里，只有心理中心主任")
    expect(in_short).to_contain_text(
        "系统管理员：能看到你是否被列入预警、预警等级及原因，但不经手处理"
    )
    expect(in_short).to_contain_text("看不到你的作答和得分")
    world.shot(page, "5-consent-in-short-phone")
    # The full information, folded under them, opens with a tap.
    page.locator("main details.consent-full > summary").click()
    who_sees = page.locator("main section[aria-labelledby=who-sees-h]")
    expect(who_sees).to_be_visible()
    expect(who_sees.locator("h2")).to_have_text("谁能看到哪些信息")
    expect(who_sees).to_contain_text("院系辅导员、院系分管领导")
    expect(who_sees).to_contain_text("关于自伤或自杀想法的题目的作答需要关注")
    expect(who_sees).to_contain_text("宿舍信息员")
    expect(who_sees).to_contain_text("看不到：你的作答和得分")
    expect(page.locator("main")).not_to_contain_text("您")
    expect(page.locator("main")).not_to_contain_text("仅心理中心的专业人员可以查看")
    world.shot(page, "5-consent-who-sees-what-phone")

    page.check("#informed")
    page.check("#sensitive_data")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/i/phq9$"))
    expect(page.locator("main h1")).to_have_text("心情问卷")
    expect(page).to_have_title(re.compile("心情问卷"))
    expect(page.locator("main")).not_to_contain_text("患者健康问卷")
    expect(page.locator("main")).not_to_contain_text("PHQ-9")
    expect(page.locator("main")).not_to_contain_text("您")
    world.shot(page, "5-first-questionnaire-phone")
