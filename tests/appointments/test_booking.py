"""Booking a counselling appointment: the rules a student and the centre meet."""

from __future__ import annotations

import pytest

from appointments import booking
from appointments.models import Appointment, AppointmentState, SessionKind
from campus.extensions import db
from tests.appointments.booking_fixtures import Centre
from tests.conftest import Campus


@pytest.fixture
def centre(campus: Campus) -> Centre:
    return Centre(campus)


def _count(model: type) -> int:
    return db.session.query(model).count()


def test_a_student_books_a_free_time_for_themself(centre: Centre) -> None:
    counsellor = centre.counsellor()
    slot = centre.slot(counsellor)
    student = centre.student()
    appointment = booking.book(
        db.session, student=student, slot=slot, booked_by=student.user, kind=SessionKind.FIRST_VISIT
    )
    assert appointment.state == AppointmentState.BOOKED
    assert appointment.counsellor_id == counsellor.id
    assert _count(Appointment) == 1
