"""The chain from screening to closure, walked by the people who use it, in a real browser.

One seeded university per locale (zh-CN, then English); the journeys of a locale run in order and
hand the student's case on: the intake raises a red warning, the counsellor works it, refers the
student and sees them back to school, and the administrator sees the numbers move.
Run only these with `pytest -m e2e`; skip them with `pytest -m "not e2e"`.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Student
from referrals.models import Referral
from referrals.models import ReferralStatus
from screening.models import CampaignAssignment
from tests.e2e.conftest import DOWNLOAD_WAIT
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import World
from tests.e2e.conftest import kpi_rows
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningStatus

pytestmark = pytest.mark.e2e

INTERNAL_NOTE = "Lives alone off campus this term; father hard to reach"
SEVERAL_DAYS = {"zh_CN": "好几天", "en": "Several days"}


@pytest.fixture(scope="module", autouse=True)
def kpis_before(world: World) -> dict[str, list[str]]:
    """The dashboard's first rows before the journeys move them (taken here, not for every
    journey module's world: a sign-in and four folded tables each time)."""
    return kpi_rows(world.page_for("admin"))


def _answer_all(page: Page, items: int, value: int, *, item_9: int | None = None) -> None:
    for number in range(1, items + 1):
        chosen = item_9 if number == 9 and item_9 is not None else value
        page.check(f"input[name=item_{number}][value='{chosen}']")


def _submit_part(page: Page) -> None:
    page.locator("button[name=action][value=submit]").click()


def test_freshman_answering_item_9_several_days_sees_crisis_resources_at_once(
    world: World, live_app: Flask
):
    page = world.page_for("student", PHONE)
    page.goto("/screening/mine")
    expect(page.locator("html")).to_have_attribute(
        "lang", "zh-CN" if world.locale == "zh_CN" else "en"
    )
    page.locator("main a[href*='/screening/a/']").click()
    world.shot(page, "1-consent")
    page.check("#informed")
    page.check("#sensitive_data")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/i/phq9$"))
    item_9 = page.locator("#q9 label").filter(has=page.locator("input[value='1']"))
    expect(item_9).to_contain_text(SEVERAL_DAYS[world.locale])
    _answer_all(page, 9, 1, item_9=1)
    world.shot(page, "1-phq9-phone")
    _submit_part(page)

    crisis = page.locator("main > section.crisis[role=alert]")
    expect(crisis).to_be_visible()
    expect(page.locator("main > *").first).to_have_class(re.compile(r"\bcrisis\b"))
    expect(crisis.locator("a[href='tel:400-161-9995']")).to_be_visible()
    expect(crisis.locator("a[href='tel:0731-8888-0000']")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("PHQ-9 ≥")
    world.shot(page, "1-crisis-resources-phone")

    page.locator("main a[href*='/i/gad7']").click()
    _answer_all(page, 7, 0)
    _submit_part(page)
    page.locator("main a[href*='/screening/a/']").last.click()
    expect(page.locator("main h1")).to_be_visible()
    with live_app.app_context():
        assignment = db.session.scalar(
            select(CampaignAssignment)
            .join(Student, Student.id == CampaignAssignment.student_id)
            .where(Student.student_number == world.student_number)
        )
        warning = db.session.scalar(
            select(EarlyWarning).where(EarlyWarning.student_id == assignment.student_id)
        )
        assert assignment.completed_at is not None
        assert warning.level == 3
        assert warning.status == WarningStatus.OPEN
        world.assignment_id, world.warning_id = assignment.id, warning.id
        db.session.remove()


def test_counsellor_works_the_red_warning_and_the_class_committee_sees_only_the_task(
    world: World, live_app: Flask
):
    assert world.warning_id, "the intake journey must run first"
    page = world.page_for("counsellor")
    page.goto("/warnings/")
    first = page.locator("main table tbody tr").first
    expect(first.locator(".level.red")).to_be_visible()
    expect(first).to_contain_text(world.student_name)
    expect(first).to_contain_text("PHQ-9")
    world.shot(page, "2-warning-queue")
    first.locator("a").first.click()

    _act(page, "acknowledge")
    _act(page, "contact", {"#contact-method": "in_person", "input[value=reached]": "check"})
    _notify_guardian(
        page,
        {
            "#direction": "we_called",
            "#channel": "phone",
            "#guardian_name": "母亲",
            "#outcome": "reached",
            "#summary": "电话告知，今晚到校",
        },
    )
    # The professional assessment a red warning needs before it can be closed (last journey).
    _act(page, "assessment", {"#assessment-outcome": "High risk; referred to hospital"})
    _act(page, "peer_watch", {"#peer_watch-days": "7"})
    world.shot(page, "2-student-page")

    committee = world.page_for("committee", PHONE)
    committee.goto("/tasks")
    main = committee.locator("main")
    expect(main).to_contain_text(world.student_name)
    for secret in ("PHQ", "level", "red", "红", "score", "得分", "item 9"):
        expect(main).not_to_contain_text(secret, ignore_case=True)
    assert committee.locator("main .level").count() == 0
    world.shot(committee, "2-committee-tasks-phone")
    with live_app.app_context():
        warning = db.session.get(EarlyWarning, world.warning_id)
        assert warning.acknowledged_at is not None
        tasks = db.session.scalars(select(Task).where(Task.warning_id == warning.id)).all()
        assert tasks, "the peer watch creates tasks for class and dorm"
        db.session.remove()


def _act(page: Page, name: str, fields: dict[str, str] | None = None) -> None:
    """Open one action of the student page, fill it, submit it, and see it saved."""
    form = page.locator(f"form[action*='/actions/{name}']")
    details = page.locator(f"details:has(form[action*='/actions/{name}'])")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    _fill(form, fields or {})
    form.locator("[type=submit]").click()
    expect(page.locator("main .flash.success")).to_be_visible()


def _notify_guardian(page: Page, fields: dict[str, str]) -> None:
    """The student page's family contact (the guardian's notice on a red), logged from there."""
    details = page.locator("details#action-guardian")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    _fill(details.locator("form"), fields)
    details.locator("form [type=submit]").click()
    expect(page.locator("main .flash.success")).to_be_visible()


def _fill(form: Locator, fields: dict[str, str]) -> None:
    """Fill each field; a radio button or tick-box is given the value "check"."""
    for selector, value in fields.items():
        target = form.locator(selector)
        if value == "check":
            target.check()
        elif target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)


