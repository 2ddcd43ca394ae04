"""The waitlist on a phone, in Chinese: a student finds nothing free and joins the waitlist;
another student cancels; the first sees the time held for them and accepts it. And a student
with two no-shows reads that booking is by the centre for now, and how to reach it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from campus import clock
from campus.extensions import db
from campus.models import Student
from campus.models import User
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]
PHONE_375 = {"width": 375, "height": 812}


def _slot(counsellor: User, hours_ahead: float) -> Slot:
    starts = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours_ahead)
    slot = Slot(
        institution_id=counsellor.institution_id,
        counsellor_id=counsellor.id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        room="心理中心 203",
        kind=SessionKind.FIRST_VISIT,
        capacity=1,
    )
    db.session.add(slot)
    db.session.flush()
    return slot


def _booked(student: Student, slot: Slot, state: AppointmentState) -> None:
    assert student.user_id is not None
    db.session.add(
        Appointment(
            institution_id=slot.institution_id,
            slot_id=slot.id,
            student_id=student.id,
            counsellor_id=slot.counsellor_id,
            starts_at=slot.starts_at,
            kind=slot.kind,
            state=state,
            booked_by_id=student.user_id,
            booked_at=slot.starts_at - timedelta(days=3),
        )
    )


def _the_only_time_taken(live_app: Flask, world: World) -> int:
    """One first-visit time, two days ahead, already booked by the class's committee member."""
    with live_app.app_context():
        counsellor = db.session.scalar(select(User).where(User.login == "sc01"))
        committee = db.session.scalar(
            select(Student).join(Student.user).where(User.login == world.logins["committee"])
        )
        assert counsellor is not None
        assert committee is not None
        db.session.add(
            CounsellorProfile(
                user_id=counsellor.id, institution_id=counsellor.institution_id, gender="F"
            )
        )
        slot = _slot(counsellor, 48)
        _booked(committee, slot, AppointmentState.BOOKED)
        db.session.commit()
        return slot.id


def test_a_freed_time_goes_to_the_waiting_student_first(world: World, live_app: Flask) -> None:
    slot_id = _the_only_time_taken(live_app, world)
    student = world.page_for("student", PHONE_375)
    student.goto("/appointments/book")
    student.get_by_role("link", name="加入候补").click()
    student.wait_for_url("**/appointments/changes/waitlist")
    assert student.evaluate("document.documentElement.scrollWidth") <= PHONE_375["width"]
    world.shot(student, "18-waitlist-join-phone")
    student.locator("main form button[type=submit]").click()
    student.wait_for_url("**/appointments/changes")
    assert "你已加入候补名单" in student.inner_text("main")

    other = world.page_for("committee", PHONE_375)
    other.goto("/appointments/mine")
    other.locator("main").get_by_role("link", name="取消", exact=True).click()
    other.wait_for_url("**/cancel")
    world.shot(other, "18-waitlist-cancel-phone")
    other.get_by_role("button", name="取消预约").click()
    other.wait_for_url(lambda url: "/cancel" not in url)
    assert "预约已取消" in other.inner_text("main")

    # The student opens the app (the notice is in the inbox too): the held time tops the home
    # page, and its line leads to the offer.
    student.goto("/")
    assert "有一个咨询时段为你保留" in student.inner_text("main")
    world.shot(student, "18-waitlist-offer-home-phone")
    student.get_by_role("link", name="有一个咨询时段为你保留").click()
    student.wait_for_url("**/appointments/changes#offer-title")
    main = student.inner_text("main")
    assert "有一个时间为你空出来了" in main
    assert "心理中心 203" in main
    assert student.evaluate("document.documentElement.scrollWidth") <= PHONE_375["width"]
    world.shot(student, "18-waitlist-offer-phone")
    student.get_by_role("button", name="接受这个时间").click()
    student.wait_for_url("**/appointments/changes")
    assert "这个时间已为你预约好" in student.inner_text("main")
    world.shot(student, "18-waitlist-accepted-phone")
    student.goto("/")
    assert "你的下一次咨询" in student.inner_text("main")
    assert "有一个咨询时段为你保留" not in student.inner_text("main")
    with live_app.app_context():
        entry = db.session.scalars(select(WaitlistEntry)).one()
        assert entry.state == WaitlistState.ACCEPTED
        mine = db.session.get_one(Appointment, entry.appointment_id)
        assert mine.slot_id == slot_id
        assert mine.state == AppointmentState.BOOKED


def test_two_no_shows_leave_booking_to_the_centre(world: World, live_app: Flask) -> None:
    with live_app.app_context():
        counsellor = db.session.scalar(select(User).where(User.login == "sc01"))
        wang = db.session.scalar(select(Student).where(Student.name == "王明"))
        assert counsellor is not None
        assert wang is not None
        assert wang.user is not None
        for days_ago in (30, 9):
            _booked(wang, _slot(counsellor, -24 * days_ago), AppointmentState.NO_SHOW)
        world.logins["wang"] = wang.user.login
        wang.user.locale = "zh_CN"
        db.session.commit()
    page = world.page_for("wang", PHONE_375)
    page.goto("/appointments/mine")
    main = page.inner_text("main")
    assert "目前需由中心为你预约" in main
    assert "0731-8888-0000" in main
    assert "加入候补" not in main
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_375["width"]
    world.shot(page, "18-booking-by-centre-phone")
