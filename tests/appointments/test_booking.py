"""Booking a counselling appointment: the rules a student and the centre meet, the database's
guard against two students in one seat, the pre-check's safety answer, and the pages."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import booking
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import PreCheck
from appointments.models import SessionKind
from appointments.models import Slot
from appointments.models import SlotState
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from tests.appointments.booking_fixtures import Centre
from tests.conftest import Campus
from warning.models import Signal
from warning.policy import Level
from warning.services import open_warning

NEXT_FREE = booking.NEXT_FREE_COUNT
CALM = booking.PreCheckAnswers(reason="exam stress", phq2={1: 1, 2: 0}, gad2={1: 2, 2: 1}, safety=0)
SAFETY = booking.PreCheckAnswers(
    reason="not sleeping", phq2={1: 2, 2: 3}, gad2={1: 1, 2: 1}, safety=2
)


@pytest.fixture
def centre(campus: Campus) -> Centre:
    return Centre(campus)


def _count(model: type, *where: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _book(student: Student, slot: Slot, **kwargs: object) -> Appointment:
    # The fixtures' rows are committed first, as a request finds them: a refusal rolls back.
    db.session.commit()
    kwargs.setdefault("booked_by", student.user)
    kwargs.setdefault("kind", slot.kind)
    return booking.book(db.session, student=student, slot=slot, **kwargs)  # type: ignore[arg-type]


def _is_red(student_id: int) -> bool:
    warning = open_warning(db.session, student_id)
    return warning is not None and warning.level == Level.RED


# --- the service ------------------------------------------------------------------------------


def test_a_student_books_a_free_time_and_both_sides_are_told(centre: Centre) -> None:
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    student = centre.student()
    appointment = _book(student, slot, precheck=CALM)
    assert appointment.state == AppointmentState.BOOKED
    assert appointment.counsellor_id == counsellor.id
    check = db.session.scalar(select(PreCheck))
    assert check is not None
    assert check.appointment_id == appointment.id
    assert (check.phq2_total, check.phq2_band, check.gad2_total, check.gad2_band) == (
        1,
        "negative",
        3,
        "positive",
    )
    assert "gad2_positive" in check.flag_set
    told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {student.user_id, counsellor.id}
    # Mail and robots carry no name and no reason.
    texts = " ".join(db.session.scalars(select(Notification.text)))
    assert student.name not in texts
    assert "exam" not in texts


def test_a_slot_in_the_past_is_refused_with_the_next_free_times(centre: Centre) -> None:
    counsellor = centre.counsellor()
    past = centre.slot(counsellor, hours=-2)
    later = centre.slot(counsellor, hours=30)
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), past, precheck=CALM)
    assert refused.value.code == "past"
    assert [s.id for s in refused.value.next_free] == [later.id]
    assert _count(Appointment) == 0
    assert _count(PreCheck) == 0


def test_a_withdrawn_slot_is_refused(centre: Centre) -> None:
    slot = centre.slot(centre.counsellor(), state=SlotState.WITHDRAWN)
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), slot)
    assert refused.value.code == "withdrawn"
    assert _count(Appointment) == 0


def test_another_institutions_slot_is_refused_as_missing(campus: Campus, centre: Centre) -> None:
    other = Centre(campus, "OTH")
    foreign = other.slot(other.counsellor())
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), foreign)
    assert refused.value.code == "missing"
    assert _count(Appointment) == 0


def test_a_double_submit_books_once(centre: Centre) -> None:
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    first = _book(student, slot, submission_token="tok-1", precheck=CALM)
    again = _book(student, slot, submission_token="tok-1", precheck=CALM)
    assert again.id == first.id
    assert _count(Appointment) == 1
    assert _count(PreCheck) == 1


def test_another_students_form_token_returns_nothing_of_theirs(centre: Centre) -> None:
    counsellor = centre.counsellor()
    _book(centre.student(), centre.slot(counsellor), submission_token="tok-theirs")
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), centre.slot(counsellor, hours=40), submission_token="tok-theirs")
    assert refused.value.code == "double"
    assert _count(Appointment) == 1


def test_a_second_student_finds_the_slot_taken_and_is_offered_the_next(centre: Centre) -> None:
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    later = centre.slot(counsellor, hours=26)
    _book(centre.student(), slot)
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), slot)
    assert refused.value.code == "taken"
    assert [s.id for s in refused.value.next_free] == [later.id]
    assert _count(Appointment) == 1


def test_the_database_refuses_a_second_live_appointment_in_one_seat(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A race both requests win in Python: the unique index turns the loser into "taken", and
    the savepoint's rollback leaves the session usable and nothing of the loser written."""
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    later = centre.slot(counsellor, hours=48)
    winner = centre.student()
    _book(winner, slot)
    # The loser read the slot before the winner's commit: its checks saw a free seat.
    monkeypatch.setattr(booking, "_taken_seats", lambda session, slot: set())
    loser = centre.student()
    with pytest.raises(booking.BookingError) as refused:
        _book(loser, slot, precheck=CALM)
    assert refused.value.code == "taken"
    assert [s.id for s in refused.value.next_free] == [later.id]
    assert _count(Appointment) == 1
    assert _count(PreCheck) == 0
    assert _count(Appointment, Appointment.student_id == loser.id) == 0