def test_green_channel_referral_leave_and_return_are_followed_until_closed(
    world: World, live_app: Flask
):
    assert world.warning_id, "the intake and response journeys must run first"
    counsellor = world.page_for("counsellor")
    counsellor.goto(f"/referrals/new/{world.warning_id}")
    counsellor.select_option("#hospital_id", label=world.hospital)
    counsellor.fill("#reason", "PHQ-9 item 9 positive; urgent psychiatric assessment")
    counsellor.select_option("#urgency", "urgent")
    counsellor.check("#green_channel")
    counsellor.fill("#internal_note", INTERNAL_NOTE)
    counsellor.fill("#consent_name", world.student_name)
    counsellor.fill("#consent_at", "2026-09-13T18:00")
    counsellor.locator("main form [type=submit]").click()
    expect(counsellor).to_have_url(re.compile(r"/referrals/\d+$"))
    world.referral_id = int(counsellor.url.rsplit("/", 1)[1])
    _move(counsellor, "sent", {"#sent-confirm": "check"})
    world.shot(counsellor, "3-referral-counsellor")

    liaison = world.page_for("liaison")
    liaison.goto("/hospital/referrals/")
    liaison.locator(f"main a[href$='/hospital/referrals/{world.referral_id}']").first.click()
    expect(liaison.locator("main")).not_to_contain_text(INTERNAL_NOTE)
    # Green channel: seen at once (the clock's 10:00); an assessment waits for its appointment.
    _move(liaison, "appointment_booked", {"#appointment_booked-appointment_at": "2026-09-14T10:00"})
    _move(liaison, "assessed", {"#assessed-outcome": "outpatient"})
    _move(liaison, "in_treatment")
    world.shot(liaison, "3-liaison-referral")

    counsellor.goto("/referrals/leave")
    counsellor.fill("#student_number", world.student_number)
    counsellor.fill("#start_date", "2026-09-16")
    counsellor.fill("#expected_return_date", "2026-10-16")
    _submit(counsellor, "main form")
    expect(counsellor).to_have_url(re.compile(r"/referrals/leave/\d+$"))
    world.leave_id = int(counsellor.url.rsplit("/", 1)[1])

    clock.set_now(clock.now() + timedelta(days=36))  # back from leave on 2026-10-20
    counsellor = _sign_in_again(world, "counsellor", f"/referrals/leave/{world.leave_id}")
    counsellor.fill("#st-received_on", "2026-10-18")
    counsellor.fill("#st-hospital", world.hospital)
    counsellor.fill("#st-summary", "Stable on outpatient treatment; fit to study")
    _submit(counsellor, "form[action$='/statement']")
    counsellor.select_option("#as-outcome", "fit_to_return")
    counsellor.fill("#as-note", "情绪平稳，睡眠恢复，社会功能良好")
    _submit(counsellor, "form[action$='/assessment']")
    counsellor.fill("#ap-returned_on", "2026-10-20")
    _submit(counsellor, "form[action$='/approve']")
    for section in counsellor.locator("#plan-section option").all():
        counsellor.select_option("#plan-section", section.get_attribute("value"))
        counsellor.fill("#plan-text", "Weekly check-in; reduced course load this term")
        counsellor.fill("#plan-due_date", "2026-11-20")
        _submit(counsellor, "form[action$='/plan']")
    world.shot(counsellor, "3-return-plan")

    clock.set_now(clock.now() + timedelta(days=185))  # the 6-month follow-up is due
    counsellor = _sign_in_again(world, "counsellor", f"/referrals/leave/{world.leave_id}")
    done_buttons = counsellor.locator("form[action*='/tasks/'] button")
    assert done_buttons.count() == 3 + 3  # three plan items, follow-ups at 1, 3 and 6 months
    for_others = counsellor.locator("details.mark-done")
    while for_others.count():  # another's item: ticked with what its owner said
        for_others.first.locator("summary").click()
        for_others.first.locator("textarea").fill("辅导员电话告知：已按计划完成")
        _submit(counsellor, "details.mark-done form")
    while done_buttons.count():
        _submit(counsellor, "form[action*='/tasks/']")
    _submit(counsellor, "form[action$='/close']")

    counsellor.goto(f"/referrals/{world.referral_id}")
    _move(counsellor, "closed", {"#closed-confirm": "check"})
    counsellor.goto(f"/warnings/students/{_student_id(live_app, world)}")
    _close_through_the_confirmation(world, counsellor)
    with live_app.app_context():
        referral = db.session.get(Referral, world.referral_id)
        warning = db.session.get(EarlyWarning, world.warning_id)
        assert referral.status == ReferralStatus.CLOSED
        assert referral.green_channel
        assert warning.status == WarningStatus.CLOSED
        db.session.remove()


