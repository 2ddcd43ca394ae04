"""A school counsellor's student file in a real browser: from 我的学生 to the file, the trends and
the warning history, a family call logged from a script, and the file printed as a PDF."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from campus.extensions import db
from campus.models import Institution
from campus.models import Student
from tests import factories
from tests.casework.conftest import campaign
from tests.casework.conftest import screened
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.conftest import World
from tests.pdf import PDFTOTEXT
from tests.pdf import pdf_text

pytestmark = pytest.mark.e2e

WORDS = {
    "zh_CN": {
        "file": "学生档案",
        "log": "记录家校沟通",
        "script": "陪同就医",
        "save": "保存沟通记录",
        "saved": "家校沟通记录已保存。",
        "pdf": "下载PDF",
        "worsening": "可靠恶化",
        "relation": "母亲",
    },
    "en": {
        "file": "Student file",
        "log": "Log a family contact",
        "script": "Hospital accompaniment",
        "save": "Save the contact",
        "saved": "Family contact saved.",
        "pdf": "Download as PDF",
        "worsening": "Reliable worsening",
        "relation": "mother",
    },
}


@pytest.fixture(scope="module")
def history(world: World, live_app: Flask) -> World:
    """Two years of screenings for the journeys' student, the last one a reliable worsening,
    and the yellow warning it raised."""
    with live_app.app_context():
        student = db.session.scalar(
            select(Student).where(Student.student_number == world.student_number)
        )
        institution = db.session.get(Institution, student.institution_id)
        zh = world.locale == "zh_CN"
        for year, (phq9, gad7) in zip((2024, 2025), ((3, 2), (4, 3)), strict=True):
            for month, extra in ((3, 0), (10, 1)):
                name = (
                    f"{year}年{'春季' if month == 3 else '秋季'}普查" if zh else f"{year}-{month}"
                )
                opens = datetime(year, month, 5)
                screened(
                    student, campaign(institution, name, opens), opens, phq9=phq9 + extra, gad7=gad7
                )
        spring = campaign(
            institution, "2026年春季复查" if zh else "2026 spring", datetime(2026, 3, 5)
        )
        screened(student, spring, datetime(2026, 3, 6), phq9=13, gad7=9)
        student.guardian_name = "李母" if zh else "Mrs Li"
        db.session.commit()
        factories.phq9_signal(student, 13)
        db.session.remove()
    return world


def test_a_counsellor_opens_the_file_logs_a_family_call_and_prints_it(history: World):
    words = WORDS[history.locale]
    page = history.page_for("counsellor")
    page.goto("/students")
    page.locator("main table a", has_text=history.student_name).click()
    expect(page.locator("main h1")).to_contain_text(words["file"])
    expect(page.locator("#screening svg").first).to_be_visible()
    expect(page.locator("#screening")).to_contain_text(words["worsening"])
    expect(page.locator("#warnings .level.yellow").first).to_be_visible()
    expect(page.locator("#warnings ol.timeline li").first).to_be_visible()
    history.shot(page, "17-student-file")

    page.locator("#family a", has_text=words["log"]).click()
    page.locator("main .call-scripts a", has_text=words["script"]).click()
    expect(page.locator("#summary")).not_to_be_empty()
    page.select_option("#direction", "we_called")
    page.select_option("#outcome", "reached")
    page.fill("#guardian_relation", words["relation"])
    history.shot(page, "17-family-contact-form")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash").first).to_contain_text(words["saved"])
    row = page.locator("#family table tbody tr").first
    expect(row).to_contain_text(words["relation"])
    history.shot(page, "17-student-file-family-logged")

    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.locator("main a", has_text=words["pdf"]).click(timeout=DOWNLOAD_WAIT)
    body = download.value.path().read_bytes()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"17-student-file.{history.locale}.pdf").write_bytes(body)
    assert body.startswith(b"%PDF-")
    if PDFTOTEXT:
        text = pdf_text(body)
        assert history.student_name in text
        assert words["relation"] in text
