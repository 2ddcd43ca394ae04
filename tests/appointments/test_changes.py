"""Cancelling and moving appointments, and the no-show policy (issue #18)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from appointments import booking
from appointments import changes
from appointments import reminders
from appointments import seats
from appointments import waitlist
from appointments.changes import ChangeError
from appointments.changes import LateCancellationUnconfirmed
from appointments.models import Appointment
from appointments.models import AppointmentCancellation
from appointments.models import AppointmentReminder
from appointments.models import AppointmentState
from appointments.models import PreCheck
from appointments.models import SessionKind
from appointments.models import SlotState
from appointments.waitlist import Wishes
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.notifications import Notification
from tests.appointments.changes_world import Centre
from tests.appointments.changes_world import build


@pytest.fixture
def centre(campus) -> Centre:
    return build(campus)


def _notes(user_id: int | None) -> list[str]:
    return list(
        db.session.scalars(select(Notification.text).where(Notification.user_id == user_id))
    )


# --------------------------------------------------------------------------------------------------
# Cancel
# --------------------------------------------------------------------------------------------------


def test_student_cancels_freely_two_days_ahead(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    changes.cancel(db.session, centre.student.user, appointment, clock.now())
    assert appointment.state == AppointmentState.CANCELLED
    assert changes.may_self_book(db.session, centre.student)


def test_cancel_after_the_limit_needs_a_tick_and_is_recorded_late(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(5))
    with pytest.raises(LateCancellationUnconfirmed, match="recorded as late"):
        changes.cancel(db.session, centre.student.user, appointment, clock.now())
    assert appointment.state == AppointmentState.BOOKED  # nothing written
    assert db.session.scalar(select(func.count(AppointmentCancellation.id))) == 0

    changes.cancel(db.session, centre.student.user, appointment, clock.now(), late_confirmed=True)
    assert appointment.state == AppointmentState.LATE_CANCELLED
    row = db.session.scalars(select(AppointmentCancellation)).one()
    assert row.late
    assert not row.by_centre


def test_cancel_limit_follows_the_configured_hours(app, centre: Centre, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "BOOKING_CANCEL_HOURS", 4)
    appointment = centre.book(centre.student, centre.slot(5))
    changes.cancel(db.session, centre.student.user, appointment, clock.now())
    assert appointment.state == AppointmentState.CANCELLED


def test_a_double_cancel_cancels_once(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    changes.cancel(db.session, centre.student.user, appointment, clock.now())
    with pytest.raises(ChangeError, match="no longer booked"):
        changes.cancel(db.session, centre.student.user, appointment, clock.now())
    assert db.session.scalar(select(func.count(AppointmentCancellation.id))) == 1


def test_a_begun_appointment_cannot_be_cancelled(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(-0.25))
    with pytest.raises(ChangeError, match="already begun"):
        changes.cancel(
            db.session, centre.student.user, appointment, clock.now(), late_confirmed=True
        )
    assert appointment.state == AppointmentState.BOOKED


def test_another_student_may_not_cancel(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    with pytest.raises(ChangeError, match="may not cancel"):
        changes.cancel(db.session, centre.classmate.user, appointment, clock.now())
    assert appointment.state == AppointmentState.BOOKED


def test_the_centre_cancels_with_a_reason_the_student_is_told(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(3))
    with pytest.raises(ChangeError, match="Say why"):
        changes.cancel(db.session, centre.counsellor, appointment, clock.now(), reason="  ")
    changes.cancel(db.session, centre.counsellor, appointment, clock.now(), reason="咨询师临时生病")
    assert appointment.state == AppointmentState.CANCELLED  # never late: not the student's doing
    row = db.session.scalars(select(AppointmentCancellation)).one()
    assert row.by_centre
    assert row.reason == "咨询师临时生病"
    notes = _notes(centre.student.user_id)
    assert notes == [
        "The counselling centre had to cancel your appointment. See why and choose again."
    ]
    assert "张三" not in notes[0]
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "appointment.cancel"))


def test_the_students_list_links_a_cancelled_appointment_to_why(centre: Centre, login) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    changes.cancel(db.session, centre.counsellor, appointment, clock.now(), reason="咨询师临时生病")
    page = login(centre.student.user).get("/appointments/mine").get_data(as_text=True)
    assert "You have no upcoming appointment." in page
    cancelled = page.split("Past and cancelled")[1]
    assert f'href="/appointments/changes/{appointment.id}"' in cancelled


def test_the_centre_withdrawing_the_time_frees_nothing(centre: Centre) -> None:
    slot = centre.slot(48)
    appointment = centre.book(centre.student, slot)
    changes.cancel(
        db.session, centre.counsellor, appointment, clock.now(), reason="会议", withdraw_slot=True
    )
    assert slot.state == SlotState.WITHDRAWN
    assert seats.free_seats(db.session, centre.institution.id, clock.now()) == []


# --------------------------------------------------------------------------------------------------
# Reschedule
# --------------------------------------------------------------------------------------------------


def test_reschedule_moves_the_booking_in_one_step(centre: Centre) -> None:
    old_slot, new_slot = centre.slot(48), centre.slot(72)
    appointment = centre.book(centre.student, old_slot)
    new = changes.reschedule(db.session, centre.student.user, appointment, new_slot, clock.now())
    assert appointment.state == AppointmentState.CANCELLED
    assert new.state == AppointmentState.BOOKED
    assert new.slot_id == new_slot.id
    free = [f.slot.id for f in seats.free_seats(db.session, centre.institution.id, clock.now())]
    assert free == [old_slot.id]


def test_reschedule_limit_per_chain(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    first = changes.reschedule(
        db.session, centre.student.user, appointment, centre.slot(72), clock.now()
    )
    second = changes.reschedule(
        db.session, centre.student.user, first, centre.slot(96), clock.now()
    )
    last = centre.slot(120)
    with pytest.raises(ChangeError, match="moved 2 times already"):
        changes.reschedule(db.session, centre.student.user, second, last, clock.now())
    assert second.state == AppointmentState.BOOKED
    # The centre may still move it.
    moved = changes.reschedule(db.session, centre.counsellor, second, last, clock.now())
    assert moved.slot_id == last.id
    assert "The counselling centre moved your appointment. See the new time." in _notes(
        centre.student.user_id
    )


def test_no_reschedule_after_the_limit(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(5))
    with pytest.raises(ChangeError, match="can be moved until 24 hours"):
        changes.reschedule(
            db.session, centre.student.user, appointment, centre.slot(72), clock.now()
        )
    assert appointment.state == AppointmentState.BOOKED


def test_a_failed_new_booking_leaves_the_old_one(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    wanted = centre.slot(72)
    centre.book(centre.classmate, wanted)
    with pytest.raises(ChangeError, match="just taken"):
        changes.reschedule(db.session, centre.student.user, appointment, wanted, clock.now())
    db.session.expire_all()
    assert appointment.state == AppointmentState.BOOKED
    assert db.session.scalar(select(func.count(Appointment.id))) == 2


def test_a_seat_lost_in_the_race_rolls_the_move_back(centre: Centre, monkeypatch) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    wanted = centre.slot(72)

    def lost(*_args, **_kwargs):
        raise booking.BookingError(
            "This time has just been taken. Here are the next free times.", code="taken"
        )

    monkeypatch.setattr(booking, "do_book", lost)
    with pytest.raises(ChangeError, match="just taken by someone else"):
        changes.reschedule(db.session, centre.student.user, appointment, wanted, clock.now())
    db.session.expire_all()
    assert appointment.state == AppointmentState.BOOKED
    assert db.session.scalar(select(func.count(AppointmentCancellation.id))) == 0


def test_reschedule_to_a_forged_or_foreign_slot_is_refused(campus, centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    with pytest.raises(ChangeError, match="free times listed"):
        changes.reschedule(db.session, centre.student.user, appointment, None, clock.now())
    with pytest.raises(ChangeError, match="free times listed"):
        changes.reschedule(
            db.session, centre.student.user, appointment, appointment.slot, clock.now()
        )
    assert appointment.state == AppointmentState.BOOKED


# --------------------------------------------------------------------------------------------------
# The no-show policy
# --------------------------------------------------------------------------------------------------


def test_two_no_shows_leave_booking_to_the_centre(centre: Centre) -> None:
    centre.missed(centre.student, days_ago=30)
    assert changes.may_self_book(db.session, centre.student)
    centre.missed(centre.student, days_ago=10)
    assert not changes.may_self_book(db.session, centre.student)
    bar = changes.booking_bar(db.session, centre.student, clock.now())
    assert bar is not None
    assert bar.misses == 2


def test_third_booking_refused_for_the_student_allowed_for_staff(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    with pytest.raises(ChangeError, match="by the centre only"):
        changes.reschedule(
            db.session, centre.student.user, appointment, centre.slot(72), clock.now()
        )
    moved = changes.reschedule(
        db.session, centre.counsellor, appointment, centre.slot(96), clock.now()
    )
    assert moved.state == AppointmentState.BOOKED


def test_a_late_cancellation_counts_with_no_shows(centre: Centre) -> None:
    centre.missed(centre.student, days_ago=10)
    late = centre.book(centre.student, centre.slot(3))
    changes.cancel(db.session, centre.student.user, late, clock.now(), late_confirmed=True)
    assert not changes.may_self_book(db.session, centre.student)


def test_old_misses_fall_out_of_the_window(centre: Centre) -> None:
    centre.missed(centre.student, days_ago=200)
    centre.missed(centre.student, days_ago=10)
    assert changes.may_self_book(db.session, centre.student)


def test_director_lifts_the_bar_audited(centre: Centre) -> None:
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    barred = changes.barred_students(db.session, centre.institution.id, clock.now())
    assert [(b.student.name, b.misses) for b in barred] == [("张三", 2)]
    with pytest.raises(ChangeError, match="Only the centre director"):
        changes.lift_bar(db.session, centre.counsellor, centre.student, "谈过了", clock.now())
    with pytest.raises(ChangeError, match="Say why"):
        changes.lift_bar(db.session, centre.director, centre.student, "", clock.now())
    changes.lift_bar(db.session, centre.director, centre.student, "已电话沟通", clock.now())
    assert changes.may_self_book(db.session, centre.student)
    assert changes.barred_students(db.session, centre.institution.id, clock.now()) == []
    assert (
        db.session.scalar(
            select(AuditEvent.student_id).where(AuditEvent.action == "booking_bar.lift")
        )
        == centre.student.id
    )
    # A new miss after the lift counts from then on: one is not yet the limit.
    clock.advance(timedelta(days=1))
    centre.missed(centre.student, days_ago=0.5)
    assert changes.may_self_book(db.session, centre.student)


# --------------------------------------------------------------------------------------------------
# Reminders
# --------------------------------------------------------------------------------------------------


def test_reminders_a_day_and_two_hours_before_each_once(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(30))
    assert reminders.reminder_sweep(db.session, clock.now()) == 0
    clock.advance(timedelta(hours=7))  # 23 hours before
    assert reminders.reminder_sweep(db.session, clock.now()) == 1
    assert reminders.reminder_sweep(db.session, clock.now()) == 0  # a re-run sends nothing
    clock.advance(timedelta(hours=22))  # 1 hour before
    assert reminders.reminder_sweep(db.session, clock.now()) == 1
    assert reminders.reminder_sweep(db.session, clock.now()) == 0
    assert sorted(
        db.session.scalars(
            select(AppointmentReminder.hours_before).where(
                AppointmentReminder.appointment_id == appointment.id
            )
        )
    ) == [2, 24]
    notes = _notes(centre.student.user_id)
    assert len(notes) == 2
    assert all("张三" not in note and "201" not in note for note in notes)


def test_no_reminder_for_a_cancelled_or_just_booked_appointment(centre: Centre) -> None:
    cancelled = centre.book(centre.student, centre.slot(20))
    changes.cancel(db.session, centre.student.user, cancelled, clock.now(), late_confirmed=True)
    centre.book(
        centre.classmate, centre.slot(20, counsellor=centre.male_counsellor), booked_at=clock.now()
    )
    assert reminders.reminder_sweep(db.session, clock.now()) == 0


# --------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------


def test_forged_or_other_students_appointment_ids_are_404(centre: Centre, login) -> None:
    theirs = centre.book(centre.classmate, centre.slot(48))
    client = login(centre.student.user)
    for url in (f"/appointments/changes/{theirs.id}/cancel", "/appointments/changes/99999/cancel"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"late_confirmed": "y"}).status_code == 404
    db.session.expire_all()
    assert theirs.state == AppointmentState.BOOKED
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.outcome == "denied"))
        == 4
    )


def test_late_cancel_page_asks_for_the_tick(centre: Centre, login) -> None:
    appointment = centre.book(centre.student, centre.slot(5))
    client = login(centre.student.user)
    url = f"/appointments/changes/{appointment.id}/cancel"
    page = client.get(url).get_data(as_text=True)
    assert "recorded as late" in page
    refused = client.post(url, data={})
    assert refused.status_code == 200
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert appointment.state == AppointmentState.BOOKED
    done = client.post(url, data={"late_confirmed": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert appointment.state == AppointmentState.LATE_CANCELLED


def test_the_late_cancel_refusal_reads_in_chinese_with_its_hours(centre: Centre, login) -> None:
    appointment = centre.book(centre.student, centre.slot(5))
    centre.student.user.locale = "zh_CN"
    db.session.commit()
    client = login(centre.student.user)
    refused = client.post(f"/appointments/changes/{appointment.id}/cancel", data={})
    assert "本次取消将记为临时取消，与爽约同样计数。请勾选确认。" in refused.get_data(as_text=True)


def test_reschedule_page_moves_and_refuses_a_forged_slot(centre: Centre, login) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    wanted = centre.slot(72)
    client = login(centre.student.user)
    url = f"/appointments/changes/{appointment.id}/reschedule"
    forged = client.post(url, data={"slot": "99999"})
    assert "free times listed" in forged.get_data(as_text=True)
    garbage = client.post(url, data={"slot": "tomorrow"})
    assert "free times listed" in garbage.get_data(as_text=True)
    db.session.expire_all()
    assert appointment.state == AppointmentState.BOOKED
    assert client.post(url, data={"slot": str(wanted.id)}).status_code == 302
    db.session.expire_all()
    assert appointment.state == AppointmentState.CANCELLED


@pytest.mark.parametrize(
    ("locale", "booked", "free"),
    [
        ("en", "Wed 16 Sep 10:00", "Thu 17 Sep 10:00 ·"),
        ("zh_CN", "9月16日 周三 10:00", "9月17日 周四 10:00 ·"),
    ],
)
def test_the_reschedule_list_gives_each_time_its_weekday_as_the_booking_page_does(
    centre: Centre, login, locale: str, booked: str, free: str
) -> None:
    """Before, the free times read "2026-09-17 10:00": a student choosing a day to come had to
    work out which weekday it was."""
    appointment = centre.book(centre.student, centre.slot(48))
    centre.slot(72)
    centre.student.user.locale = locale
    db.session.commit()
    page = login(centre.student.user).get(f"/appointments/changes/{appointment.id}/reschedule")
    text = page.get_data(as_text=True)
    assert booked in text  # the time now booked, as the booking summary says it
    assert free in text
    assert "2026" not in text


def test_centre_cancels_from_its_page_and_the_student_reads_why(centre: Centre, login) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    client = login(centre.counsellor)
    url = f"/appointments/changes/{appointment.id}/cancel"
    assert client.post(url, data={"reason": ""}).status_code == 200
    db.session.expire_all()
    assert appointment.state == AppointmentState.BOOKED
    assert client.post(url, data={"reason": "咨询师外出培训"}).status_code == 302
    client.post("/logout")
    student = login(centre.student.user)
    page = student.get(f"/appointments/changes/{appointment.id}").get_data(as_text=True)
    assert "Cancelled by the counselling centre" in page
    assert "咨询师外出培训" in page


def test_a_barred_student_sees_why_and_the_centre_phone(app, centre: Centre, login) -> None:
    centre.student.institution.on_duty_phone = "0731-2222-3333"
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    page = login(centre.student.user).get("/appointments/changes").get_data(as_text=True)
    assert "Booking is by the centre only for now" in page
    assert 'href="tel:0731-2222-3333"' in page
    assert "Join the waitlist" not in page


def test_a_barred_student_of_a_campus_without_a_number_is_told_where_to_go(
    app, centre: Centre, login
) -> None:
    centre.student.institution.on_duty_phone = None
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    page = login(centre.student.user).get("/appointments/changes").get_data(as_text=True)
    assert "Go to the counselling centre, or ask your department counsellor" in page
    assert 'href="tel:"' not in page
    assert "Call the counselling centre to agree a time" not in page


def test_director_lifts_from_the_list_others_may_not(centre: Centre, login, client) -> None:
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    counsellor = login(centre.counsellor)
    assert counsellor.get("/appointments/changes/barred").status_code == 403
    counsellor.post("/logout")
    director = login(centre.director)
    page = director.get("/appointments/changes/barred").get_data(as_text=True)
    assert "<td>张三</td>" in page
    other = f"/appointments/changes/barred/{centre.other_school_student.id}/lift"
    assert director.post(other, data={"reason": "x"}).status_code == 404
    lift = f"/appointments/changes/barred/{centre.student.id}/lift"
    director.post(lift, data={"reason": ""})
    assert not changes.may_self_book(db.session, centre.student)
    director.post(lift, data={"reason": "已面谈"})
    assert changes.may_self_book(db.session, centre.student)
    assert "<td>张三</td>" not in director.get("/appointments/changes/barred").get_data(
        as_text=True
    )


def test_booking_a_third_time_after_two_no_shows_is_for_the_centre(centre: Centre) -> None:
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    slot = centre.slot(48)
    with pytest.raises(booking.BookingError, match="by the centre only") as refused:
        booking.book(
            db.session,
            student=centre.student,
            slot=slot,
            booked_by=centre.student.user,
            kind=slot.kind,
        )
    assert refused.value.code == "barred"
    by_staff = booking.book(
        db.session, student=centre.student, slot=slot, booked_by=centre.counsellor, kind=slot.kind
    )
    assert by_staff.state == AppointmentState.BOOKED


def test_demo_has_a_student_booking_through_the_centre_and_one_waiting(campus) -> None:
    from appointments.changes_demo import seed_changes
    from appointments.models import SessionOutcome
    from appointments.models import WaitlistEntry

    centre = build(campus)
    group = campus.class_group(campus.department(centre.institution, "History"))
    for _n in range(20):
        campus.student(group)
    campus.commit()
    seed_changes(db.session, centre.institution)
    barred = changes.barred_students(db.session, centre.institution.id, clock.now())
    assert [b.misses for b in barred] == [2]
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 1
    # Each missed visit was recorded by its counsellor, so its page does not ask for an outcome.
    assert db.session.scalar(select(func.count(SessionOutcome.id))) == 2


def test_counsellor_opens_an_appointment_from_their_sessions_audited(centre: Centre, login) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    client = login(centre.counsellor)
    booked = client.get("/appointments/booked").get_data(as_text=True)
    assert f"/appointments/changes/{appointment.id}" in booked
    page = client.get(f"/appointments/changes/{appointment.id}").get_data(as_text=True)
    assert "张三" in page
    assert (
        db.session.scalar(
            select(AuditEvent.student_id).where(
                AuditEvent.action == "appointment_read", AuditEvent.outcome != "denied"
            )
        )
        == centre.student.id
    )


# --------------------------------------------------------------------------------------------------
# The student's home page
# --------------------------------------------------------------------------------------------------


def test_the_students_home_page_shows_their_next_appointment_where_and_with_whom(
    centre: Centre, login
) -> None:
    first = centre.book(centre.student, centre.slot(48))  # 2026-09-16 10:00 in Shanghai
    centre.book(centre.student, centre.slot(72, counsellor=centre.male_counsellor))
    centre.book(centre.classmate, centre.slot(24))
    client = login(centre.student.user)
    home = client.get("/").get_data(as_text=True)
    assert "Your next counselling session: Wed 16 Sep 10:00" in home
    assert f"Counsellor: {centre.counsellor.name} · Room: 心理中心 201" in home
    assert f'href="/appointments/changes/{first.id}"' in home
    assert "Sep 15" not in home  # the classmate's

    changes.cancel(db.session, centre.student.user, first, clock.now())
    home = client.get("/").get_data(as_text=True)
    assert "Your next counselling session: Thu 17 Sep 10:00" in home
    assert centre.male_counsellor.name in home


def test_a_student_without_an_appointment_sees_no_session_line(centre: Centre, login) -> None:
    centre.book(centre.classmate, centre.slot(24))
    centre.missed(centre.student, days_ago=2)
    home = login(centre.student.user).get("/").get_data(as_text=True)
    assert "Your next counselling session" not in home


def test_a_time_held_by_the_waitlist_is_on_the_students_home_page_until_answered(
    centre: Centre, login
) -> None:
    booked = centre.book(centre.classmate, centre.slot(30))
    entry = waitlist.join(db.session, centre.student.user, centre.student, Wishes(), clock.now())
    client = login(centre.student.user)
    assert "held for you" not in client.get("/").get_data(as_text=True)

    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    home = client.get("/").get_data(as_text=True)
    assert "A counselling time is held for you" in home
    # Held 12 hours from 10:00 in Shanghai.
    assert "Accept or decline it by today 22:00" in home
    assert 'href="/appointments/changes#offer-title"' in home
    assert "held for you" not in login(centre.third.user).get("/").get_data(as_text=True)

    client = login(centre.student.user)
    client.post(f"/appointments/changes/waitlist/{entry.id}/accept")
    home = client.get("/").get_data(as_text=True)
    assert "held for you" not in home
    assert "Your next counselling session: tomorrow 16:00" in home


# --------------------------------------------------------------------------------------------------
# What a move keeps, and who hears of it
# --------------------------------------------------------------------------------------------------


def test_a_move_keeps_the_kind_of_session(centre: Centre, login) -> None:
    """A first visit moved into a group session's seat was no longer the visit she asked for."""
    appointment = centre.book(centre.student, centre.slot(48))
    group = centre.slot(72, kind=SessionKind.GROUP, capacity=8)
    first_visit = centre.slot(96, counsellor=centre.male_counsellor)
    client = login(centre.student.user)
    url = f"/appointments/changes/{appointment.id}/reschedule"

    page = client.get(url).get_data(as_text=True)
    assert f'value="{first_visit.id}"' in page
    assert f'value="{group.id}"' not in page
    refused = client.post(url, data={"slot": str(group.id)}).get_data(as_text=True)
    assert "free times listed" in refused
    db.session.expire_all()
    assert appointment.state == AppointmentState.BOOKED
    with pytest.raises(ChangeError, match="free times listed"):
        changes.reschedule(db.session, centre.director, appointment, group, clock.now())


