"""Issue #17 section 2: after a campaign with results, the director opens the interview list and
assigns a student to a school counsellor; the counsellor invites the student (who reads the
invitation on a phone), records a follow-up that lowers yellow to blue with a reason, and the
campaign page shows the coverage. In Chinese, the language the centre works in."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Student
from screening.models import Campaign
from tests.casework import interview_world as w
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from warning import services

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def _results(live_app: Flask, world: World) -> None:
    """Two freshmen submit a PHQ-9 in the yellow band: both are on the interview list."""
    with live_app.app_context():
        campaign = db.session.get_one(Campaign, world.campaign_id)
        for name, total in ((world.student_name, 12), ("王明", 14)):
            student = db.session.scalars(select(Student).where(Student.name == name)).one()
            w.submit(campaign, student, "phq9", w.phq9_total(total))
        db.session.remove()


def _level(live_app: Flask, name: str) -> int:
    with live_app.app_context():
        student = db.session.scalars(select(Student).where(Student.name == name)).one()
        level = services.open_warning(db.session, student.id).level
        db.session.remove()
    return level


def test_a_counsellor_runs_the_interview_list_after_a_campaign(world: World, live_app: Flask):
    _results(live_app, world)

    director = world.page_for("director")
    director.goto("/")
    director.get_by_role("link", name="约谈").first.click()
    expect(director.locator("main h1")).to_have_text("筛查后约谈")
    rows = director.locator("table.interview-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("PHQ-9 黄色")
    # The tier is one line at a laptop's width, not 院/系 a character a line.
    one_line = (
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return r.getClientRects().length; }"
    )
    assert rows.first.locator("td.tier").evaluate(one_line) == 1
    director.check(f"input[aria-label='{world.student_name}']")
    director.select_option("#interviewer", index=1)  # the school counsellor comes first
    world.shot(director, "17-interview-list-director")
    director.get_by_role("button", name="分配").click()
    expect(director.locator(".flash").first).to_contain_text("已分配 1 名学生")

    counsellor = world.page_for("counsellor")
    counsellor.goto("/interviews?mine=1")
    counsellor.get_by_role("link", name=world.student_name).click()
    counsellor.fill("#when", "2026-09-15T10:00")
    counsellor.fill("#place", "心理中心 203 谈话室")
    counsellor.get_by_role("button", name="发送邀请").click()
    expect(counsellor.locator(".flash").first).to_contain_text("邀请已发送给学生")
    world.shot(counsellor, "17-interview-entry-invited")

    student = world.page_for("student", PHONE)
    student.goto("/")
    student.get_by_role("link", name="心理中心邀请你参加一次谈话").first.click()
    main = student.locator("main")
    expect(main).to_contain_text("心理中心 203 谈话室")
    expect(main).to_contain_text("明天 10:00")  # 2026-09-15 10:00, the day after the journey's
    expect(main).not_to_contain_text("黄")
    expect(main).not_to_contain_text("PHQ")
    world.shot(student, "17-interview-invitation-phone")

    # The next morning, the conversation held at 10:00: its outcome can be recorded now.
    clock.set_now(datetime(2026, 9, 15, 2, 50))
    entry_page = counsellor.url
    counsellor = world.page_for("counsellor")  # a new day, a new sign-in: the old one timed out
    counsellor.goto(entry_page)
    counsellor.check("#attendance-0")
    counsellor.check("input[name=conclusion][value=follow_up]")
    counsellor.check("input[name=level_decision][value=lower]")
    counsellor.select_option("#level", "1")
    counsellor.fill("#reason", "考试后情绪低落，现睡眠恢复，室友支持良好，转为一般关注。")
    counsellor.check("input[name=next_step][value=follow_up]")
    counsellor.fill("#follow_up_on", "2026-09-28")
    world.shot(counsellor, "17-interview-outcome-form")
    counsellor.get_by_role("button", name="记录结果").click()
    expect(counsellor.locator(".flash").first).to_contain_text("结果已记录")
    expect(counsellor.locator("main")).to_contain_text("已下调")
    world.shot(counsellor, "17-interview-outcome")
    assert _level(live_app, world.student_name) == 1

    counsellor.goto(f"/screening/campaigns/{world.campaign_id}")
    coverage = counsellor.locator("table.interview-coverage tfoot")
    expect(coverage).to_contain_text("2")
    expect(counsellor.locator("main")).to_contain_text("已约谈 1 人（50.0%）")
    world.shot(counsellor, "17-interview-coverage")
