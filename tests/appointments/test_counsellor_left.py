"""A counsellor's future appointments are not cancelled when her role ends: the director's home
page says how many need arranging with someone else, and the list behind it shows them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from appointments.models import Appointment
from appointments.models import AppointmentState
from campus import admin
from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import RoleAssignment
from tests.appointments import session_world


def test_the_director_is_shown_appointments_whose_counsellor_left(campus, login):
    world = session_world.centre(campus)
    soon = clock.now() + timedelta(days=2)
    kept = session_world.appointment(world.student, world.counsellor, soon)
    session_world.appointment(world.student, world.colleague, soon + timedelta(days=1))
    db.session.commit()
    director = login(world.director)
    assert "with a counsellor who has left" not in director.get("/").get_data(as_text=True)

    role = db.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.user_id == world.counsellor.id,
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
        )
    )
    admin.remove_role(db.session, world.admin, world.institution, role)

    home = director.get("/").get_data(as_text=True)
    assert "1 future appointment is with a counsellor who has left" in home
    assert "The earliest is Wed 16 Sep 10:00." in home  # in two days, with its weekday
    listed = director.get("/appointments/changes/to-rearrange").get_data(as_text=True)
    assert f'href="/appointments/changes/{kept.id}"' in listed
    assert world.counsellor.name in listed
    assert world.colleague.name not in listed
    assert db.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "list_to_rearrange", AuditEvent.student_id == world.student.id
        )
    )
    db.session.expire_all()
    assert db.session.get(Appointment, kept.id).state is AppointmentState.BOOKED  # not cancelled