def test_the_pre_check_goes_with_the_moved_appointment(centre: Centre) -> None:
    """The reason and answers she gave are for whoever holds the session, not left on the
    cancelled one where no counsellor reads them."""
    answers = booking.PreCheckAnswers(
        reason="睡不着，压力很大", phq2={1: 2, 2: 2}, gad2={1: 2, 2: 2}, safety=0
    )
    appointment = booking.book(
        db.session,
        student=centre.student,
        slot=centre.slot(48),
        booked_by=centre.student.user,
        kind=SessionKind.FIRST_VISIT,
        precheck=answers,
        now=clock.now(),
    )
    new = changes.reschedule(
        db.session,
        centre.student.user,
        appointment,
        centre.slot(72, counsellor=centre.male_counsellor),
        clock.now(),
    )
    check = db.session.scalar(select(PreCheck).where(PreCheck.student_id == centre.student.id))
    assert check.appointment_id == new.id
    assert check.reason == "睡不着，压力很大"


def test_a_move_tells_each_counsellor_what_happened_and_the_student_nothing_she_did(
    centre: Centre,
) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    changes.reschedule(
        db.session,
        centre.student.user,
        appointment,
        centre.slot(72, counsellor=centre.male_counsellor),
        clock.now(),
    )
    assert _notes(centre.student.user_id) == []  # she moved it: no second "booked"
    assert _notes(centre.counsellor.id) == [changes.MOVED_AWAY_TEXT]
    assert _notes(centre.male_counsellor.id) == [booking.BOOKED_WITH_YOU_TEXT]


