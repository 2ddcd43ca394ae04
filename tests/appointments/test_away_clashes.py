"""Time away over booked sessions: nothing is cancelled or moved by itself; the confirmation, the
counsellor's availability page and her home page lead to each clash, with its student and a link
to change its time."""

from __future__ import annotations

from sqlalchemy import select

from appointments import availability
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import Slot
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from tests.appointments.test_availability import NEXT_MONDAY
from tests.appointments.test_availability import add
from tests.appointments.test_availability import book
from tests.appointments.test_availability import weekly

# Tuesday 22 September 2026, 14:00–15:30: covers the 14:00 and 15:00 sessions, not the 16:00.
AWAY = {
    "away-first_day": "2026-09-22",
    "away-starts": "14:00",
    "away-ends": "15:30",
    "away-reason": "leave",
}


def booked_at_two_and_four(counsellor, campus) -> tuple[Appointment, Appointment]:
    """Tuesday's 14:00 and 16:00 sessions booked, by two students."""
    add(counsellor, weekly(1))
    availability.open_week(db.session, counsellor.institution, NEXT_MONDAY, clock.now())
    slots = list(db.session.scalars(select(Slot).order_by(Slot.starts_at)))
    group = campus.class_group(campus.department(counsellor.institution))
    return book(campus, slots[0], group), book(campus, slots[2], group)


def shown(appointment: Appointment) -> str:
    return f"{appointment.student.name} ({appointment.student.student_number})"


def reschedule_link(appointment: Appointment) -> str:
    return f"/appointments/changes/{appointment.id}/reschedule"


def test_the_confirmation_names_each_clash_with_a_link_to_change_its_time(
    counsellor, campus, login
):
    director = campus.staff(counsellor.institution, Role.DIRECTOR, login="director")
    campus.commit()
    inside, outside = booked_at_two_and_four(counsellor, campus)
    client = login(director)

    posted = client.post(
        f"/appointments/availability/counsellors/{counsellor.id}/exceptions", data=AWAY
    )
    assert posted.headers["Location"].endswith("#clashes")
    page = client.get(posted.headers["Location"]).get_data(as_text=True)

    assert "1 booked session falls in this time away: it stays booked." in page
    assert "Booked sessions in time away" in page
    assert shown(inside) in page
    assert reschedule_link(inside) in page
    assert shown(outside) not in page
    assert reschedule_link(outside) not in page
    # Nothing cancelled or moved by itself.
    states = db.session.scalars(select(Appointment.state).order_by(Appointment.starts_at))
    assert list(states) == [AppointmentState.BOOKED, AppointmentState.BOOKED]
    # The students named are in the audit trail.
    read = db.session.scalars(
        select(AuditEvent.student_id).where(AuditEvent.action == "list_away_clashes")
    )
    assert list(read) == [inside.student_id]


def test_the_availability_page_marks_the_booked_session_in_time_away_only(
    counsellor, campus, login
):
    inside, outside = booked_at_two_and_four(counsellor, campus)
    client = login(counsellor)
    client.post(f"/appointments/availability/counsellors/{counsellor.id}/exceptions", data=AWAY)

    page = client.get("/appointments/availability/").get_data(as_text=True)
    coming = page[page.index('id="coming"') :]
    assert coming.count("Clashes with time away") == 1
    mark = coming[coming.index("Clashes with time away") :]
    assert mark.index(shown(inside)) < mark.index(reschedule_link(inside)) < mark.index("</li>")
    assert shown(outside) not in page


def test_the_home_page_counts_the_clashes_and_leads_to_them(counsellor, campus, login):
    booked_at_two_and_four(counsellor, campus)
    client = login(counsellor)
    before = client.get("/").get_data(as_text=True)
    assert "fall in your time away" not in before
    assert "falls in your time away" not in before

    client.post(f"/appointments/availability/counsellors/{counsellor.id}/exceptions", data=AWAY)
    home = client.get("/").get_data(as_text=True)
    assert "1 booked session falls in your time away" in home
    assert "/appointments/availability/#clashes" in home


def test_time_away_removed_leaves_no_clash(counsellor, campus, login):
    booked_at_two_and_four(counsellor, campus)
    client = login(counsellor)
    client.post(f"/appointments/availability/counsellors/{counsellor.id}/exceptions", data=AWAY)
    assert availability.clashing_with_time_away(db.session, counsellor, clock.now())

    row = db.session.scalars(select(availability.AvailabilityException)).one()
    client.post(f"/appointments/availability/exceptions/{row.id}/remove")
    assert availability.clashing_with_time_away(db.session, counsellor, clock.now()) == []
    assert "falls in your time away" not in client.get("/").get_data(as_text=True)
