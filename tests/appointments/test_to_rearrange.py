"""The centre's appointments to rearrange: besides those whose counsellor has left, every booked
session whose counsellor is away at that time, and every one on a day the centre is closed, with
its student and a link to change it. Nothing moves by itself; only the centre sees the list, and
its read is audited. The test clock stands at Monday 14 September 2026, 10:00 in Shanghai."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time

from sqlalchemy import select

from appointments import availability
from appointments.availability import ExceptionInput
from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import ExceptionReason
from campus import admin
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import RoleAssignment
from campus.notifications import Notification
from tests.appointments.test_away_clashes import booked_at_two_and_four
from tests.appointments.test_away_clashes import shown

LIST = "/appointments/changes/to-rearrange"
TUESDAY = date(2026, 9, 22)  # the sessions booked: 14:00 and 16:00


def _on_leave(counsellor, starts: time | None = None, ends: time | None = None) -> None:
    """The counsellor records time away on Tuesday (sick leave: personal leave), whole day or
    `starts`–`ends`."""
    availability.add_exception(
        db.session,
        counsellor,
        counsellor,
        ExceptionInput(TUESDAY, TUESDAY, starts, ends, ExceptionReason.LEAVE),
        clock.now(),
    )


def _listed(page: str, appointment: Appointment) -> bool:
    return f'href="/appointments/changes/{appointment.id}"' in page


def test_a_director_covering_for_a_counsellor_on_leave_finds_her_sessions_to_rearrange(
    counsellor, campus, login
):
    director = campus.staff(counsellor.institution, Role.DIRECTOR, login="director")
    campus.commit()
    inside, outside = booked_at_two_and_four(counsellor, campus)
    client = login(director)
    assert "time away" not in client.get("/").get_data(as_text=True)

    _on_leave(counsellor, time(14), time(15, 30))

    home = client.get("/").get_data(as_text=True)
    assert "1 booked session falls in a counsellor&#39;s time away" in home
    assert "The earliest is Tue 22 Sep 14:00." in home
    assert LIST in home
    page = client.get(LIST).get_data(as_text=True)
    row = page[page.index(f'id="rearrange-{inside.id}"') :]
    row = row[: row.index("</tr>")]
    assert shown(inside) in row
    assert counsellor.name in row
    assert "The counsellor is away: Personal leave" in row
    assert "Tue 22 Sep 14:00–15:30" in row
    assert _listed(row, inside)
    assert not _listed(page, outside)
    # Nothing cancelled or moved by itself; the students named are in the audit trail.
    states = db.session.scalars(select(Appointment.state))
    assert set(states) == {AppointmentState.BOOKED}
    read = db.session.scalars(
        select(AuditEvent.student_id).where(AuditEvent.action == "list_to_rearrange")
    )
    assert list(read) == [inside.student_id]


def test_a_centre_closure_over_booked_sessions_is_on_the_list_and_not_only_a_note(
    counsellor, campus, login
):
    institution = counsellor.institution
    director = campus.staff(institution, Role.DIRECTOR, login="director")
    keeper = campus.staff(institution, Role.ADMIN, login="admin")
    campus.commit()
    inside, outside = booked_at_two_and_four(counsellor, campus)

    availability.add_break(
        db.session, keeper, institution, "校庆", TUESDAY, TUESDAY, clock.now(), "Founders' Day"
    )

    client = login(director)
    home = client.get("/").get_data(as_text=True)
    assert "2 booked sessions fall on days the centre is closed" in home
    page = client.get(LIST).get_data(as_text=True)
    assert _listed(page, inside)
    assert _listed(page, outside)
    assert page.count("The centre is closed: Founders&#39; Day") == 2
    # Her own note leads to the same list, and is not told as her time away.
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == counsellor.id)
    ).one()
    assert note.link == LIST
    inbox = login(counsellor).get("/inbox/").get_data(as_text=True)
    assert "fall on days the centre is closed" in inbox
    assert "Tue 22 Sep 14:00: a booked session falls on a day the centre is closed" in inbox
    assert "your time away" not in inbox


def test_a_counsellor_who_left_and_was_away_is_listed_once_as_having_left(
    counsellor, campus, login
):
    institution = counsellor.institution
    director = campus.staff(institution, Role.DIRECTOR, login="director")
    keeper = campus.staff(institution, Role.ADMIN, login="admin")
    campus.commit()
    inside, _outside = booked_at_two_and_four(counsellor, campus)
    _on_leave(counsellor)
    role = db.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.user_id == counsellor.id, RoleAssignment.role == Role.SCHOOL_COUNSELLOR
        )
    )
    admin.remove_role(db.session, keeper, institution, role)

    client = login(director)
    home = client.get("/").get_data(as_text=True)
    assert "2 future appointments are with a counsellor who has left" in home
    assert "time away" not in home
    page = client.get(LIST).get_data(as_text=True)
    assert page.count(f'id="rearrange-{inside.id}"') == 1
    assert page.count("The counsellor has left") == 2
    assert "The counsellor is away" not in page


def test_only_the_centre_sees_the_appointments_to_rearrange(counsellor, campus, login):
    institution = counsellor.institution
    department = campus.department(institution, "History")
    colleague = campus.staff(institution, Role.SCHOOL_COUNSELLOR, login="colleague")
    outsiders = [
        campus.staff(institution, Role.DEPT_COUNSELLOR, login="dc01", department=department),
        campus.staff(institution, Role.ADMIN, login="admin"),
    ]
    elsewhere = campus.staff(campus.institution("HNU"), Role.DIRECTOR, login="director")
    campus.commit()
    inside, _outside = booked_at_two_and_four(counsellor, campus)
    _on_leave(counsellor)

    for user in outsiders:
        assert login(user).get(LIST).status_code == 403
    other_centre = login(elsewhere)
    assert not _listed(other_centre.get(LIST).get_data(as_text=True), inside)
    assert "time away" not in other_centre.get("/").get_data(as_text=True)
    # A colleague of the centre may move or cancel it, so she finds it too.
    assert _listed(login(colleague).get(LIST).get_data(as_text=True), inside)


def test_the_inbox_says_a_session_in_time_away_in_words_when_it_is_read(counsellor, campus, login):
    booked_at_two_and_four(counsellor, campus)
    _on_leave(counsellor, time(14), time(15, 30))
    client = login(counsellor)
    assert "Tue 22 Sep 14:00: a booked session falls in your time away" in client.get(
        "/inbox/"
    ).get_data(as_text=True)

    clock.set_now(datetime(2026, 9, 22, 1))  # Tuesday 09:00 in Shanghai
    client = login(counsellor)
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "today 14:00: a booked session falls in your time away" in inbox