def test_a_move_within_one_counsellors_day_says_moved(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    changes.reschedule(db.session, centre.director, appointment, centre.slot(72), clock.now())
    assert _notes(centre.counsellor.id) == [changes.MOVED_TEXT]
    assert _notes(centre.student.user_id) == [
        "The counselling centre moved your appointment. See the new time."
    ]


def test_the_counsellor_hears_when_the_student_cancels(centre: Centre) -> None:
    appointment = centre.book(centre.student, centre.slot(48))
    changes.cancel(db.session, centre.student.user, appointment, clock.now())
    assert _notes(centre.counsellor.id) == [changes.CANCELLED_TEXT]


# --------------------------------------------------------------------------------------------------
# After a move: the old time reads as moved, and its old pages say where the booking is now
# --------------------------------------------------------------------------------------------------


def test_after_a_move_her_history_reads_moved_and_the_old_cancel_page_leads_to_the_new_time(
    centre: Centre, login
) -> None:
    """Before: her history read "… · cancelled" for a time she had moved, and Back to the old
    time's cancel page offered to cancel it again."""
    appointment = centre.book(centre.student, centre.slot(48))
    wanted = centre.slot(72)
    client = login(centre.student.user)
    assert (
        client.post(
            f"/appointments/changes/{appointment.id}/reschedule", data={"slot": str(wanted.id)}
        ).status_code
        == 302
    )
    new = db.session.scalar(
        select(Appointment).where(
            Appointment.slot_id == wanted.id, Appointment.state == AppointmentState.BOOKED
        )
    )
    assert new is not None

    history = (
        client.get("/appointments/mine")
        .get_data(as_text=True)
        .split("Past and cancelled</h2>", 1)[1]
    )
    assert "moved" in history
    assert f'href="/appointments/changes/{new.id}"' in history
    assert "cancelled" not in history

    for page in ("cancel", "reschedule"):
        gone = client.get(f"/appointments/changes/{appointment.id}/{page}").get_data(as_text=True)
        assert "This appointment was moved to another time" in gone
        assert f'href="/appointments/changes/{new.id}"' in gone
        assert "<form" not in gone.split("<main", 1)[1]
    sent = client.post(f"/appointments/changes/{appointment.id}/cancel", data={})
    assert sent.status_code == 409
    db.session.expire_all()
    assert new.state == AppointmentState.BOOKED


def test_back_to_a_booked_time_offers_its_change_of_time_not_a_new_booking(
    centre: Centre, login
) -> None:
    slot = centre.slot(48)
    appointment = centre.book(centre.student, slot)
    page = login(centre.student.user).get(f"/appointments/book/{slot.id}").get_data(as_text=True)
    held = page.split('id="held"', 1)[1].split("</section>", 1)[0]
    assert "This time is booked for you" in held
    assert f'href="/appointments/changes/{appointment.id}/reschedule"' in held
    assert "Book this time" not in page


def test_a_returning_students_booking_and_its_move_are_stored_as_the_follow_up_she_is_shown(
    centre: Centre, login
) -> None:
    """Before: the move page listed first-visit times as 后续咨询 to a student who had come before,
    and the booking it made was stored as a first visit."""
    earlier = centre.book(centre.student, centre.slot(-48))
    earlier.state = AppointmentState.ATTENDED
    db.session.commit()
    appointment = booking.book(
        db.session,
        student=centre.student,
        slot=centre.slot(48),
        booked_by=centre.student.user,
        kind=SessionKind.FIRST_VISIT,
    )
    assert appointment.kind is SessionKind.FOLLOW_UP
    wanted = centre.slot(72)  # published as a first-visit time
    client = login(centre.student.user)
    url = f"/appointments/changes/{appointment.id}/reschedule"
    option = client.get(url).get_data(as_text=True).split(f'id="slot-{wanted.id}"', 1)[1]
    assert option.split("</li>", 1)[0].endswith("Follow-up session</label>")
    assert client.post(url, data={"slot": str(wanted.id)}).status_code == 302
    moved = changes.moved_to(db.session, appointment)
    assert moved is not None
    assert (moved.slot.kind, moved.kind) == (SessionKind.FIRST_VISIT, SessionKind.FOLLOW_UP)
    # A newcomer's booking of the same kind of time stays her first visit.
    first = booking.book(
        db.session,
        student=centre.classmate,
        slot=centre.slot(96),
        booked_by=centre.classmate.user,
        kind=SessionKind.FIRST_VISIT,
    )
    assert first.kind is SessionKind.FIRST_VISIT
