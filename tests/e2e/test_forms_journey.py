"""Issue #15, items 14 and 15, on a phone in Chinese: a class psychology committee member files a
concern report, finding the classmate by typing (nobody is chosen for them in advance), and an
administrator sets up a screening campaign with tick-boxes instead of codes and Ctrl-click lists."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from screening.models import Campaign
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
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
    expect(page.locator("main .flash.success")).to_be_visible()
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
    page.fill("#opens_at", "2026-09-20T08:00")
    page.fill("#closes_at", "2026-10-20T08:00")
    world.shot(page, "7-campaign-form-phone")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .flash.success")).to_be_visible()
    with live_app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == "2026级春季复查"))
        assert campaign.instruments == ["gad7", "phq9"]
        assert campaign.grades == [2026]
        db.session.remove()