def test_a_group_slot_seats_students_until_it_is_full(centre: Centre) -> None:
    slot = centre.slot(centre.counsellor(), kind=SessionKind.GROUP, capacity=2)
    seats = [_book(centre.student(), slot).seat for _ in range(2)]
    assert seats == [1, 2]
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), slot)
    assert refused.value.code == "taken"


def test_a_student_holds_one_upcoming_appointment_at_a_time(centre: Centre) -> None:
    counsellor = centre.counsellor()
    student = centre.student()
    _book(student, centre.slot(counsellor))
    with pytest.raises(booking.BookingError) as refused:
        _book(student, centre.slot(counsellor, hours=50))
    assert refused.value.code == "limit"
    assert _count(Appointment) == 1


def test_the_limit_is_configuration(app: Flask, centre: Centre) -> None:
    app.config["BOOKING_MAX_OPEN"] = 2
    try:
        counsellor = centre.counsellor()
        student = centre.student()
        _book(student, centre.slot(counsellor))
        _book(student, centre.slot(counsellor, hours=50))
    finally:
        app.config["BOOKING_MAX_OPEN"] = 1
    assert _count(Appointment) == 2


def test_a_barred_student_may_not_book_themself_but_staff_may(
    campus: Campus, centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(booking, "may_self_book", lambda s, st, now: "Too many missed sessions.")
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    with pytest.raises(booking.BookingError) as refused:
        _book(student, slot)
    assert refused.value.code == "barred"
    director = campus.staff(centre.institution, Role.DIRECTOR)
    assert _book(student, slot, booked_by=director).booked_by_id == director.id


def test_a_follow_up_is_self_booked_only_with_a_counsellor_seen_before(centre: Centre) -> None:
    seen, unseen = centre.counsellor(), centre.counsellor()
    student = centre.student()
    done = _book(student, centre.slot(seen, hours=1))
    done.state = AppointmentState.ATTENDED
    db.session.commit()
    with pytest.raises(booking.BookingError) as refused:
        _book(student, centre.slot(unseen, kind=SessionKind.FOLLOW_UP))
    assert refused.value.code == "kind"
    follow_up = _book(student, centre.slot(seen, hours=60, kind=SessionKind.FOLLOW_UP))
    assert follow_up.kind == SessionKind.FOLLOW_UP


def test_first_free_honours_gender_and_a_counsellor_seen_before(centre: Centre) -> None:
    woman, man = centre.counsellor("F"), centre.counsellor("M")
    early_woman = centre.slot(woman, hours=5)
    early_man = centre.slot(man, hours=6)
    student = centre.student()
    now = booking.clock.now()
    assert booking.first_free(db.session, student, now=now) == early_woman
    assert booking.first_free(db.session, student, now=now, gender="M") == early_man
    assert booking.first_free(db.session, student, now=now, counsellor_id=man.id) == early_man
    _book(centre.student(), early_man)
    assert booking.first_free(db.session, student, now=now, gender="M") is None


# --- the pre-check's safety answer ------------------------------------------------------------


def test_a_safety_answer_raises_a_red_warning_with_the_booking(centre: Centre) -> None:
    student = centre.student()
    appointment = _book(student, centre.slot(centre.counsellor()), precheck=SAFETY)
    check = db.session.scalar(select(PreCheck))
    assert check is not None
    assert check.appointment_id == appointment.id
    assert check.safety_signal_id is not None
    assert _is_red(student.id)


def test_a_safety_answer_raises_red_even_when_the_slot_was_just_taken(centre: Centre) -> None:
    slot = centre.slot(centre.counsellor())
    _book(centre.student(), slot)
    student = centre.student()
    with pytest.raises(booking.BookingError) as refused:
        _book(student, slot, precheck=SAFETY, submission_token="t-safety")
    assert refused.value.code == "taken"
    assert refused.value.safety
    assert _count(Appointment, Appointment.student_id == student.id) == 0
    kept = db.session.scalar(select(PreCheck).where(PreCheck.student_id == student.id))
    assert kept is not None
    assert kept.appointment_id is None
    assert _is_red(student.id)
    # Booking the next time with the same form keeps the one check and its one signal.
    again = _book(
        student,
        centre.slot(slot.counsellor, hours=70),
        precheck=SAFETY,
        submission_token="t-safety",
    )
    assert _count(PreCheck, PreCheck.student_id == student.id) == 1
    assert _count(Signal, Signal.student_id == student.id) == 1
    assert again.state == AppointmentState.BOOKED


def test_a_safety_answer_in_an_incomplete_check_still_raises_red(centre: Centre) -> None:
    student = centre.student()
    half = booking.PreCheckAnswers(reason="", phq2={1: 1}, gad2={}, safety="1")
    with pytest.raises(booking.BookingError) as refused:
        _book(student, centre.slot(centre.counsellor()), precheck=half)
    assert refused.value.code == "precheck"
    assert refused.value.safety
    assert len(refused.value.problems) == 2
    assert _count(Appointment) == 0
    assert _is_red(student.id)


def test_forged_answers_book_nothing(centre: Centre) -> None:
    forged = booking.PreCheckAnswers(reason="x", phq2={1: 9, 2: 0}, gad2={1: 0, 2: 0}, safety=0)
    with pytest.raises(booking.BookingError) as refused:
        _book(centre.student(), centre.slot(centre.counsellor()), precheck=forged)
    assert refused.value.code == "precheck"
    assert not refused.value.safety
    assert _count(Appointment) == 0
    assert _count(PreCheck) == 0
    assert _count(Signal) == 0


# --- two requests at once, on PostgreSQL --------------------------------------------------------


def test_two_students_racing_for_one_slot_one_wins_the_other_is_offered_the_next(
    app: Flask, centre: Centre
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time; the race needs PostgreSQL")
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    later = centre.slot(counsellor, hours=30)
    students = [centre.student(), centre.student()]
    ids = [(s.id, s.user_id) for s in students]
    slot_id, later_id = slot.id, later.id
    db.session.commit()
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def attempt(n: int) -> None:
        with app.app_context(), Session(db.engine) as session:
            student = session.get(Student, ids[n][0])
            user = session.get(User, ids[n][1])
            target = session.get(Slot, slot_id)
            assert student
            assert user
            assert target
            # Both have read the free slot before either writes.
            booking.free_slots(session, target.institution_id, after=booking.clock.now())
            start.wait(timeout=10)
            try:
                booking.book(
                    session, student=student, slot=target, booked_by=user, kind=target.kind
                )
                outcomes[n] = "booked"
            except booking.BookingError as refused:
                outcomes[n] = (refused.code, [s.id for s in refused.next_free])

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes, key=str) == sorted(["booked", ("taken", [later_id])], key=str)
    assert _count(Appointment, Appointment.slot_id == slot_id) == 1


def test_the_same_form_sent_twice_at_once_books_once(app: Flask, centre: Centre) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time; the race needs PostgreSQL")
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    student_id, user_id, slot_id = student.id, student.user_id, slot.id
    db.session.commit()
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def attempt(n: int) -> None:
        with app.app_context(), Session(db.engine) as session:
            who = session.get(Student, student_id)
            user = session.get(User, user_id)
            target = session.get(Slot, slot_id)
            assert who is not None
            assert user is not None
            assert target is not None
            start.wait(timeout=10)
            try:
                made = booking.book(
                    session,
                    student=who,
                    slot=target,
                    booked_by=user,
                    kind=target.kind,
                    submission_token="same-page",
                    precheck=CALM,
                )
                outcomes[n] = made.id
            except booking.BookingError as refused:
                outcomes[n] = refused.code

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    booked = db.session.scalars(select(Appointment.id).where(Appointment.slot_id == slot_id)).all()
    assert len(booked) == 1
    assert outcomes == [booked[0], booked[0]]
    assert _count(PreCheck) == 1


# --- staff booking ------------------------------------------------------------------------------


def test_the_centre_books_for_a_student_and_the_booking_is_audited(
    campus: Campus, centre: Centre
) -> None:
    school = campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    student = centre.student()
    appointment = _book(student, centre.slot(centre.counsellor()), booked_by=school)
    assert appointment.booked_by_id == school.id
    assert _count(AuditEvent, AuditEvent.action == "book_for", AuditEvent.actor_id == school.id)


def test_a_department_counsellor_books_only_for_their_own_department(
    campus: Campus, centre: Centre
) -> None:
    other_department = campus.department(centre.institution, "History")
    outsider = campus.student(campus.class_group(other_department))
    mine = centre.student()
    fudaoyuan = campus.staff(centre.institution, Role.DEPT_COUNSELLOR, department=centre.department)
    leader = campus.staff(centre.institution, Role.DEPT_LEADER, department=centre.department)
    counsellor = centre.counsellor()
    assert _book(mine, centre.slot(counsellor), booked_by=fudaoyuan).booked_by_id == fudaoyuan.id
    for hours, student, actor in ((80, outsider, fudaoyuan), (90, mine, leader)):
        with pytest.raises(booking.BookingError) as refused:
            _book(student, centre.slot(counsellor, hours=hours), booked_by=actor)
        assert refused.value.code == "forbidden"


# --- the pages ------------------------------------------------------------------------------


def _precheck_form(answers: booking.PreCheckAnswers, page: str = "page-1") -> dict[str, str]:
    form = {"token": page, "reason": answers.reason, "safety": str(answers.safety)}
    form |= {f"phq2_{n}": str(v) for n, v in answers.phq2.items()}
    form |= {f"gad2_{n}": str(v) for n, v in answers.gad2.items()}
    return form


# An empty list says why, truly: a walk on a new campus read "try without a preference" with
# "no preference" already chosen, and nothing said the centre had opened no time yet.
NONE_OPENED = "has not opened any times for booking in the next two weeks"
ALL_BOOKED = "Every time the centre has opened for the next two weeks is booked."
OTHERS_FREE = "but other counsellors have free times"
WITHOUT_PREFERENCE = ("without a preference", "Show every free time")


def _book_page(client: FlaskClient, query: str = "") -> str:
    response = client.get("/appointments/book" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_centre_that_opened_no_time_yet_says_so_with_its_phones_and_the_waitlist(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    centre.institution.on_duty_phone = "0731-2222-3333"
    centre.counsellor()
    student = centre.student()
    centre.campus.commit()
    page = _book_page(login(student.user))
    assert NONE_OPENED in page
    assert not any(words in page for words in WITHOUT_PREFERENCE)
    assert 'href="tel:0731-2222-3333"' in page
    assert 'href="tel:400-161-9995"' in page
    assert 'href="/appointments/changes/waitlist"' in page
    # A preference changes nothing when there is no time at all: no "without a preference".
    with_preference = _book_page(login(student.user), "?gender=M")
    assert NONE_OPENED in with_preference
    assert not any(words in with_preference for words in WITHOUT_PREFERENCE)


def test_a_centre_whose_times_are_all_booked_says_so_not_that_none_were_opened(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    _book(centre.student(), centre.slot(counsellor))
    student = centre.student()
    centre.campus.commit()
    page = _book_page(login(student.user))
    assert ALL_BOOKED in page
    assert NONE_OPENED not in page
    assert not any(words in page for words in WITHOUT_PREFERENCE)


def test_no_time_matching_a_preference_offers_every_free_time(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    centre.slot(centre.counsellor(gender="F"))
    student = centre.student()
    centre.campus.commit()
    client = login(student.user)
    page = _book_page(client, "?gender=M")
    assert OTHERS_FREE in page
    assert 'href="/appointments/book">' in page  # the list without the preference
    assert NONE_OPENED not in page
    assert ALL_BOOKED not in page
    assert page.count('href="/appointments/book/') == 0
    assert OTHERS_FREE not in _book_page(client)  # without it, the time is listed
    # "The first free time" finds none either and keeps the preference on the way back.
    first = client.get("/appointments/book/first?gender=M")
    assert first.headers["Location"].endswith("/appointments/book?gender=M")


def test_a_student_already_waiting_is_told_so_instead_of_asked_to_join(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    from appointments import waitlist

    centre.counsellor()
    student = centre.student()
    centre.campus.commit()
    waitlist.join(db.session, student.user, student, waitlist.Wishes(), clock.now())
    page = _book_page(login(student.user))
    assert NONE_OPENED in page
    assert "You are on the waitlist." in page
    assert 'href="/appointments/changes/waitlist"' not in page


@pytest.mark.parametrize(
    ("locale", "days"),
    [
        ("en", ["Thu 31 Dec", "Fri 1 Jan 2027"]),
        ("zh_CN", ["12月31日 周四", "2027年1月1日 周五"]),
    ],
)
def test_the_booking_days_drop_this_years_year_and_keep_next_years(
    centre: Centre, login: Callable[[User], FlaskClient], locale: str, days: list[str]
) -> None:
    """A phone line has no room for the year the student knows ("2026年12月31日 星期四" read
    long); a time in January seen on 31 December keeps its year."""
    clock.set_now(datetime(2026, 12, 31, 2, 0))  # 10:00 on New Year's Eve in Shanghai
    counsellor = centre.counsellor()
    centre.slot(counsellor, hours=4)  # 14:00 today
    centre.slot(counsellor, hours=24)  # 10:00 on 1 January
    student = centre.student()
    student.user.locale = locale
    centre.campus.commit()
    page = login(student.user).get("/appointments/book").get_data(as_text=True)
    assert re.findall(r"<h3>([^<]+)</h3>", page) == days
    assert "2026" not in page


def test_the_student_sees_free_times_by_day_and_books_the_first(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    first = centre.slot(counsellor, hours=3)
    centre.slot(counsellor, hours=27)
    student = centre.student()
    centre.campus.commit()
    client = login(student.user)
    page = client.get("/appointments/book")
    assert page.status_code == 200
    assert page.data.count(b'href="/appointments/book/') == 2
    chosen = client.get("/appointments/book/first")
    assert chosen.headers["Location"].endswith(f"/appointments/book/{first.id}")
    done = client.post(f"/appointments/book/{first.id}", data=_precheck_form(CALM))
    assert done.status_code == 302
    confirmation = client.get(done.headers["Location"])
    assert b"Your appointment is booked" in confirmation.data
    assert b"You do not have to face this alone" not in confirmation.data
    assert b"/appointments/book/" not in client.get("/appointments/mine").data


def test_a_lost_race_on_the_page_shows_the_next_free_times_and_keeps_the_answers(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    later = centre.slot(counsellor, hours=33)
    _book(centre.student(), slot)
    student = centre.student()
    centre.campus.commit()
    client = login(student.user)
    refused = client.post(f"/appointments/book/{slot.id}", data=_precheck_form(SAFETY))
    assert refused.status_code == 303
    page = client.get(refused.headers["Location"])
    assert b"This time has just been taken" in page.data
    assert f'formaction="/appointments/book/{later.id}"'.encode() in page.data
    assert b"You do not have to face this alone" in page.data
    assert b"not sleeping" in page.data
    assert _is_red(student.id)


def test_a_taken_time_says_so_before_the_student_answers(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    later = centre.slot(counsellor, hours=33)
    _book(centre.student(), slot)
    student = centre.student()
    centre.campus.commit()
    page = login(student.user).get(f"/appointments/book/{slot.id}")
    assert b"This time has just been taken" in page.data
    assert f'formaction="/appointments/book/{later.id}"'.encode() in page.data


def test_a_forged_slot_id_is_not_found(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    other = Centre(campus, "OTH")
    foreign = other.slot(other.counsellor())
    student = centre.student()
    campus.commit()
    client = login(student.user)
    assert client.get("/appointments/book/999999").status_code == 404
    assert (
        client.post(f"/appointments/book/{foreign.id}", data=_precheck_form(CALM)).status_code
        == 404
    )
    assert _count(Appointment) == 0
    assert _count(PreCheck) == 0


def test_staff_book_from_the_student_file_and_out_of_reach_is_not_found(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    outsider = campus.student(campus.class_group(campus.department(centre.institution, "Art")))
    fudaoyuan = campus.staff(centre.institution, Role.DEPT_COUNSELLOR, department=centre.department)
    campus.commit()
    client = login(fudaoyuan)
    assert client.get(f"/appointments/for/{outsider.id}").status_code == 404
    assert client.get(f"/appointments/for/{outsider.id}/book/{slot.id}").status_code == 404
    assert client.get(f"/appointments/for/{student.id}/book/999999").status_code == 404
    page = client.get(f"/appointments/for/{student.id}")
    assert page.status_code == 200
    confirm = f"/appointments/for/{student.id}/book/{slot.id}"
    assert f'href="{confirm}"'.encode() in page.data
    done = client.post(confirm, data={"token": "s1"})
    assert done.status_code == 302
    reads = select(AuditEvent.student_id).where(AuditEvent.actor_id == fudaoyuan.id)
    assert set(db.session.scalars(reads)) >= {student.id, None}  # the page, the denied probe
    assert _count(Appointment, Appointment.student_id == student.id) == 1


def test_staff_see_what_a_time_books_before_booking_it_and_a_second_submit_books_once(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: tapping a time on the page booked it there and then, for a student the
    counsellor might have mistaken, with nothing said first of when, where or with whom."""
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor, hours=26)
    student = centre.student()
    school = campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    client = login(school)
    confirm = f"/appointments/for/{student.id}/book/{slot.id}"

    page = client.get(confirm)
    assert page.status_code == 200
    shown = page.get_data(as_text=True).split("<main", 1)[1]
    assert f"Book this time for {student.name}?" in shown
    assert student.student_number in shown
    assert counsellor.name in shown
    assert slot.room in shown
    assert "tomorrow 12:00" in shown  # 04:00 UTC is noon in China
    assert "First visit" in shown
    assert '<button type="submit" class="primary">Book this time</button>' in shown
    assert f'href="/appointments/for/{student.id}"' in shown  # the way back
    assert _count(Appointment) == 0  # looking books nothing

    done = client.post(confirm, data={"token": "once"})
    again = client.post(confirm, data={"token": "once"})  # the button pressed twice
    assert done.status_code == again.status_code == 302
    assert again.location == done.location
    assert _count(Appointment) == 1
    told = select(func.count()).where(Notification.user_id == counsellor.id)
    assert db.session.scalar(told) == 1
    page = client.get(again.location).get_data(as_text=True)
    assert "nothing was booked twice" in page
    assert f"Booked for {student.name}" in page

    # Back pressed after booking: the step says this time is booked, with the appointment.
    (made,) = db.session.scalars(select(Appointment))
    back = client.get(confirm).get_data(as_text=True).split("<main", 1)[1]
    assert f"Booked for {student.name}" in back
    assert "This time is booked for the student." in back
    assert f'href="/appointments/changes/{made.id}"' in back
    assert "already has an upcoming appointment" not in back
    assert "Book this time</button>" not in back


def test_a_time_taken_while_staff_confirm_it_is_said_with_the_next_times_and_books_nothing(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    slot, later = centre.slot(counsellor, hours=26), centre.slot(counsellor, hours=50)
    student, quicker = centre.student(), centre.student()
    school = campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    client = login(school)
    confirm = f"/appointments/for/{student.id}/book/{slot.id}"
    assert "Book this time" in client.get(confirm).get_data(as_text=True)

    _book(quicker, slot, precheck=CALM)  # another student takes it meanwhile
    refused = client.post(confirm, data={"token": "late"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "This time has just been taken. Here are the next free times." in page
    assert f'href="/appointments/for/{student.id}/book/{later.id}"' in page
    assert "Book this time</button>" not in page
    assert _count(Appointment, Appointment.student_id == student.id) == 0
    # Opened again, the step says so at once rather than offering the button.
    page = client.get(confirm).get_data(as_text=True)
    assert "This time has just been taken" in page
    assert "Book this time</button>" not in page


def test_the_booking_confirmation_leads_back_to_the_warning_page_and_the_file(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    fudaoyuan = campus.staff(centre.institution, Role.DEPT_COUNSELLOR, department=centre.department)
    campus.commit()
    client = login(fudaoyuan)
    done = client.post(f"/appointments/for/{student.id}/book/{slot.id}", data={"token": "s1"})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    top = page.split("<main", 1)[1].split("<h1", 1)[0]
    assert f'href="/warnings/students/{student.id}"' in top  # the back link, above the heading
    booked = page.split('id="done-h"', 1)[1].split("</section>", 1)[0]
    assert f'href="/warnings/students/{student.id}"' in booked
    assert f'href="/casework/students/{student.id}"' in booked
    assert client.get(f"/warnings/students/{student.id}").status_code == 200
    assert client.get(f"/casework/students/{student.id}").status_code == 200


def test_a_student_already_booked_is_said_so_first_with_the_way_to_move_it_not_offered_times(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: every free time was offered, and each click said "这名学生已有一个尚未进行的预约"
    with no way on. Now the booked one comes first, with its page and its change of time for
    the centre, and no time is offered that could only be refused."""
    counsellor = centre.counsellor()
    booked = _book(centre.student(), centre.slot(counsellor, hours=30))
    other_time = centre.slot(counsellor, hours=50)
    school = campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    fudaoyuan = campus.staff(centre.institution, Role.DEPT_COUNSELLOR, department=centre.department)
    campus.commit()
    url = f"/appointments/for/{booked.student_id}"

    page = login(school).get(url).get_data(as_text=True)
    first = page.split('id="booked-h"', 1)[1].split("</section>", 1)[0]
    assert "This student already has an upcoming appointment" in first
    assert counsellor.name in first
    assert f'href="/appointments/changes/{booked.id}"' in first
    assert f'href="/appointments/changes/{booked.id}/reschedule"' in first
    assert f'/book/{other_time.id}"' not in page

    page = login(fudaoyuan).get(url).get_data(as_text=True)
    assert "ask the centre" in page
    assert f"/appointments/changes/{booked.id}" not in page  # not hers to open or move
    assert f'/book/{other_time.id}"' not in page


def test_a_student_with_no_upcoming_appointment_is_offered_the_free_times(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    slot = centre.slot(centre.counsellor())
    student = centre.student()
    school = campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    page = login(school).get(f"/appointments/for/{student.id}").get_data(as_text=True)
    assert 'id="booked-h"' not in page
    assert f'href="/appointments/for/{student.id}/book/{slot.id}"' in page


def test_the_pre_check_is_read_by_the_sessions_counsellor_and_the_read_is_audited(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor, colleague = centre.counsellor(), centre.counsellor()
    student = centre.student()
    _book(student, centre.slot(counsellor), precheck=CALM)
    check_id = db.session.scalar(select(PreCheck.id))
    client = login(counsellor)
    assert f"/appointments/precheck/{check_id}".encode() in client.get("/appointments/booked").data
    assert _count(
        AuditEvent, AuditEvent.action == "list_booked", AuditEvent.student_id == student.id
    )
    page = client.get(f"/appointments/precheck/{check_id}")
    assert page.status_code == 200
    assert b"exam stress" in page.data
    assert _count(
        AuditEvent,
        AuditEvent.record_type == "appointment_precheck",
        AuditEvent.actor_id == counsellor.id,
    )
    client.get("/logout")
    assert login(colleague).get(f"/appointments/precheck/{check_id}").status_code == 404


def test_the_session_page_shows_the_pre_check_with_the_safety_answer_first(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    student = centre.student()
    appointment = _book(student, centre.slot(counsellor), precheck=SAFETY)
    director = campus.staff(centre.institution, Role.DIRECTOR)
    campus.commit()
    for reader in (counsellor, director):
        client = login(reader)
        page = client.get(f"/appointments/sessions/{appointment.id}").get_data(as_text=True)
        card = page.split('id="precheck"', 1)[1].split("</section>", 1)[0]
        assert "not sleeping" in card
        # The safety answer leads, marked, with the red warning it raised.
        assert card.index('id="precheck-safety"') < card.index("not sleeping")
        assert "Safety answer" in card
        assert "A red warning was raised with this answer." in card
        if reader is director:
            assert f'href="/warnings/students/{student.id}"' in card
        assert _count(
            AuditEvent,
            AuditEvent.record_type == "appointment_precheck",
            AuditEvent.action == "read",
            AuditEvent.actor_id == reader.id,
        )
        client.get("/logout")


def test_the_session_page_hides_a_pre_check_its_reader_may_not_read(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    trainee, supervisor = centre.counsellor(), centre.counsellor()
    profile = db.session.scalar(
        select(CounsellorProfile).where(CounsellorProfile.user_id == trainee.id)
    )
    assert profile is not None
    profile.is_trainee, profile.supervisor_id = True, supervisor.id
    appointment = _book(centre.student(), centre.slot(trainee), precheck=CALM)
    page = login(supervisor).get(f"/appointments/sessions/{appointment.id}")
    assert page.status_code == 200
    card = page.get_data(as_text=True).split('id="precheck"', 1)[1].split("</section>", 1)[0]
    assert "exam stress" not in card
    assert "read by the session's counsellor" in card
    assert not _count(
        AuditEvent,
        AuditEvent.record_type == "appointment_precheck",
        AuditEvent.actor_id == supervisor.id,
    )


def test_after_a_session_its_counsellor_books_the_next_one_from_the_session_page(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: the session page's 下次预约 card said only that none was booked, with no way to
    book one."""
    counsellor, colleague = centre.counsellor(), centre.counsellor()
    student = centre.student()
    held = _book(student, centre.slot(counsellor, hours=1))
    held.starts_at = held.slot.starts_at = clock.now() - timedelta(hours=3)  # held this morning
    held.state = AppointmentState.ATTENDED
    sooner = centre.slot(colleague, hours=30)  # another counsellor's time comes first
    mine = centre.slot(counsellor, hours=24 * 13, kind=SessionKind.FOLLOW_UP)
    campus.commit()
    client = login(counsellor)
    session_url = f"/appointments/sessions/{held.id}"
    page = client.get(session_url).get_data(as_text=True)
    card = page.split('id="next-h"', 1)[1].split("</section>", 1)[0]
    found = re.search(r'id="book-next" href="([^"]+)"', card)
    assert found is not None
    listing = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f'href="{session_url}"' in listing  # its way back
    times = listing.split('id="book-times"', 1)[1]
    assert f"/book/{mine.id}?" in times
    assert f"/book/{sooner.id}?" not in times  # every counsellor's times are one link away
    assert "Every counsellor's free times" in listing.replace("&#39;", "'")
    confirm = f"/appointments/for/{student.id}/book/{mine.id}"
    done = client.post(
        f"{confirm}?back=session-{held.id}&counsellor={counsellor.id}", data={"token": "n1"}
    )
    assert done.status_code == 302
    booked = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f'href="{session_url}"' in booked
    page = client.get(session_url).get_data(as_text=True)
    card = page.split('id="next-h"', 1)[1].split("</section>", 1)[0]
    assert 'id="book-next"' not in card
    assert counsellor.name in card


# --- demo -------------------------------------------------------------------------------------


def test_the_demo_gives_the_student_free_times_and_the_counsellors_sessions(
    campus: Campus, centre: Centre
) -> None:
    from appointments import booking_demo

    for _ in range(2):
        campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    students = [centre.student() for _ in range(4)]
    campus.commit()
    booking_demo.seed_bookings(db.session, centre.institution)
    demo_student = max(students, key=lambda s: s.student_number)
    now = booking.clock.now()
    assert booking.free_slots(db.session, centre.institution.id, after=now)
    assert [u.id for u in booking.counsellors_seen(db.session, demo_student)]
    assert _count(Appointment, Appointment.state == AppointmentState.BOOKED) == 3
    assert _count(PreCheck) == 3


def test_a_calm_student_who_lost_the_race_is_told_at_once_and_nothing_is_written(
    centre: Centre, login: Callable[[User], FlaskClient], count_queries
) -> None:
    """The commonest answer of a booking rush: refused before anything is written, its next
    free times (each with its counsellor's name) read at the same cost whether they belong to
    one counsellor or to several."""
    slot = centre.slot(centre.counsellor())
    _book(centre.student(), slot)

    def lose_the_race(page: str, counsellors: list[User], hours: int) -> int:
        later = [centre.slot(c, hours=hours + n) for n, c in enumerate(counsellors)]
        student = centre.student()
        centre.campus.commit()
        client = login(student.user)
        with count_queries() as counted:
            refused = client.post(
                f"/appointments/book/{slot.id}",
                data=_precheck_form(CALM, page),
                follow_redirects=True,
            )
        assert refused.status_code == 200
        for time in later:
            assert f'formaction="/appointments/book/{time.id}"'.encode() in refused.data
            assert time.counsellor.name.encode() in refused.data
        assert not [s for s in counted.statements if s.lstrip().upper().startswith("INSERT")]
        stored = select(func.count(PreCheck.id)).where(PreCheck.student_id == student.id)
        assert db.session.scalar(stored) == 0
        return counted.count

    # The second student is offered three counsellors' times, earlier than the first's.
    one = centre.counsellor()
    several = [centre.counsellor() for _ in range(NEXT_FREE)]
    assert lose_the_race("page-1", [one] * NEXT_FREE, 40) == lose_the_race("page-2", several, 30)


# --- what a session is for the student who comes ----------------------------------------------


def _attended(appointment: Appointment) -> Appointment:
    appointment.state = AppointmentState.ATTENDED
    db.session.commit()
    return appointment


def _kinds_listed(page: str) -> list[str]:
    return re.findall(r"First visit|Follow-up session|Group session", page)


def test_a_returning_students_first_visit_time_reads_as_a_follow_up_to_her_and_her_counsellor(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: a student who had come before and asked for "any counsellor" is offered
    first-visit times, and her booking read 初次咨询 (first visit) on her page and on her
    counsellor's calendar."""
    counsellor = centre.counsellor()
    returning, newcomer = centre.student(), centre.student()
    _attended(_book(returning, centre.slot(counsellor, hours=1)))
    _book(returning, centre.slot(counsellor, hours=48))
    _book(newcomer, centre.slot(counsellor, hours=50))
    centre.campus.commit()

    hers = login(returning.user).get("/appointments/changes").get_data(as_text=True)
    assert _kinds_listed(hers) == ["Follow-up session"]
    theirs = login(newcomer.user).get("/appointments/changes").get_data(as_text=True)
    assert _kinds_listed(theirs) == ["First visit"]

    calendar = login(counsellor).get(f"/appointments/availability/counsellors/{counsellor.id}")
    coming = calendar.get_data(as_text=True).split('id="h-coming"')[1].split("</section>")[0]
    # Her first session (attended) was her first visit; the next is a follow-up.
    assert _kinds_listed(coming) == ["First visit", "Follow-up session", "First visit"]


def test_a_group_session_attended_is_no_first_visit(centre: Centre) -> None:
    counsellor = centre.counsellor()
    student = centre.student()
    _attended(_book(student, centre.slot(counsellor, hours=1, kind=SessionKind.GROUP)))
    later = centre.slot(counsellor, hours=48)
    assert booking.visit_kind_for(db.session, student.id, later) is SessionKind.FIRST_VISIT


def test_an_appointment_today_reads_today_wherever_the_student_and_counsellor_plan_by_it(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor, hours=4)  # 14:00 in Shanghai, the clock's day
    student = centre.student()
    centre.campus.commit()
    client = login(student.user)

    booked = client.post(f"/appointments/book/{slot.id}", data=_precheck_form(CALM))
    confirmation = client.get(booked.headers["Location"]).get_data(as_text=True)
    assert "<strong>Today 14:00</strong>–14:50" in confirmation  # a line starts with it
    assert "Today 14:00" in client.get("/appointments/mine").get_data(as_text=True)
    assert "Your next counselling session: today 14:00" in client.get("/").get_data(as_text=True)

    staff = login(counsellor)
    assert "<td>today 14:00</td>" in staff.get("/appointments/booked").get_data(as_text=True)
    appointment = db.session.scalars(select(Appointment)).one()
    page = staff.get(f"/appointments/sessions/{appointment.id}").get_data(as_text=True)
    assert "today 14:00" in page
    assert "2026-09-14 14:00" not in page
