"""Booking for a student the centre must see soon (an open red warning): the earlier times she
is offered without being told why, what the staff booking for her read of her professional
assessment's deadline, and the page they read once the booking is made."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from appointments import booking
from appointments.models import SessionKind
from appointments.models import Slot
from campus import clock
from campus.extensions import db
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
