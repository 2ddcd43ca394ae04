"""Who may cancel, move and wait for counselling appointments: predicates named for each decision.

A student works only on their own appointments and waitlist entry. The centre (school counsellors
and the director of the appointment's institution) cancels or moves any of its appointments, and
books for a student the no-show policy has left to the centre. Only the director lifts that bar.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import or_
from sqlalchemy import select

from appointments.models import Appointment
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import institution_ids

STUDENT_ROLES = (Role.STUDENT,)
CENTRE_ROLES = (Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
# Everyone who has a page here: a student for their own, the centre for its institution's.
CHANGE_ROLES = STUDENT_ROLES + CENTRE_ROLES
LIFT_ROLES = (Role.DIRECTOR,)


def appointment_scope(user: User) -> ColumnElement[bool]:
    """The appointments `user` may open, as a clause on `Appointment` (and `Student`): their own,
    and every appointment of an institution where they work for the centre."""
    own = Appointment.student_id.in_(select(Student.id).where(Student.user_id == user.id))
    centre = institution_ids(user, *CENTRE_ROLES)
    return or_(own, Appointment.institution_id.in_(centre)) if centre else own


def is_own(user: User, appointment: Appointment) -> bool:
    return appointment.student.user_id == user.id


def acts_for_centre(user: User, institution_id: int) -> bool:
    """Whether `user` works for the counselling centre of `institution_id` (cancels with a
    reason, books for a barred student, moves without the student's limits)."""
    return institution_id in institution_ids(user, *CENTRE_ROLES)


def can_lift_bar(user: User, institution_id: int) -> bool:
    return institution_id in institution_ids(user, *LIFT_ROLES)
