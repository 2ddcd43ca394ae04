"""Named builders for the sessions tests: a centre with its counsellors, and appointments made
directly as rows (the booking rules are the booking helper's, not what these tests check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from campus.extensions import db
from campus.models import Caseload
from campus.models import ClassGroup
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User


@dataclass
class Centre:
    institution: Institution
    group: ClassGroup
    student: Student
    counsellor: User  # a school counsellor, not a trainee
    trainee: User
    supervisor: User  # the trainee's supervisor
    colleague: User  # another school counsellor of the centre
    director: User
    dept_counsellor: User  # the student's own department counsellor
    dept_leader: User
    admin: User
    elsewhere: User  # a school counsellor of another university
    other_director: User


def centre(campus) -> Centre:
    inst = campus.institution("XJU", name="湘江示范大学")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept, "CS-2026-1")
    student = campus.student(group, campus.room(inst), name="张三")
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01")
    trainee = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="trainee")
    supervisor = campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="supervisor")
    other = campus.institution("HNU", name="湖南示范大学")
    db.session.add_all(
        [
            CounsellorProfile(user_id=counsellor.id, institution_id=inst.id, fte=1.0),
            CounsellorProfile(
                user_id=trainee.id,
                institution_id=inst.id,
                is_trainee=True,
                supervisor_id=supervisor.id,
                fte=0.5,
            ),
            Caseload(student_id=student.id, counsellor_id=counsellor.id),
        ]
    )
    world = Centre(
        institution=inst,
        group=group,
        student=student,
        counsellor=counsellor,
        trainee=trainee,
        supervisor=supervisor,
        colleague=campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="colleague"),
        director=campus.staff(inst, Role.DIRECTOR, login="director"),
        dept_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept),
        dept_leader=campus.staff(inst, Role.DEPT_LEADER, department=dept),
        admin=campus.staff(inst, Role.ADMIN, login="admin"),
        elsewhere=campus.staff(other, Role.SCHOOL_COUNSELLOR, login="sc-hnu"),
        other_director=campus.staff(other, Role.DIRECTOR, login="director-hnu"),
    )
    campus.commit()
    return world


def appointment(
    student: Student,
    counsellor: User,
    starts_at: datetime,
    *,
    booked_at: datetime | None = None,
    state: AppointmentState = AppointmentState.BOOKED,
    kind: SessionKind = SessionKind.FIRST_VISIT,
    slot: Slot | None = None,
) -> Appointment:
    """One appointment (and its slot, unless given) as rows, flushed."""
    if slot is None:
        slot = Slot(
            institution_id=student.institution_id,
            counsellor_id=counsellor.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=50),
            room="心理中心 201",
            kind=kind,
        )
        db.session.add(slot)
        db.session.flush()
    row = Appointment(
        institution_id=student.institution_id,
        slot_id=slot.id,
        student_id=student.id,
        counsellor_id=counsellor.id,
        starts_at=starts_at,
        kind=kind,
        state=state,
        booked_by_id=student.user.id,
        booked_at=booked_at or starts_at - timedelta(days=3),
    )
    db.session.add(row)
    db.session.flush()
    return row
