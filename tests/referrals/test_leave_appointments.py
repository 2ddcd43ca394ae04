"""A student going on leave kept her booked counselling appointments with nothing said: the
leave page now lists those still to come and cancels them at one confirmation, the student
told in words that say nothing of the leave."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import AppointmentCancellation
from appointments.models import AppointmentState
from appointments.models import SessionKind
from appointments.models import Slot
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.notifications import Notification
from referrals.models import LeaveOfAbsence


def _booked(world, hours_from_now: float) -> Appointment:
    starts = clock.now() + timedelta(hours=hours_from_now)
    slot = Slot(
        institution_id=world.institution.id,
        counsellor_id=world.counsellor.id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        room="302",
        kind=SessionKind.FOLLOW_UP,
        capacity=1,
    )
    db.session.add(slot)
    db.session.flush()
    appointment = Appointment(
        institution_id=slot.institution_id,
        slot_id=slot.id,
        seat=1,
        student_id=world.student.id,
        counsellor_id=slot.counsellor_id,
        starts_at=starts,
        kind=slot.kind,
        state=AppointmentState.BOOKED,
        booked_by_id=world.student.user_id,
        booked_at=clock.now() - timedelta(days=3),
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def test_registering_a_leave_offers_to_cancel_her_booked_appointments(world, login):
    past = _booked(world, -48)
    soon, later = _booked(world, 26), _booked(world, 24 * 8)
    client = login(world.counsellor)
    started = client.post(
        "/referrals/leave",
        data={
            "student_number": world.student.student_number,
            "start_date": "2026-09-14",
            "expected_return_date": "2027-02-20",
            "reason_category": "mental_health",
        },
        follow_redirects=True,
    )
    page = started.get_data(as_text=True)
    assert "The student still has 2 counselling appointments booked" in page
    assert "Counselling appointments still booked" in page
    leave = db.session.scalars(select(LeaveOfAbsence)).one()

    client.post(
        f"/referrals/leave/{leave.id}/appointments/cancel",
        data={"ca-reason": "Your upcoming counselling appointments have been cancelled."},
    )
    db.session.expire_all()
    states = {a.id: db.session.get(Appointment, a.id).state for a in (past, soon, later)}
    assert states == {
        past.id: AppointmentState.BOOKED,  # gone by: the counsellor records how it went
        soon.id: AppointmentState.CANCELLED,
        later.id: AppointmentState.CANCELLED,
    }
    reasons = db.session.scalars(select(AppointmentCancellation.reason)).all()
    assert reasons == ["Your upcoming counselling appointments have been cancelled."] * 2
    told = db.session.scalars(
        select(Notification.text).where(Notification.user_id == world.student.user_id)
    ).all()
    assert told
    assert not any("leave" in text.lower() for text in told)
    (row,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "leave_appointments_cancelled")
    ).all()
    assert row.detail == "2"
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert "Counselling appointments still booked" not in page


def test_cancelling_with_no_words_for_the_student_cancels_nothing(world, login):
    soon = _booked(world, 26)
    client = login(world.counsellor)
    client.post(
        "/referrals/leave",
        data={
            "student_number": world.student.student_number,
            "start_date": "2026-09-14",
            "expected_return_date": "2027-02-20",
            "reason_category": "mental_health",
        },
    )
    leave = db.session.scalars(select(LeaveOfAbsence)).one()
    refused = client.post(
        f"/referrals/leave/{leave.id}/appointments/cancel", data={"ca-reason": ""}
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Appointment, soon.id).state is AppointmentState.BOOKED


def test_an_appointment_kept_is_marked_on_leave_on_the_counsellors_lists(world, login):
    _booked(world, 26)
    client = login(world.counsellor)
    before = client.get("/appointments/booked").get_data(as_text=True)
    assert 'class="tag on-leave"' not in before
    client.post(
        "/referrals/leave",
        data={
            "student_number": world.student.student_number,
            "start_date": "2026-09-14",
            "expected_return_date": "2027-02-20",
            "reason_category": "mental_health",
        },
    )
    for url in ("/appointments/booked", "/appointments/sessions"):
        page = client.get(url).get_data(as_text=True)
        assert '<span class="tag on-leave">On leave</span>' in page, url
