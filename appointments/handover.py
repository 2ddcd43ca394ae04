"""A counsellor's future appointments when her role ends: never cancelled by themselves (a
student is expecting the session), but the centre has to arrange them with someone else."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import Appointment
from appointments.models import AppointmentState
from campus.holdings import Holding
from campus.models import WITH_ENDED_ROLES
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User


def holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The booked appointments still to come with the holder of a school-counsellor role
    (`campus.holdings`)."""
    if assignment.role is not Role.SCHOOL_COUNSELLOR:
        return None
    booked = int(
        session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.counsellor_id == assignment.user_id,
                Appointment.institution_id == assignment.institution_id,
                Appointment.state == AppointmentState.BOOKED,
                Appointment.starts_at > now,
            )
        )
        or 0
    )
    return Holding(
        booked,
        ngettext("%(num)d future appointment", "%(num)d future appointments", booked),
        _("the centre must arrange the appointments with someone else"),
    )


def counsellor_gone(now: datetime) -> ColumnElement[bool]:
    """A clause on `Appointment`: its counsellor no longer holds a working school-counsellor role
    at its institution at `now`, or her account is off. It decides at `now` itself, so a query
    may read ended roles (`WITH_ENDED_ROLES`) with it."""
    still_there = (
        select(RoleAssignment.id)
        .where(
            RoleAssignment.user_id == Appointment.counsellor_id,
            RoleAssignment.institution_id == Appointment.institution_id,
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
            RoleAssignment.working_at(now),
        )
        .exists()
    )
    active = select(User.id).where(User.id == Appointment.counsellor_id, User.active).exists()
    return ~and_(still_there, active)


def with_counsellor_gone(institution_ids: list[int], now: datetime) -> Select[tuple[Appointment]]:
    """The booked appointments still to come at `institution_ids` whose counsellor has left
    (`counsellor_gone`), soonest first: the student is still expecting them, and the centre has
    to arrange them with someone else."""
    return (
        select(Appointment)
        .where(
            Appointment.institution_id.in_(institution_ids),
            Appointment.state == AppointmentState.BOOKED,
            Appointment.starts_at > now,
            counsellor_gone(now),
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .execution_options(**{WITH_ENDED_ROLES: True})
    )
