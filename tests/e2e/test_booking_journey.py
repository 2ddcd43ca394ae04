"""A student books counselling on a phone, in Chinese: the free times by day, "the first free
time", the pre-check (预检) and the confirmation; and the time shows in "my appointments"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import CounsellorProfile
from appointments.models import PreCheck
from appointments.models import SessionKind
from appointments.models import Slot
from campus import clock
from campus.extensions import db
from campus.models import User
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]
PHONE_375 = {"width": 375, "height": 812}


def _timetable(live_app: Flask) -> int:
    """Six free first-visit times over two days for the journeys' school counsellor; the id of
    the earliest."""
    with live_app.app_context():
        counsellor = db.session.scalar(select(User).where(User.login == "sc01"))
        assert counsellor is not None
        db.session.add(
            CounsellorProfile(
                user_id=counsellor.id, institution_id=counsellor.institution_id, gender="F"
            )
        )
        first = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=24)
        slots = [
            Slot(
                institution_id=counsellor.institution_id,
                counsellor_id=counsellor.id,
                starts_at=first + timedelta(hours=h),
                ends_at=first + timedelta(hours=h, minutes=50),
                room="心理中心 201",
                kind=SessionKind.FIRST_VISIT,
                capacity=1,
            )
            for h in (0, 1, 5, 24, 25, 29)
        ]
        db.session.add_all(slots)
        db.session.commit()
        return slots[0].id


def test_a_student_books_the_first_free_time_on_a_phone(world: World, live_app: Flask) -> None:
    first_id = _timetable(live_app)
    page = world.page_for("student", PHONE_375)
    page.goto("/")
    page.get_by_role("link", name="预约咨询").first.click()
    page.wait_for_url("**/appointments/book")
    assert page.locator(".slot-day").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_375["width"]
    world.shot(page, "18-booking-times-phone")

    page.get_by_role("button", name="最早的空闲时间").click()
    page.wait_for_url(f"**/appointments/book/{first_id}")
    world.shot(page, "18-booking-precheck-phone")
    page.fill("#reason", "最近总是睡不好，想找人聊聊")
    for field in ("phq2_1", "phq2_2", "gad2_1", "gad2_2"):
        page.locator(f"input[name={field}][value='1']").check()
    page.locator("input[name=safety][value='0']").check()
    page.get_by_role("button", name="预约这个时段").click()

    page.wait_for_url("**/confirmed")
    assert page.get_by_role("heading", name="预约成功").is_visible()
    assert "心理中心 201" in page.inner_text("main")
    assert page.locator(".crisis").count() == 0
    world.shot(page, "18-booking-confirmed-phone")

    page.get_by_role("link", name="我的预约").last.click()
    page.wait_for_url("**/appointments/mine")
    assert "心理中心 201" in page.inner_text("main")
    world.shot(page, "18-booking-mine-phone")
    with live_app.app_context():
        booked = db.session.scalar(select(Appointment).where(Appointment.slot_id == first_id))
        assert booked is not None
        check = db.session.scalar(select(PreCheck).where(PreCheck.appointment_id == booked.id))
        assert check is not None
        assert check.safety_signal_id is None


def test_the_department_counsellor_books_for_a_student_from_the_student_file(
    world: World, live_app: Flask
) -> None:
    with live_app.app_context():
        student = db.session.scalar(select(User).where(User.name == "王明"))
        assert student is not None
        assert student.student is not None
        student_id = student.student.id
    page = world.page_for("dept_counsellor")
    page.goto(f"/casework/students/{student_id}")
    page.get_by_role("link", name="为该生预约咨询").click()
    # The page remembers where it was opened from (?back=…), to lead back there.
    page.wait_for_url(re.compile(rf"/appointments/for/{student_id}(\?.*)?$"))
    world.shot(page, "18-booking-for-student")
    # Tapping a time books nothing yet: its confirm step says what will be booked.
    page.locator(".slot-list a").first.click()
    page.wait_for_url(re.compile(rf"/appointments/for/{student_id}/book/\d+"))
    assert page.get_by_role("heading", name="为王明预约这个时段？").is_visible()
    with live_app.app_context():
        assert (
            db.session.scalar(select(Appointment).where(Appointment.student_id == student_id))
            is None
        )
    world.shot(page, "18-booking-for-student-confirm")
    page.get_by_role("button", name="预约这个时段").click()
    page.wait_for_url(re.compile(rf"/appointments/for/{student_id}\?.*booked="))
    # The booking made is what the page opens on, not an "already booked" box beside it.
    booked = page.inner_text("main")
    assert "已为" in booked
    assert "已通知学生和咨询师。" in booked
    assert "已有预约" not in booked
    with live_app.app_context():
        assert (
            db.session.scalar(select(Appointment).where(Appointment.student_id == student_id))
            is not None
        )
