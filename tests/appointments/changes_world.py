"""A counselling centre for the tests of cancellations, moves, the no-show policy and the
waitlist: two counsellors (a woman and a man) with slots made directly, three students, a school
counsellor and the director. Named helpers book and miss appointments as the story needs."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from appointments.models import Appointment
from appointments.models import AppointmentState
from appointments.models import CounsellorProfile
from appointments.models import SessionKind
from appointments.models import Slot
from campus import clock
from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User


@dataclass
class Centre:
    institution: Institution
    student: Student
    classmate: Student
    third: Student
    counsellor: User  # a woman
    male_counsellor: User
    director: User
    other_school_student: Student
    _hours: list[int] = field(default_factory=list)

    def slot(
        self,
        hours_ahead: float,
        *,
        counsellor: User | None = None,
        kind: SessionKind = SessionKind.FIRST_VISIT,
        capacity: int = 1,
    ) -> Slot:
        """An open slot `hours_ahead` from now, 50 minutes long."""
        starts = clock.now() + timedelta(hours=hours_ahead)
        slot = Slot(
            institution_id=self.institution.id,
            counsellor_id=(counsellor or self.counsellor).id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=50),
            room="心理中心 201",
            kind=kind,
            capacity=capacity,
        )
        db.session.add(slot)
        db.session.commit()
        return slot

    def book(
        self, student: Student, slot: Slot, *, seat: int = 1, booked_at: datetime | None = None
    ) -> Appointment:
        appointment = Appointment(
            institution_id=slot.institution_id,
            slot_id=slot.id,
            seat=seat,
            student_id=student.id,
            counsellor_id=slot.counsellor_id,
            starts_at=slot.starts_at,
            kind=slot.kind,
            state=AppointmentState.BOOKED,
            booked_by_id=student.user_id,
            booked_at=booked_at or clock.now() - timedelta(days=3),
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment

    def missed(self, student: Student, days_ago: float) -> Appointment:
        """A past appointment the student did not come to."""
        appointment = self.book(student, self.slot(-24 * days_ago))
        appointment.state = AppointmentState.NO_SHOW
        db.session.commit()
        return appointment


def build(campus) -> Centre:
    inst = campus.institution("XJU", name="湘江示范大学")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept, "CS-2026-1")
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    male = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    other = campus.institution("HNU")
    other_group = campus.class_group(campus.department(other, "Law"), "LAW-1")
    centre = Centre(
        institution=inst,
        student=campus.student(group, name="张三"),
        classmate=campus.student(group, name="李四"),
        third=campus.student(group, name="王五"),
        counsellor=counsellor,
        male_counsellor=male,
        director=campus.staff(inst, Role.DIRECTOR),
        other_school_student=campus.student(other_group, name="赵六"),
    )
    db.session.add_all(
        [
            CounsellorProfile(user_id=counsellor.id, institution_id=inst.id, gender="F"),
            CounsellorProfile(user_id=male.id, institution_id=inst.id, gender="M"),
        ]
    )
    campus.commit()
    return centre
