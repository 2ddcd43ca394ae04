"""Booking for a student the centre must see soon (an open red warning): the earlier times she
is offered without being told why, what the staff booking for her read of her professional
assessment's deadline, and the page they read once the booking is made."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from appointments import booking
from appointments.models import DutyShift
from appointments.models import SessionKind
from appointments.models import Slot
from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.models import Student
from campus.models import User
from screening.scoring import score
from tests.appointments.booking_fixtures import Centre
from tests.conftest import Campus
from warning import services as warning_services

FOLLOW_UP = SessionKind.FOLLOW_UP


@pytest.fixture
def centre(campus: Campus) -> Centre:
    return Centre(campus)


def _make_red(student: Student) -> None:
    """A PHQ-9 item 9 answer of 1: red, with a professional assessment due within 24 hours."""
    warning_services.record_signal(
        db.session,
        student=student,
        source="screening",
        observed_at=clock.now(),
        label="PHQ-9 item 9 = 1",
        instrument="phq9",
        flags=score("phq9", {9: 1}).flags,
    )


def _on_duty(centre: Centre, person: User) -> None:
    now = clock.now()
    db.session.add(
        DutyShift(
            institution_id=centre.institution.id,
            user_id=person.id,
            starts_at=now - timedelta(hours=2),
            ends_at=now + timedelta(hours=6),
            phone="0731-1234-5678",
            created_by_id=person.id,
        )
    )


def _offered(page: str, slot: Slot) -> bool:
    return f"/appointments/book/{slot.id}" in page


def test_a_red_student_is_offered_the_earlier_follow_up_times_as_her_first_visit_unsaid_why(
    centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: a student who answered PHQ-9 item 9 = 1 was offered first-visit times only, the
    next of them six days on, while a follow-up time with another counsellor was free tomorrow."""
    counsellor = centre.counsellor()
    soon = centre.slot(counsellor, hours=20, kind=FOLLOW_UP)
    later = centre.slot(counsellor, hours=150)
    red, calm = centre.student(), centre.student()
    _make_red(red)
    centre.campus.commit()

    calm_page = login(calm.user).get("/appointments/book").get_data(as_text=True)
    assert not _offered(calm_page, soon)
    assert _offered(calm_page, later)
    red_page = login(red.user).get("/appointments/book").get_data(as_text=True)
    assert _offered(red_page, soon)
    assert _offered(red_page, later)
    # The same words as anyone's page: nothing says why the earlier time is there.
    for words in ("red", "assessment", "warning", "Need to talk with someone sooner?"):
        assert (words in red_page) == (words in calm_page)
    assert (
        login(red.user)
        .get("/appointments/book/first")
        .location.endswith(f"/appointments/book/{soon.id}")
    )

    with pytest.raises(booking.BookingError) as refused:
        booking.check_book(
            db.session,
            student=calm,
            slot=soon,
            booked_by=calm.user,
            kind=FOLLOW_UP,
            now=clock.now(),
        )
    assert refused.value.code == "kind"
    appointment = booking.book(
        db.session, student=red, slot=soon, booked_by=red.user, kind=FOLLOW_UP
    )
    assert booking.visit_kind_for(db.session, red.id, appointment.slot) is SessionKind.FIRST_VISIT
    mine = login(red.user).get("/appointments/changes").get_data(as_text=True)
    assert "First visit" in mine
    assert "Follow-up session" not in mine


def test_staff_read_that_no_free_time_comes_before_the_assessment_and_who_is_on_duty(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: the page listed the days after the deadline as any student's, and nothing led to
    the counsellor on duty."""
    counsellor = centre.counsellor()
    after_due = centre.slot(counsellor, hours=30)
    student = centre.student()
    _make_red(student)
    _on_duty(centre, counsellor)
    fudaoyuan = campus.staff(centre.institution, Role.DEPT_COUNSELLOR, department=centre.department)
    campus.commit()

    page = login(fudaoyuan).get(f"/appointments/for/{student.id}").get_data(as_text=True)
    due = page.split('id="due-h"', 1)[1].split("</section>", 1)[0]
    assert "Professional assessment due tomorrow 10:00" in due  # 02:00 UTC is 10:00 in China
    assert "No free time comes before it" in due
    assert counsellor.name in due
    assert 'href="tel:0731-1234-5678"' in due
    assert 'href="/appointments/duty/"' in due
    assert 'href="tel:120"' in due
    assert f'/appointments/for/{student.id}/book/{after_due.id}"' in page  # bookable, after it


def test_staff_are_given_the_earliest_free_time_when_it_comes_before_the_assessment(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    counsellor = centre.counsellor()
    in_time = centre.slot(counsellor, hours=6, kind=FOLLOW_UP)
    centre.slot(counsellor, hours=30)
    student, calm = centre.student(), centre.student()
    _make_red(student)
    school = campus.staff(centre.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()

    client = login(school)
    page = client.get(f"/appointments/for/{student.id}").get_data(as_text=True)
    due = page.split('id="due-h"', 1)[1].split("</section>", 1)[0]
    assert "The earliest free time comes before it" in due
    assert f'class="button primary" href="/appointments/for/{student.id}/book/{in_time.id}"' in due
    assert "No free time comes before it" not in due
    assert 'href="tel:120"' not in due
    assert 'id="due-h"' not in client.get(f"/appointments/for/{calm.id}").get_data(as_text=True)


def test_after_staff_book_the_confirmation_comes_first_with_no_already_booked_box(
    campus: Campus, centre: Centre, login: Callable[[User], FlaskClient]
) -> None:
    """Before: a small "预约成功" above a yellow "已有预约 … 现在不能再约" box, and a student
    who had never come read 后续咨询 (follow-up) for her first visit in a follow-up time."""
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor, hours=30, kind=FOLLOW_UP)
    student = centre.student()
    _make_red(student)
    fudaoyuan = campus.staff(centre.institution, Role.DEPT_COUNSELLOR, department=centre.department)
    campus.commit()

    client = login(fudaoyuan)
    done = client.post(f"/appointments/for/{student.id}/book/{slot.id}", data={"token": "t1"})
    assert done.status_code == 302
    page = client.get(done.location).get_data(as_text=True)
    main = page.split("<main", 1)[1]
    assert main.index('id="done-h"') < main.index('id="due-h"')
    confirmation = main.split('id="done-h"', 1)[1].split("</section>", 1)[0]
    assert f"Booked for {student.name}: " in confirmation
    assert "First visit" in confirmation
    assert "Follow-up session" not in confirmation
    assert "The time booked comes after it" in page
    assert 'id="booked-h"' not in page
    assert "already has an upcoming appointment" not in page
    assert 'class="flash' not in main.split('id="done-h"', 1)[0]  # no flash above it

    again = client.get(f"/appointments/for/{student.id}").get_data(as_text=True)
    assert 'id="done-h"' not in again
    assert "already has an upcoming appointment" in again
