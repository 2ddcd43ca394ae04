"""Printed documents in a real browser, in Chinese: a school counsellor downloads a referral form
from the referral's page, and the director downloads a department's batch screening report from
the campaign's interview list. Page 1 of each PDF is rendered to PNG beside the screenshots."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import delete
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Hospital
from campus.models import Student
from campus.models import User
from referrals.models import Referral
from referrals.models import ReferralStatus
from tests import factories
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.conftest import World
from tests.pdf import PDFTOTEXT
from tests.pdf import pdf_text

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]


def _download(page: Page, link: str, name: str) -> str:
    """Click `link`, keep the PDF and its first page as PNG; the PDF's text ('' without
    poppler)."""
    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.locator(link).first.click(timeout=DOWNLOAD_WAIT)
    body = download.value.path().read_bytes()
    assert body.startswith(b"%PDF-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOTS / f"{name}.zh_CN.pdf"
    pdf.write_bytes(body)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        subprocess.run(  # noqa: S603 - our own PDF into poppler
            [pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(pdf)[:-4]],
            check=True,
        )
    return pdf_text(body) if PDFTOTEXT else ""


@pytest.fixture
def sent_referral(world: World, live_app: Flask) -> Iterator[int]:
    """A green-channel referral of the journeys' student, sent this morning; removed afterwards
    so the later journeys' referral counts are as they expect."""
    with live_app.app_context():
        student = db.session.scalar(
            select(Student).where(Student.student_number == world.student_number)
        )
        counsellor = db.session.scalar(select(User).where(User.login == world.logins["counsellor"]))
        hospital = db.session.scalar(select(Hospital).where(Hospital.name == world.hospital))
        student.guardian_phone = "13900001111"
        referral = factories.referral_row(
            student,
            hospital,
            counsellor,
            clock.now() - timedelta(hours=1),
            ReferralStatus.SENT,
            reason="持续情绪低落，需专科评估",
            screening_summary="PHQ-9 得分 17",
            disclosed_fields="name;gender;birth_date;referral_reason",
            green_channel=True,
            booking_due_at=clock.now() + timedelta(hours=23),
        )
        db.session.commit()
        referral_id = referral.id
        db.session.remove()
    yield referral_id
    with live_app.app_context():
        db.session.execute(delete(Referral).where(Referral.id == referral_id))
        db.session.commit()
        db.session.remove()


def test_a_counsellor_downloads_the_referral_form_from_the_referrals_page(
    world: World, sent_referral: int
):
    page = world.page_for("counsellor")
    page.goto(f"/referrals/{sent_referral}")
    link = page.locator("main a.referral-form-pdf")
    expect(link).to_have_text("下载转介单（PDF）")
    world.shot(page, "20-referral-page-form-link")
    text = _download(page, "main a.referral-form-pdf", "20-referral-form")
    if text:
        for words in ("转介单", world.hospital, world.student_name, "绿色通道", "转出单位"):
            assert words in text, words
        assert "13900001111" not in text
        assert "PHQ-9" not in text


def test_the_director_downloads_a_departments_batch_report(world: World):
    page = world.page_for("director")
    page.goto(f"/interviews?campaign={world.campaign_id}")
    links = page.locator("main .batch-report-links a")
    expect(links.first).to_contain_text("全部院系")
    expect(links.nth(1)).to_contain_text("计算机学院")
    world.shot(page, "20-interview-list-batch-report-links")
    text = _download(page, "main .batch-report-links a >> nth=1", "20-batch-report")
    if text:
        for words in ("批量筛查报告", "2026级新生心理普查", "计算机学院", "应约谈学生"):
            assert words in text, words
