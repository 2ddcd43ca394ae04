"""A student with an open red warning withdraws consent to screening on a phone, in zh-CN: the
page says a safety follow-up goes on, in words that do not tell her she is on a red; a
counsellor then sees "已撤回同意" where the results were, and a new campaign does not assign the
student."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import Institution
from campus.models import Student
from campus.models import User
from screening import campaigns
from screening.models import CampaignAssignment
from tests.e2e.conftest import START
from tests.e2e.conftest import World
from tests.factories import open_warning
from warning.policy import Level

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def at_risk(world: World, live_app: Flask) -> World:
    """The student has an open red warning (a safety answer two days ago)."""
    with live_app.app_context():
        student = _student(world)
        warning = open_warning(student, Level.RED, START - timedelta(days=2))
        world.warning_id = warning.id
        db.session.remove()
    return world


def _student(world: World) -> Student:
    user = db.session.scalar(select(User).where(User.login == world.logins["student"]))
    student = db.session.scalar(select(Student).where(Student.user_id == user.id))
    assert student is not None
    return student


def test_student_reads_that_the_red_warning_stays_and_withdraws(at_risk: World):
    page = at_risk.page_for("student", PHONE)
    page.goto("/")
    page.locator("nav a", has_text="我的数据与同意").first.click()
    expect(page.locator("main h1")).to_have_text("我的数据与同意")
    screening = page.locator("#scope-screening")
    expect(screening).to_contain_text("生效中")
    screening.get_by_role("link", name="撤回这项同意").click()

    safety = page.locator("main section.safety-duty")
    expect(safety).to_contain_text("撤回同意不会停止安全方面的跟进")
    expect(page.locator("main")).not_to_contain_text("红色")  # she never learns her level
    expect(page.locator("main")).to_contain_text("你不会再收到新的心理健康筛查")
    expect(page.locator("main")).to_contain_text("2026级新生心理普查")  # stopped by name
    expect(page.locator("main")).to_contain_text("第十五条")
    expect(page.locator("main")).not_to_contain_text("您")
    at_risk.shot(page, "19-withdraw-consent-explained-phone")

    page.get_by_role("button", name="撤回我的同意").click()  # not ticked: refused, kept
    expect(page.locator("main .error")).to_contain_text("请勾选确认框")
    page.check("#confirm")
    page.get_by_role("button", name="撤回我的同意").click()
    expect(page).to_have_url(re.compile(r"/privacy/my-data/withdrawn/\d+$"))
    expect(page.locator("main h1")).to_have_text("已撤回同意")
    expect(page.locator("main")).to_contain_text("撤回同意不会停止安全方面的跟进")
    at_risk.shot(page, "19-consent-withdrawn-phone")

    page.goto("/screening/mine")
    expect(page.locator("main")).to_contain_text("你已撤回筛查同意")


def test_counsellor_sees_consent_withdrawn_where_results_were(at_risk: World, live_app: Flask):
    with live_app.app_context():
        student_id = _student(at_risk).id
        db.session.remove()
    page = at_risk.page_for("counsellor")
    page.goto(f"/casework/students/{student_id}")
    results = page.locator("#screening")
    expect(results).to_contain_text("已撤回同意")
    expect(results).not_to_contain_text("每一题的作答")
    expect(page.locator("#consent")).to_contain_text("参加心理筛查")
    expect(page.locator("#warnings")).to_contain_text("红")  # the warning stays with its owner
    at_risk.shot(page, "19-file-consent-withdrawn")


def test_a_new_campaign_does_not_assign_the_student(at_risk: World, live_app: Flask):
    with live_app.app_context():
        inst = db.session.scalar(select(Institution).where(Institution.code == "XJU"))
        admin = db.session.scalar(select(User).where(User.login == at_risk.logins["admin"]))
        campaign = campaigns.save_campaign(
            db.session,
            inst,
            admin,
            campaigns.CampaignSpec(
                name="2026秋季复查",
                instruments=["phq9"],
                opens_at=START - timedelta(hours=1),
                closes_at=START + timedelta(days=7),
                grades=[2026],
            ),
        )
        assigned = set(
            db.session.scalars(
                select(CampaignAssignment.student_id).where(
                    CampaignAssignment.campaign_id == campaign.id
                )
            )
        )
        student_id = _student(at_risk).id
        db.session.remove()
    assert assigned  # the classmates are assigned
    assert student_id not in assigned
    page = at_risk.page_for("student", PHONE)
    page.goto("/screening/mine")
    expect(page.locator("main")).not_to_contain_text("2026秋季复查")