def _close_through_the_confirmation(world: World, page: Page) -> None:
    """解除预警 says what it will do; unticked, it comes back on the same page with the reason."""
    fields = {
        "#close-outcome": "Recovered; back at school with support",
        "#close-review_date": "2027-09-01",
    }
    form = page.locator("form[action*='/actions/close']")
    page.locator("details#action-close summary").click()
    expect(form.locator(".consequence")).to_be_visible()
    expect(form.locator("button.danger")).to_be_visible()
    world.shot(page, "6-close-warning-confirmation")
    _fill(form, fields)
    form.locator("[type=submit]").click()
    refused = page.locator("form[action*='/actions/close']")
    expect(refused.locator("#close-confirm-err")).to_be_visible()
    expect(refused.locator("#close-outcome")).to_have_value(fields["#close-outcome"])
    world.shot(page, "6-close-warning-unconfirmed")
    _act(page, "close", {"#close-confirm": "check"})
    world.shot(page, "6-close-warning-done")


def _sign_in_again(world: World, who: str, path: str) -> Page:
    """Weeks later the old session has timed out: sign in afresh and open `path`."""
    page = world.page_for(who)
    page.goto(path)
    return page


def _student_id(live_app: Flask, world: World) -> int:
    with live_app.app_context():
        student_id = db.session.get(EarlyWarning, world.warning_id).student_id
        db.session.remove()
    return student_id


def _move(page: Page, target: str, fields: dict[str, str] | None = None) -> None:
    """Use the referral's move form towards `target` and see the new state saved."""
    form = page.locator(f"form.move[action*='target={target}']").first
    _fill(form, fields or {})
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("main .flash.error")).to_have_count(0)
    # Saved: the page says so (a booked appointment still offers to change its time, so the
    # move's own form may stay).
    expect(page.locator("main .flash.success")).to_be_visible()


def _submit(page: Page, form_selector: str) -> None:
    """Submit the first form matching `form_selector`; the page must come back without an error."""
    with page.expect_navigation():
        page.locator(form_selector).first.locator("[type=submit]").click()
    expect(page.locator("main .flash.error, main p.error")).to_have_count(0)


def test_administrator_sees_the_kpis_move_and_exports_them(
    world: World, kpis_before: dict[str, list[str]]
):
    assert world.referral_id, "the recovery journey must run first"
    before = kpis_before
    page = world.page_for("admin")
    after = kpi_rows(page)
    world.shot(page, "4-oversight-dashboard")
    assert before["service"][2:6] == ["0", "0", "0", "—"]
    assert after["service"][2:6] == ["1", "1", "0", "100.0%"]
    assert (before["crisis"][2], after["crisis"][2]) == ("0", "1")
    assert before["referrals"][2:5] == ["0", "0", "—"]
    assert after["referrals"][2:5] == ["1", "1", "100.0%"]
    assert before["screening"][3] == "0"
    assert after["screening"][3] == "1"

    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.locator("#kpi-referrals a[href*='.csv']").click(timeout=DOWNLOAD_WAIT)
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert any("100" in cell for row in rows[1:] for cell in row), rows
    with page.expect_download(timeout=DOWNLOAD_WAIT) as download:
        page.locator("#kpi-service a[href*='.xlsx']").click(timeout=DOWNLOAD_WAIT)
    assert download.value.path().read_bytes()[:2] == b"PK"  # an Excel workbook

    page.goto("/referrals/closure")
    expect(page.locator("main")).to_contain_text(world.hospital)
    world.shot(page, "4-referral-closure")


def test_province_auditor_sees_the_university_in_aggregate_with_the_figures_age(world: World):
    """Three students are fewer than the small-group threshold: every count reads "< 10"."""
    page = world.page_for("province")
    page.goto("/oversight/province")
    main = page.locator("main")
    expect(main).to_contain_text("湘江大学")
    expect(page.locator("#as-of")).to_be_visible()
    expect(page.locator("#kpi-crisis tbody")).to_contain_text("< 10")
    expect(page.locator("main a[href*='/drill']")).to_have_count(0)
    assert world.student_name not in main.inner_text()
    world.shot(page, "4-province-view")
