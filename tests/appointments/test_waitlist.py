"""The waitlist: joining when nothing fits, offers of freed seats held for the waiting student,
accept, decline and lapse (issue #18)."""

from __future__ import annotations

import threading
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import changes
from appointments import seats
from appointments import waitlist
from appointments.changes import ChangeError
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import SessionKind
from appointments.models import WaitlistEntry
from appointments.models import WaitlistState
from appointments.waitlist import Wishes
from campus import clock
from campus.extensions import db
from campus.notifications import Notification
from tests.appointments.changes_world import Centre
from tests.appointments.changes_world import build


@pytest.fixture
def centre(campus) -> Centre:
    return build(campus)


def _join(centre: Centre, student, wishes: Wishes | None = None) -> WaitlistEntry:
    return waitlist.join(db.session, student.user, student, wishes or Wishes(), clock.now())


def _free_for(centre: Centre, student) -> list[int]:
    return [
        free.slot.id
        for free in seats.free_seats(
            db.session, centre.institution.id, clock.now(), for_student_id=student.id
        )
    ]


def test_join_only_when_nothing_fits(centre: Centre) -> None:
    centre.slot(48)
    with pytest.raises(ChangeError, match="free now: book it"):
        _join(centre, centre.student)
    # Asking for a man when only a woman counsellor is free: nothing fits, so the student waits.
    entry = _join(centre, centre.student, Wishes(counsellor_gender="M"))
    assert entry.state == WaitlistState.WAITING
    with pytest.raises(ChangeError, match="already on the waitlist"):
        _join(centre, centre.student, Wishes(counsellor_gender="M"))
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 1


def test_join_refuses_bad_dates_and_a_foreign_counsellor(campus, centre: Centre) -> None:
    today = clock.local_date(clock.now(), clock.institution_zone(centre.institution))
    with pytest.raises(ChangeError, match="already past"):
        _join(centre, centre.student, Wishes(latest_on=today - timedelta(days=1)))
    with pytest.raises(ChangeError, match="must not come after"):
        _join(
            centre,
            centre.student,
            Wishes(earliest_on=today + timedelta(days=5), latest_on=today + timedelta(days=2)),
        )
    with pytest.raises(ChangeError, match="from the list"):
        _join(centre, centre.student, Wishes(counsellor_id=centre.director.id))
    # A mistyped year: a time that would never be offered in this term.
    with pytest.raises(ChangeError) as far:
        _join(centre, centre.student, Wishes(earliest_on=today + timedelta(days=61)))
    assert far.value.args[0].shown() == "Choose days within the next 60 days."
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def test_the_waiting_student_sees_the_days_they_asked_for(centre: Centre, login) -> None:
    today = clock.local_date(clock.now(), clock.institution_zone(centre.institution))
    first, last = today + timedelta(days=3), today + timedelta(days=20)
    _join(centre, centre.student, Wishes(earliest_on=first, latest_on=last))
    page = login(centre.student.user).get("/appointments/changes").get_data(as_text=True)
    # Thursday 17 September to Sunday 4 October, as every day reads.
    assert "Days you can come: Thu 17 Sep to Sun 4 Oct." in page


def test_freed_slot_is_offered_to_the_waitlist_first_and_hidden_from_others(
    centre: Centre,
) -> None:
    slot = centre.slot(48)
    booked = centre.book(centre.classmate, slot)
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())

    db.session.refresh(entry)
    assert entry.state == WaitlistState.OFFERED
    assert entry.offered_slot_id == slot.id
    assert entry.offer_expires_at == clock.now() + timedelta(hours=12)
    assert _free_for(centre, centre.third) == []  # held: invisible to anybody else
    assert _free_for(centre, centre.student) == [slot.id]
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == centre.student.user_id)
    ).one()
    assert note.urgent
    assert "张三" not in note.text

    appointment = waitlist.accept(db.session, centre.student.user, entry, clock.now())
    assert appointment.state == AppointmentState.BOOKED
    assert appointment.slot_id == slot.id
    assert entry.state == WaitlistState.ACCEPTED
    assert entry.appointment_id == appointment.id
    with pytest.raises(ChangeError, match="no offer waiting"):
        waitlist.accept(db.session, centre.student.user, entry, clock.now())  # double submit
    assert (
        db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.state == AppointmentState.BOOKED)
        )
        == 1
    )


def test_an_offer_never_outlasts_the_slot_start(app, centre: Centre) -> None:
    slot = centre.slot(5)
    booked = centre.book(centre.classmate, slot)
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now(), late_confirmed=True)
    db.session.refresh(entry)
    assert entry.offer_expires_at == slot.starts_at


def test_the_offer_goes_to_the_first_matching_student(centre: Centre) -> None:
    slot = centre.slot(48, counsellor=centre.male_counsellor)
    booked = centre.book(centre.classmate, slot)
    wants_a_woman = _join(centre, centre.student, Wishes(counsellor_gender="F"))
    clock.advance(timedelta(minutes=1))
    anyone = _join(centre, centre.third)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    db.session.refresh(wants_a_woman)
    db.session.refresh(anyone)
    assert wants_a_woman.state == WaitlistState.WAITING
    assert anyone.state == WaitlistState.OFFERED


