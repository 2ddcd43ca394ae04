"""A counsellor's future appointments when her role ends: never cancelled by themselves (a
student is expecting the session), but the centre has to arrange them with someone else."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import Appointment
from appointments.models import AppointmentState
from campus.holdings import Holding
from campus.models import Role
from campus.models import RoleAssignment


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

