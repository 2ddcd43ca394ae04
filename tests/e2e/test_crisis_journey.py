"""Issue #17 §3: a school counsellor records a crisis on a red warning, appends to the record,
prints the guardian notice, records it signed with its scan and lists two roommates for
follow-up; the dorm informant on a phone sees only a neutral check-in and completes it; the
counsellor clears them from the follow-up list. In Chinese, on a desktop and a phone."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import DormRoom
from campus.models import Student
from tests.conftest import Campus
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.pdf import needs_poppler
from tests.pdf import pdf_text
from warning import services

pytestmark = [
    pytest.mark.e2e,
    needs_poppler,
    pytest.mark.parametrize("world", ["zh_CN"], indirect=True),
]


def _red_warning_with_two_roommates(live_app: Flask, world: World) -> int:
    """The journeys' student raised to red, with a second roommate moved in: the student id."""
    with live_app.app_context():
        student = db.session.scalar(select(Student).where(Student.name == world.student_name))
        room = db.session.get(DormRoom, student.room_id)
        Campus().student(student.class_group, room, name="张伟", number="2026031")
        services.record_signal(
            db.session,
            student=student,
            source="screening",
            observed_at=clock.now(),
            label="PHQ-9 = 23",
            instrument="phq9",
            total=23,
        )
        db.session.commit()
        student_id = student.id
        db.session.remove()
    return student_id


def _submit(page: Page, form) -> None:
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    expect(page.locator("main .flash.error, main p.error")).to_have_count(0)
    expect(page.locator("main .flash.success")).to_be_visible()


def test_a_crisis_is_recorded_documented_and_its_roommates_followed_up(
    world: World, live_app: Flask, tmp_path
):
    student_id = _red_warning_with_two_roommates(live_app, world)
    counsellor = world.page_for("counsellor")
    counsellor.goto(f"/warnings/students/{student_id}")
    counsellor.get_by_role("link", name="危机事件记录、移交文书及受影响学生").click()
    expect(counsellor.locator("h1")).to_contain_text("危机事件记录")

    first = counsellor.locator("main form.crisis-entry")
    first.locator("#occurred_at").fill("2026-09-14T08:30")
    first.locator("#place").fill("3栋305宿舍阳台")
    first.locator("#narrative").fill(
        "室友发现该生情绪激动、言语中有轻生念头，立即报告辅导员；心理中心值班老师到场陪伴。"
    )
    first.locator("#present").fill("室友王明、宿舍管理员、辅导员")
    first.get_by_label("工作人员全程陪同").check()
    first.get_by_label("陪同就医").check()
    # The call to the family is logged with the entry, once: the family contact and the
    # warning's guardian step come from it.
    first.get_by_label("已联系上").check()
    first.locator("#family_name").fill("李建国")
    first.locator("#family_relation").fill("父亲")
    first.locator("#hospital").fill("湖南省脑科医院")
    world.shot(counsellor, "17-crisis-first-entry")
    _submit(counsellor, first)
    expect(counsellor).to_have_url(re.compile(r"/crisis/\d+"))

    counsellor.locator("#add-entry summary").click()
    more = counsellor.locator("#add-entry form")
    more.locator("#occurred_at").fill("2026-09-14T09:40")
    more.locator("#place").fill("湖南省脑科医院急诊")
    more.locator("#narrative").fill("急诊医生完成评估，建议门诊治疗；监护人到院。")
    more.get_by_label("监护人已到场").check()
    more.get_by_label("已移交家属").check()
    more.locator("#handed_over_at").fill("2026-09-14T09:50")
    more.locator("#handed_over_to").fill("李建国（父亲）")
    _submit(counsellor, more)
    entries = counsellor.locator("main .crisis-entries > li")
    expect(entries).to_have_count(2)
    expect(entries.nth(1)).to_contain_text("李建国（父亲）")

    generate = counsellor.locator("main form[action$='/documents']")
    generate.locator("#kind").select_option(label="家长知情告知书")
    _submit(counsellor, generate)
    with counsellor.expect_download(timeout=DOWNLOAD_WAIT) as download:
        counsellor.locator("main a.document-pdf").first.click(timeout=DOWNLOAD_WAIT)
    assert download.value.suggested_filename.startswith("家长知情告知书-")
    text = pdf_text(download.value.path().read_bytes())
    assert "家长知情告知书" in text
    assert "监护人签名" in text

    scan = tmp_path / "签字扫描件.png"
    Image.new("RGB", (600, 800), "white").save(scan)
    counsellor.locator("details.sign summary").first.click()
    sign = counsellor.locator("details.sign form").first
    sign.locator("#signed_on").fill("2026-09-14")
    sign.locator("#signed_by").fill("李建国")
    sign.locator("#scan").set_input_files(str(scan))
    _submit(counsellor, sign)
    row = counsellor.locator("main table.crisis-documents tbody tr").first
    expect(row).to_contain_text("已签署")
    expect(row.locator("a.document-scan")).to_be_visible()

    contagion = counsellor.locator("main form[action$='/contagion']")
    for box in contagion.locator("#roommates input[type=checkbox]").all():
        box.check()
    world.shot(counsellor, "17-crisis-record")
    _submit(counsellor, contagion)
    followed = counsellor.locator("#contagion-h + p + table tbody tr")
    expect(followed).to_have_count(2)
    world.shot(counsellor, "17-crisis-record-followed-up")

    dorm = world.page_for("dorm", PHONE)
    dorm.goto("/tasks")
    main = dorm.locator("main")
    expect(main).to_contain_text("请多陪伴王明，关心一下对方的近况")
    expect(main).to_contain_text("请多陪伴张伟，关心一下对方的近况")
    for secret in ("危机", "阳台", "医院", "轻生", "红", "预警"):
        expect(main).not_to_contain_text(secret)
    world.shot(dorm, "17-dorm-check-in-phone")
    task = dorm.locator("main li", has_text="请多陪伴王明，关心一下对方的近况")
    task.locator("input[name=note]").fill("聊过了，情绪平稳")
    with dorm.expect_navigation():
        task.locator("button[type=submit]").click()
    expect(dorm.locator("main")).not_to_contain_text("请多陪伴王明，关心一下对方的近况")

    counsellor.goto("/crisis/follow-ups")
    wang = counsellor.locator("main li.card", has_text="王明")
    expect(wang).to_contain_text("聊过了，情绪平稳")
    world.shot(counsellor, "17-crisis-follow-up-list")
    for name in ("王明", "张伟"):
        card = counsellor.locator("main li.card", has_text=name)
        card.locator("details.clear summary").click()
        card.locator("details.clear textarea").fill("已当面了解，睡眠饮食正常")
        _submit(counsellor, card.locator("details.clear form"))
    expect(counsellor.locator("main")).to_contain_text("跟进名单中暂无学生")