def test_an_offer_outside_the_wished_dates_is_not_made(centre: Centre) -> None:
    slot = centre.slot(24 * 10)
    booked = centre.book(centre.classmate, slot)
    today = clock.local_date(clock.now(), clock.institution_zone(centre.institution))
    entry = _join(centre, centre.student, Wishes(latest_on=today + timedelta(days=3)))
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    db.session.refresh(entry)
    assert entry.state == WaitlistState.WAITING
    assert _free_for(centre, centre.third) == [slot.id]


def test_offer_expiry_moves_on_to_the_next(centre: Centre) -> None:
    slot = centre.slot(48)
    booked = centre.book(centre.classmate, slot)
    first = _join(centre, centre.student)
    clock.advance(timedelta(minutes=1))
    second = _join(centre, centre.third)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    assert waitlist.expiry_sweep(db.session, clock.now()) == 0  # not yet
    clock.advance(timedelta(hours=12))
    assert waitlist.expiry_sweep(db.session, clock.now()) == 1
    assert waitlist.expiry_sweep(db.session, clock.now()) == 0  # a re-run changes nothing
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.state == WaitlistState.EXPIRED
    assert second.state == WaitlistState.OFFERED
    assert second.offered_slot_id == slot.id
    with pytest.raises(ChangeError, match="no offer waiting"):
        waitlist.accept(db.session, centre.student.user, first, clock.now())


def test_a_lapsed_offer_cannot_be_accepted_before_the_sweep(centre: Centre) -> None:
    booked = centre.book(centre.classmate, centre.slot(48))
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    clock.advance(timedelta(hours=13))
    with pytest.raises(ChangeError, match="lapsed"):
        waitlist.accept(db.session, centre.student.user, entry, clock.now())
    assert (
        db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.state == AppointmentState.BOOKED)
        )
        == 0
    )


def test_decline_passes_the_seat_on_and_keeps_waiting(centre: Centre) -> None:
    slot = centre.slot(48)
    booked = centre.book(centre.classmate, slot)
    first = _join(centre, centre.student)
    clock.advance(timedelta(minutes=1))
    second = _join(centre, centre.third)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    waitlist.decline(db.session, centre.student.user, first, clock.now())
    db.session.refresh(second)
    assert first.state == WaitlistState.WAITING
    assert first.declined_slot_id == slot.id
    assert second.state == WaitlistState.OFFERED


def test_new_slots_are_offered_by_the_sweep(centre: Centre) -> None:
    entry = _join(centre, centre.student, Wishes(kind=SessionKind.GROUP))
    centre.slot(48)  # a first visit: not what the student waits for
    group = centre.slot(72, kind=SessionKind.GROUP, capacity=8)
    waitlist.expiry_sweep(db.session, clock.now())
    db.session.refresh(entry)
    assert entry.state == WaitlistState.OFFERED
    assert entry.offered_slot_id == group.id


def test_leaving_while_offered_passes_the_seat_on(centre: Centre) -> None:
    booked = centre.book(centre.classmate, centre.slot(48))
    first = _join(centre, centre.student)
    clock.advance(timedelta(minutes=1))
    second = _join(centre, centre.third)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    waitlist.leave(db.session, centre.student.user, first, clock.now())
    db.session.refresh(second)
    assert first.state == WaitlistState.WITHDRAWN
    assert second.state == WaitlistState.OFFERED


def test_a_barred_student_cannot_wait_or_be_offered(centre: Centre) -> None:
    centre.missed(centre.student, days_ago=30)
    centre.missed(centre.student, days_ago=10)
    with pytest.raises(ChangeError, match="by the centre only"):
        _join(centre, centre.student, Wishes(counsellor_gender="M"))


def test_forged_entry_ids_and_other_students_entries(centre: Centre) -> None:
    booked = centre.book(centre.classmate, centre.slot(48))
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    assert waitlist.entry_for(db.session, centre.third.user, entry.id) is None
    assert waitlist.entry_for(db.session, centre.student.user, 99999) is None
    with pytest.raises(ChangeError, match="not your waitlist entry"):
        waitlist.accept(db.session, centre.third.user, entry, clock.now())
    db.session.refresh(entry)
    assert entry.state == WaitlistState.OFFERED


def test_accept_loses_to_a_concurrent_booking_and_keeps_waiting(centre: Centre) -> None:
    slot = centre.slot(48)
    booked = centre.book(centre.classmate, slot)
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    centre.book(centre.third, slot)  # a booking that ignored the hold (the race the index stops)
    with pytest.raises(ChangeError, match="taken after all"):
        waitlist.accept(db.session, centre.student.user, entry, clock.now())
    db.session.refresh(entry)
    assert entry.state == WaitlistState.WAITING
    assert entry.offered_slot_id is None


# --------------------------------------------------------------------------------------------------
# Races on PostgreSQL: two transactions at once
# --------------------------------------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    "postgresql" not in str(__import__("os").environ.get("TEST_DATABASE_URL", "")),
    reason="row locks and concurrent transactions are PostgreSQL's",
)


