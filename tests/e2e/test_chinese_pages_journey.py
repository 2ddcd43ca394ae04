"""Issue #15 items 8 and 9 in a real browser, in Chinese: the student's screening button says to
start answering (not "home"), a hospital entered with an English name is shown by its Chinese one,
and the counsellor reads a warning's evidence and policy in words rather than codes."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Student
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from warning import labels
from warning import services

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def test_students_only_button_starts_the_screening(world: World):
    student = world.page_for("student", viewport=PHONE)
    student.goto("/screening/mine")
    start = student.locator("main a", has_text="开始作答")
    expect(start).to_be_visible()
    expect(student.locator("main")).not_to_contain_text("首页")
    world.shot(student, "texts-student-start")
    start.click()
    expect(student.locator("main h1")).to_contain_text("2026级新生心理普查")


def test_hospital_entered_in_two_languages_is_shown_by_its_chinese_name(world: World):
    admin = world.page_for("admin")
    admin.goto("/admin/hospitals")
    admin.fill("#name", "长沙市第一医院")
    admin.fill("#name_en", "Changsha First Hospital")
    admin.locator("main form [type=submit]").click()
    table = admin.locator("main table")
    expect(table).to_contain_text("长沙市第一医院")
    expect(table).not_to_contain_text("Changsha First Hospital")
    world.shot(admin, "texts-hospitals")


def test_counsellor_reads_evidence_and_policy_in_words(world: World, live_app: Flask):
    with live_app.app_context():
        student = db.session.scalar(select(Student).where(Student.name == world.student_name))
        services.record_signal(
            db.session,
            student=student,
            source="screening",
            observed_at=clock.now(),
            label=labels.screening(
                "PHQ-9",
                safety=True,
                band=None,
                campaign={"name": "2026级新生心理普查", "name_en": "2026 freshman intake"},
                observed_at=clock.now(),
            ),
            instrument="phq9",
            total=12,
            flags=["phq9_item9", "safety"],
        )
        db.session.commit()
        student_id = student.id
        db.session.remove()
    counsellor = world.page_for("counsellor")
    counsellor.goto(f"/warnings/students/{student_id}")
    main = counsellor.locator("main")
    expect(main).to_contain_text("预警分级策略（2026 年第 1 版）")
    expect(main).to_contain_text("PHQ-9 第 9 题（有死亡或自伤念头）")
    expect(main).to_contain_text("PHQ-9 安全条目阳性（2026级新生心理普查，")
    for code in ("default-2026.1", "phq9_item9", "(phq9"):
        expect(main).not_to_contain_text(code)
    world.shot(counsellor, "texts-warning-evidence")
