"""Issue #15, items 14 and 15, on a phone in Chinese: a class psychology committee member files a
concern report, finding the classmate by typing (nobody is chosen for them in advance), and an
administrator sets up a screening campaign with tick-boxes instead of codes and Ctrl-click lists."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Student
from screening.models import Campaign
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.test_journeys import _act
from warning import services
from warning.models import ConcernReport

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def test_class_committee_member_files_a_concern_report_on_a_phone(world: World, live_app: Flask):
    page = world.page_for("committee", PHONE)
    page.goto("/warnings/my-class")
    form = page.locator("form[action$='/concern']")
    expect(form.locator("input[name=student_id]:checked")).to_have_count(0)
    world.shot(page, "7-concern-report-phone")

    form.locator("select#category").select_option("isolation")
    form.locator("#text").fill("这周几乎没来上课，室友说他一直待在宿舍不出门。")
    form.locator("button[type=submit]").click()
    refused = page.locator("form[action$='/concern']")
    expect(refused.locator("#student_id-err")).to_contain_text("请选择你担心的同学")
    expect(refused.locator("#text")).to_have_value("这周几乎没来上课，室友说他一直待在宿舍不出门。")
    world.shot(page, "7-concern-report-no-student-phone")

    refused.locator("input.picker-filter").fill("王")
    picker = refused.locator("ul#student_id")
    expect(picker.locator("li:visible")).to_have_count(1)
    world.shot(page, "7-concern-report-search-phone")
    picker.get_by_label("王明", exact=False).check()
    refused.locator("button[type=submit]").click()
    expect(page.locator("main .flash.success", has_text="谢谢，你的报告已收到")).to_be_visible()
    # The concern is the week's report: "all is well" is no longer offered beside it.
    expect(page.locator("main .flash.success", has_text="本周报告已提交")).to_be_visible()
    expect(page.get_by_role("button", name="本周一切正常")).to_have_count(0)
    with live_app.app_context():
        report = db.session.scalar(select(ConcernReport))
        assert report.student.name == "王明"
        db.session.remove()


def test_administrator_sets_up_a_campaign_with_tick_boxes_on_a_phone(world: World, live_app: Flask):
    page = world.page_for("admin", PHONE)
    page.goto("/screening/campaigns/new")
    expect(page.locator("label[for=name]")).to_have_text("活动名称")
    expect(page.locator("select[multiple]")).to_have_count(0)
    page.fill("#name", "2026级春季复查")
    page.get_by_label("患者健康问卷抑郁量表（PHQ-9）").check()
    page.get_by_label("广泛性焦虑量表", exact=False).check()
    page.locator("ul#grades").get_by_label("2026").check()
    # Next spring: the freshman intake (open now, the same scales) does not overlap it.
    page.fill("#opens_at", "2027-03-01T08:00")
    page.fill("#closes_at", "2027-03-31T08:00")
    world.shot(page, "7-campaign-form-phone")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .flash.success")).to_be_visible()
    with live_app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == "2026级春季复查"))
        assert campaign.instruments == ["gad7", "phq9"]
        assert campaign.grades == [2026]
        db.session.remove()


def test_back_after_sending_a_concern_report_shows_a_blank_form(world: World, live_app: Flask):
    """Back after a saved report used to bring the typed text back under a fresh send-once
    token, so a second tap on Send filed the same concern twice."""
    page = world.page_for("committee", PHONE)
    page.goto("/warnings/my-class")
    form = page.locator("form[action$='/concern']")
    form.locator("input.picker-filter").fill("王")
    form.locator("ul#student_id").get_by_label("王明", exact=False).check()
    form.locator("select#category").select_option("isolation")
    form.locator("#text").fill("这周几乎没来上课。")
    form.locator("button[type=submit]").click()
    expect(page.locator("main .flash.success", has_text="谢谢，你的报告已收到")).to_be_visible()

    page.go_back()
    again = page.locator("form[action$='/concern']")
    expect(again.locator("#text")).to_have_value("")
    expect(again.locator("input[name=student_id]:checked")).to_have_count(0)
    expect(again.locator("select#category")).to_have_value("")


def test_back_after_logging_a_contact_shows_a_blank_contact_form(world: World, live_app: Flask):
    """The same for an action on a warning: its version is read afresh with the page, so only a
    blank form keeps a second contact from being logged by the restored text."""
    with live_app.app_context():
        student = db.session.scalar(select(Student).where(Student.name == "王明"))
        services.record_signal(
            db.session,
            student=student,
            source="screening",
            observed_at=clock.now(),
            label="PHQ-9 = 12",
            instrument="phq9",
            total=12,
        )
        db.session.commit()
        student_id = student.id
        db.session.remove()
    page = world.page_for("dept_counsellor")
    page.goto(f"/warnings/students/{student_id}")
    _act(
        page,
        "contact",
        {
            "#contact-method": "phone",
            "input[value=reached]": "check",
            "#contact-note": "已电话联系",
        },
    )

    page.go_back()
    form = page.locator("form[action*='/actions/contact']")
    expect(form.locator("#contact-note")).to_have_value("")
    expect(form.locator("#contact-method")).to_have_value("")
    expect(form.locator("input[value=reached]")).not_to_be_checked()


def test_back_after_a_refused_then_accepted_report_opens_the_page(world: World, live_app: Flask):
    """A walk found Back after fixing a refused form landed on Chromium's 确认重新提交表单 page
    (ERR_CACHE_MISS): the refused answer stood in the history as a POST to the action's address."""
    # The dorm's week: the class's was filed by the concern reports above (one world a module).
    page = world.page_for("dorm", PHONE)
    page.goto("/warnings/my-dorm")
    unit_page = page.url
    weekly = page.locator("form[action$='/weekly-report']")
    weekly.locator("textarea[name=note]").fill("这周大家都挺好")
    weekly.get_by_role("button", name="本周一切正常").click()
    refused = page.locator("form[action$='/weekly-report']")
    expect(refused.locator("#note-err")).to_contain_text("你已经写了内容")
    expect(page).to_have_url(unit_page)  # the refused answer stands for the page itself
    refused.locator("textarea[name=note]").fill("")
    refused.get_by_role("button", name="本周一切正常").click()
    expect(page.locator("main .flash.success", has_text="谢谢，本周报告已提交")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(unit_page)
    expect(page.locator("main h1")).to_be_visible()