@postgres_only
def test_two_concurrent_cancellations_make_one_offer_per_student(app, centre: Centre) -> None:
    first_slot, second_slot = centre.slot(48), centre.slot(72)
    a = centre.book(centre.classmate, first_slot)
    b = centre.book(centre.third, second_slot)
    waiting = _join(centre, centre.student)
    ids = (a.id, b.id)
    now = clock.now()
    barrier = threading.Barrier(2, timeout=20)
    errors: list[BaseException] = []

    def cancel(appointment_id: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                appointment = session.get_one(Appointment, appointment_id)
                actor = appointment.student.user
                assert actor is not None
                barrier.wait()
                changes.cancel(session, actor, appointment, now)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=cancel, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    db.session.expire_all()
    assert waiting.state == WaitlistState.OFFERED
    # The other freed seat is free for everybody: no second offer to the same student.
    assert len(_free_for(centre, centre.classmate)) == 1


@postgres_only
def test_two_concurrent_accepts_book_once(app, centre: Centre) -> None:
    booked = centre.book(centre.classmate, centre.slot(48))
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    now, entry_id = clock.now(), entry.id
    barrier = threading.Barrier(2, timeout=20)
    outcomes: list[str] = []

    def accept() -> None:
        with app.app_context(), Session(db.engine) as session:
            mine = session.get_one(WaitlistEntry, entry_id)
            actor = mine.student.user
            assert actor is not None
            barrier.wait()
            try:
                waitlist.accept(session, actor, mine, now)
                outcomes.append("booked")
            except ChangeError:
                outcomes.append("refused")

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked", "refused"]
    assert (
        db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.state == AppointmentState.BOOKED)
        )
        == 1
    )


def test_date_wishes_use_the_institution_calendar(centre: Centre) -> None:
    # 2026-09-14 02:00 UTC is 10:00 in Changsha; a slot at 23:30 local the next day fits a
    # wish ending that day, though in UTC it is the same day 15:30.
    slot = centre.slot(24 + 13.5)
    booked = centre.book(centre.classmate, slot)
    entry = _join(centre, centre.student, Wishes(latest_on=date(2026, 9, 15)))
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    db.session.refresh(entry)
    assert entry.state == WaitlistState.OFFERED


def test_student_pages_join_see_the_offer_and_accept(centre: Centre, login) -> None:
    slot = centre.slot(48, counsellor=centre.male_counsellor)
    client = login(centre.student.user)
    assert "Join the waitlist" in client.get("/appointments/changes").get_data(as_text=True)
    refused = client.post("/appointments/changes/waitlist", data={}, follow_redirects=True)
    assert "free now: book it" in refused.get_data(as_text=True)
    forged = client.post("/appointments/changes/waitlist", data={"counsellor": "99999"})
    assert "from the list" in forged.get_data(as_text=True)
    bad_date = client.post("/appointments/changes/waitlist", data={"earliest_on": "next week"})
    assert bad_date.status_code == 200
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0
    joined = client.post(
        "/appointments/changes/waitlist", data={"counsellor_gender": "F"}, follow_redirects=True
    )
    assert "You are on the waitlist" in joined.get_data(as_text=True)
    entry = db.session.scalars(select(WaitlistEntry)).one()

    booked = centre.book(centre.classmate, centre.slot(30))
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    page = client.get("/appointments/changes").get_data(as_text=True)
    assert "A time is free for you" in page
    # Another student cannot answer this offer: the id is not theirs.
    client.post("/logout")
    other = login(centre.third.user)
    assert other.post(f"/appointments/changes/waitlist/{entry.id}/accept").status_code == 404
    other.post("/logout")
    client = login(centre.student.user)
    client.post(f"/appointments/changes/waitlist/{entry.id}/accept")
    db.session.expire_all()
    assert entry.state == WaitlistState.ACCEPTED
    assert slot.id not in [a.slot_id for a in db.session.scalars(select(Appointment))]


def test_a_held_seat_is_not_bookable_by_others_through_booking(centre: Centre) -> None:
    from appointments import booking

    slot = centre.slot(48)
    booked = centre.book(centre.classmate, slot)
    entry = _join(centre, centre.student)
    changes.cancel(db.session, centre.classmate.user, booked, clock.now())
    free = booking.free_slots(db.session, centre.institution.id, after=clock.now())
    assert slot.id not in [s.id for s in free]
    with pytest.raises(booking.BookingError) as refused:
        booking.book(
            db.session, student=centre.third, slot=slot, booked_by=centre.third.user, kind=slot.kind
        )
    assert refused.value.code == "taken"
    db.session.refresh(entry)
    assert entry.state == WaitlistState.OFFERED


def test_a_refused_waitlist_join_is_said_in_the_students_language(centre: Centre, login) -> None:
    """Before: the refusals of the waitlist and of changes came out in English on Chinese pages
    (their plain texts passed through untranslated)."""
    centre.slot(48)
    client = login(centre.student.user)
    client.post("/language/zh_CN", data={"next": "/"})
    refused = client.post("/appointments/changes/waitlist", data={}, follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert "free now: book it" not in page
    assert "现在就有符合你要求的空闲时间" in page
