"""Issue #15: the school counsellor who takes up a fresh red warning refers in one click, the
warning page then shows the referral's state, and the hospital liaison is told it arrived and sees
who referred the student. In Chinese, the language the centre works in."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Student
from campus.models import User
from tests.e2e.conftest import World
from tests.e2e.test_journeys import _act
from tests.e2e.test_journeys import _move
from warning import services

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def _fresh_red_warning(live_app: Flask, name: str) -> tuple[int, int]:
    """A red warning for a student no counsellor has on their caseload: (student id, warning id)."""
    with live_app.app_context():
        student = db.session.scalar(select(Student).where(Student.name == name))
        services.record_signal(
            db.session,
            student=student,
            source="screening",
            observed_at=clock.now(),
            label="PHQ-9 = 22",
            instrument="phq9",
            total=22,
        )
        db.session.commit()
        ids = student.id, services.open_warning(db.session, student.id).id
        db.session.remove()
    return ids


def test_counsellor_takes_up_a_red_warning_refers_in_one_click_and_the_hospital_hears(
    world: World, live_app: Flask
):
    student_id, warning_id = _fresh_red_warning(live_app, "王明")
    counsellor = world.page_for("counsellor")
    counsellor.goto(f"/warnings/students/{student_id}")
    expect(counsellor.locator("main")).to_contain_text("不在您的个案名单中")
    _act(counsellor, "acknowledge")

    counsellor.get_by_role("link", name="转介至合作医院").click()
    expect(counsellor).to_have_url(re.compile(rf"/referrals/new/{warning_id}$"))
    counsellor.select_option("#hospital_id", label=world.hospital)
    counsellor.fill("#reason", "PHQ-9 第 9 题阳性，需尽快精神科评估")
    counsellor.select_option("#urgency", "urgent")
    counsellor.check("#green_channel")
    counsellor.fill("#consent_name", "王明")
    counsellor.fill("#consent_at", "2026-09-14T09:00")
    counsellor.locator("main form [type=submit]").click()
    expect(counsellor).to_have_url(re.compile(r"/referrals/\d+$"))
    referral_id = int(counsellor.url.rsplit("/", 1)[1])
    _move(counsellor, "sent", {"#sent-confirm": "check"})

    counsellor.goto(f"/warnings/students/{student_id}")
    status = counsellor.locator("main .referral-status")
    expect(status).to_contain_text(world.hospital)
    expect(status).to_contain_text("已转介")
    expect(status).to_contain_text("绿色通道")
    expect(counsellor.locator("main a[href*='/referrals/new/']")).to_have_count(0)
    world.shot(counsellor, "5-warning-page-referred")

    liaison = world.page_for("liaison")
    liaison.goto("/inbox/")
    expect(liaison.locator("main")).to_contain_text("紧急：贵院收到一份绿色通道转介")
    liaison.goto(f"/hospital/referrals/{referral_id}")
    with live_app.app_context():
        counsellor_name = db.session.scalar(
            select(User.name).where(User.login == world.logins["counsellor"])
        )
        break_glass = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "break_glass")
        )
        db.session.remove()
    main = liaison.locator("main")
    expect(main).to_contain_text("转介教师")
    expect(main).to_contain_text(counsellor_name)
    expect(main).to_contain_text("0731-8888-0000")
    world.shot(liaison, "5-liaison-referral")
    assert break_glass == 0
