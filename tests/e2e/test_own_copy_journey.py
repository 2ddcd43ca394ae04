"""A student on a phone, in Chinese, opens 我的数据与同意 from the menu, reads what the copy
holds and what it leaves out, and downloads it as a PDF and as a JSON file."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import Student
from screening.models import CampaignAssignment
from screening.models import Consent
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.conftest import World
from tests.pdf import needs_poppler
from tests.pdf import pdf_text
from warning.models import EarlyWarning
from warning.models import OwnerTier

pytestmark = [
    pytest.mark.e2e,
    needs_poppler,
    pytest.mark.parametrize("world", ["zh_CN"], indirect=True),
]
PHONE_375 = {"width": 375, "height": 812}
CONSENT_TEXT = "本次普查仅用于心理健康服务，你的回答只有心理中心可以查看。"
STAFF_REASON = "黄色：PHQ-9 = 12，需辅导员72小时内联系"


def _answered(live_app: Flask, world: World) -> None:
    """The student consented and answered the mood questionnaire; staff opened a warning."""
    with live_app.app_context():
        student = db.session.scalar(
            select(Student).where(Student.student_number == world.student_number)
        )
        assert student is not None
        assignment = db.session.scalar(
            select(CampaignAssignment).where(
                CampaignAssignment.student_id == student.id,
                CampaignAssignment.campaign_id == world.campaign_id,
            )
        )
        assert assignment is not None
        at = datetime(2026, 9, 13, 12)
        assignment.started_at = at
        db.session.add(
            Consent(
                assignment_id=assignment.id,
                student_id=student.id,
                informed=True,
                sensitive_data=True,
                consent_text=CONSENT_TEXT,
                locale="zh_CN",
                agreed_at=at,
            )
        )
        db.session.add(
            ScreeningResult(
                assignment_id=assignment.id,
                campaign_id=world.campaign_id,
                student_id=student.id,
                institution_id=student.institution_id,
                instrument="phq9",
                instrument_version=load_instrument("phq9").version,
                answers={str(n): 1 if n <= 4 else 0 for n in range(1, 10)},
                total=4,
                band="minimal",
                completed_at=at,
            )
        )
        db.session.add(
            EarlyWarning(
                student_id=student.id,
                institution_id=student.institution_id,
                department_id=student.department_id,
                level=2,
                computed_level=2,
                reason=STAFF_REASON,
                policy_version="test",
                owner_tier=OwnerTier.DEPARTMENT,
                opened_at=at,
            )
        )
        db.session.commit()


def test_a_student_downloads_their_own_copy_on_a_phone(world: World, live_app: Flask):
    _answered(live_app, world)
    page = world.page_for("student", PHONE_375)
    page.goto("/")
    page.locator("nav.main-nav a", has_text="我的数据与同意").click()
    page.wait_for_url("**/privacy/my-data")
    expect(page.locator("main h1")).to_have_text("我的数据与同意")
    expect(page.locator("main")).to_contain_text("可以向心理中心了解")
    overflow = page.locator("main").evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0  # the buttons and the text fit a 375-pixel screen
    world.shot(page, "19-own-copy-phone")

    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.get_by_role("link", name="下载 PDF（便于阅读）").click(timeout=DOWNLOAD_WAIT)
    assert download.value.suggested_filename == f"我的数据 {world.student_number}.pdf"
    body = download.value.path().read_bytes()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "own-copy.zh_CN.pdf").write_bytes(body)
    text = "".join(pdf_text(body).split())
    for words in (world.student_name, "心情问卷", CONSENT_TEXT, "你的回答在常见范围内"):
        assert words in text, words
    assert load_instrument("phq9").item(1).text.zh_CN in text
    assert STAFF_REASON not in text
    assert "无或极轻微抑郁" not in text  # the band staff see

    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.get_by_role("link", name="下载 JSON（供电脑程序读取）").click(timeout=DOWNLOAD_WAIT)
    copy = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert copy["schema"] == "xinqiao.own-copy/1"
    assert copy["profile"]["name"] == world.student_name
    (answered,) = copy["parts"]["questionnaires"]["records"]
    assert answered["answers"][8]["answer"] == "完全不会"
    assert STAFF_REASON not in json.dumps(copy, ensure_ascii=False)
