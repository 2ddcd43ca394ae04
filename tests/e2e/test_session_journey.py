"""Issue #18, sessions: the school counsellor opens today's appointment from their day, records
that the student came, writes and signs the session note (咨询记录) and adds an addendum; a second
appointment is recorded as a no-show. In Chinese, on a desktop."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import Flask
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import NoteState
from appointments.models import SessionNote
from campus.extensions import db
from campus.models import Student
from campus.models import User
from tests.appointments.session_world import appointment
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]

# The journeys' clock: Monday 2026-09-14 10:00 in Changsha.
EARLIER_TODAY = datetime(2026, 9, 14, 0, 0)  # 08:00 local
LAST_FRIDAY = datetime(2026, 9, 11, 6, 0)  # 14:00 local


def _two_appointments(live_app: Flask, world: World) -> tuple[int, int]:
    with live_app.app_context():
        student = db.session.scalar(select(Student).where(Student.name == world.student_name))
        counsellor = db.session.scalar(select(User).where(User.login == world.logins["counsellor"]))
        today = appointment(student, counsellor, EARLIER_TODAY)
        missed = appointment(student, counsellor, LAST_FRIDAY)
        db.session.commit()
        ids = (today.id, missed.id)
        db.session.remove()
    return ids


def _submit(page: Page, button) -> None:
    with page.expect_navigation():
        button.click()
    expect(page.locator("main .flash.error, main p.error")).to_have_count(0)
    expect(page.locator("main .flash.success")).to_be_visible()


def test_a_session_is_recorded_noted_signed_and_a_no_show_kept(world: World, live_app: Flask):
    today_id, missed_id = _two_appointments(live_app, world)
    counsellor = world.page_for("counsellor")
    counsellor.get_by_role("link", name="我的咨询").first.click()
    expect(counsellor.locator("h1")).to_have_text("我的咨询")
    row = counsellor.locator(f"#appointment-{today_id}")
    expect(row).to_contain_text("08:00")
    expect(row).to_contain_text(world.student_name)
    expect(row).to_contain_text("已预约")
    world.shot(counsellor, "18-sessions-my-day")
    row.get_by_role("link", name="打开").click()
    expect(counsellor).to_have_url(re.compile(rf"/appointments/sessions/{today_id}$"))

    outcome = counsellor.locator("main form[action$='/outcome']")
    outcome.get_by_label("已到访").check()
    outcome.get_by_label("无", exact=True).check()
    _submit(counsellor, outcome.get_by_role("button", name="记录结果"))
    expect(counsellor.locator("#session-state")).to_have_text("已到访")

    note = counsellor.locator("main form[action$='/note']")
    note.locator("#body").fill("首次来访。主诉入学适应困难、睡眠差；否认自伤想法。约定每周一次。")
    _submit(counsellor, note.get_by_role("button", name="保存草稿"))
    expect(counsellor.locator("#note-state")).to_contain_text("草稿已于")
    note = counsellor.locator("main form[action$='/note']")
    expect(note.locator("#body")).to_have_value(re.compile("首次来访"))
    world.shot(counsellor, "18-session-note-draft")
    _submit(counsellor, note.get_by_role("button", name="签名确认"))
    expect(counsellor.locator("#note-state")).to_contain_text("已签署")
    expect(counsellor.locator("#note-body")).to_contain_text("睡眠差")
    expect(counsellor.locator("main form[action$='/note']")).to_have_count(0)  # no more editing

    counsellor.locator("#add-addendum summary").click()
    addendum = counsellor.locator("#add-addendum form")
    addendum.locator("#body").fill("补记：来访者当晚告知已与室友沟通，情况缓和。")
    _submit(counsellor, addendum.get_by_role("button", name="添加补充记录"))
    expect(counsellor.locator("#addenda li")).to_have_count(1)
    expect(counsellor.locator("#addenda")).to_contain_text("与室友沟通")
    world.shot(counsellor, "18-session-signed-with-addendum")

    counsellor.get_by_role("link", name="我的咨询").first.click()
    unrecorded = counsellor.locator(f"#appointment-{missed_id}")
    expect(unrecorded).to_contain_text("9月11日 周五 14:00")
    unrecorded.get_by_role("link", name="打开").click()
    outcome = counsellor.locator("main form[action$='/outcome']")
    outcome.get_by_label("未到（爽约）").check()
    _submit(counsellor, outcome.get_by_role("button", name="记录结果"))
    expect(counsellor.locator("#session-state")).to_have_text("爽约")
    expect(counsellor.locator("#note-h")).to_have_count(0)  # no note for a session not held

    with live_app.app_context():
        states = dict(list(db.session.execute(select(Appointment.id, Appointment.state)).tuples()))
        assert states[today_id] == AppointmentState.ATTENDED
        assert states[missed_id] == AppointmentState.NO_SHOW
        assert db.session.scalar(select(SessionNote.state)) == NoteState.SIGNED
        db.session.remove()
