"""Issue #15 findings 18 and 19 and the referring counsellor's phone, in Chinese: a class
committee member on a phone hears that the concern was received and then followed up (and
nothing else); the administrator keeps the staffing register the 1 : 4000 figure is counted
from; the hospital sees the referring counsellor's own phone."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import Hospital
from campus.models import Student
from campus.models import User
from tests import factories
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.test_journeys import _act
from warning import services

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]

COUNSELLOR_PHONE = "0731-8888-0101"


def _student_id(live_app: Flask, name: str) -> int:
    with live_app.app_context():
        student_id = db.session.scalar(select(Student.id).where(Student.name == name))
        db.session.remove()
    return student_id


def test_a_committee_member_hears_the_concern_was_received_then_followed_up(
    world: World, live_app: Flask
):
    committee = world.page_for("committee", PHONE)
    committee.goto("/warnings/my-class")
    committee.locator("ul#student_id").get_by_label("王明", exact=False).check()
    committee.select_option("#category", "low_mood")
    committee.fill("#text", "这周几乎没去上课，室友说他晚上睡不着")
    committee.locator("form[action$='/concern'] [type=submit]").click()
    filed = committee.locator("main ul.reports li").first
    expect(filed).to_contain_text("王明")
    expect(filed).to_contain_text("已收到，待老师跟进")
    world.shot(committee, "10-concern-received-phone")

    counsellor = world.page_for("dept_counsellor")
    counsellor.goto(f"/warnings/students/{_student_id(live_app, '王明')}")
    _act(
        counsellor,
        "contact",
        {
            "#contact-method": "in_person",
            "input[value=reached]": "check",
            "#contact-note": "面谈，睡眠差，约下周复查",
        },
    )

    committee.goto("/inbox/")
    inbox = committee.locator("main")
    expect(inbox).to_contain_text("你反映的情况已收到，谢谢你的关心。")
    expect(inbox).to_contain_text("你反映的情况已由老师跟进。")
    world.shot(committee, "10-concern-followed-up-inbox-phone")
    committee.goto("/warnings/my-class")
    expect(committee.locator("main ul.reports li").first).to_contain_text("已由老师跟进")
    for page in (committee,):
        main = page.locator("main")
        for secret in ("面谈", "睡眠差", "复查", "黄", "蓝", "红", "预警等级"):
            expect(main).not_to_contain_text(secret)
    world.shot(committee, "10-concern-followed-up-phone")


def test_admin_keeps_the_staffing_register_and_the_ratio_counts_full_time_teachers(world: World):
    admin = world.page_for("admin")
    admin.goto("/admin/staffing/")
    for name, post in (("刘老师", "full_time"), ("吴老师", "part_time")):
        admin.fill("#person_name", name)
        admin.select_option("#post", post)
        admin.fill("#starts_on", "2024-09-01")
        admin.locator("main section.card form [type=submit]").click()
        expect(admin.locator(".flash.success")).to_have_text("已加入心理健康教育教师名册。")
    rows = admin.locator("main table tbody tr")
    expect(rows.filter(has_text="刘老师")).to_contain_text("专职心理健康教育教师")
    expect(rows.filter(has_text="吴老师")).to_contain_text("兼职心理健康教育教师")
    world.shot(admin, "11-staffing-register")

    admin.goto("/oversight/?open=staffing")
    staffing = admin.locator("#kpi-staffing")
    expect(staffing).to_contain_text("专职心理健康教育教师配备")
    expect(staffing).to_contain_text("高校按师生比例不低于1:4000配备专职心理健康教育教师")
    cells = staffing.locator("tbody tr").first.locator("td")
    headers = staffing.locator("thead th").all_inner_texts()
    expect(cells.nth(headers.index("专职教师数"))).to_have_text("1")
    staffing.scroll_into_view_if_needed()
    world.shot(admin, "11-staffing-kpi")


def test_the_hospital_sees_the_referring_counsellors_own_phone(world: World, live_app: Flask):
    counsellor = world.page_for("counsellor")
    counsellor.goto("/account")
    counsellor.fill("#phone", COUNSELLOR_PHONE)
    counsellor.locator("main form [type=submit]").click()
    expect(counsellor.locator(".flash.success")).to_have_text("您的工作电话已保存。")
    world.shot(counsellor, "12-account-phone")

    with live_app.app_context():
        student = db.session.scalar(select(Student).where(Student.name == "王明"))
        warning = services.open_warning(db.session, student.id)
        me = db.session.scalar(select(User).where(User.login == world.logins["counsellor"]))
        hospital = db.session.scalar(select(Hospital).where(Hospital.name == world.hospital))
        referral_id = factories.referral_in("sent", warning, me, hospital).id
        db.session.remove()

    liaison = world.page_for("liaison")
    liaison.goto(f"/hospital/referrals/{referral_id}")
    contact = liaison.locator("main dd").filter(has=liaison.locator("a[href^='tel:']"))
    expect(contact).to_contain_text(re.compile(rf"{COUNSELLOR_PHONE}.*0731-8888-0000"))
    world.shot(liaison, "12-liaison-sees-counsellor-phone")
