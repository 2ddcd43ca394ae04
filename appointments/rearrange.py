"""The centre's appointments to rearrange: booked sessions still to come that cannot go ahead as
booked, because their counsellor has left (`handover`), the centre is closed that day (an
academic break) or their counsellor is away then (her time away, `availability.clashes`).

Nothing moves by itself: a student is expecting each one. Whoever may change the centre's
appointments (`change_permissions.CENTRE_ROLES`) opens the list and moves or cancels each from its
page, which tells the student; the director's home page counts them, one line per reason, with
the same queries as the list, so a director covering for a counsellor on sick leave finds her
sessions there with the others.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from appointments import availability
from appointments import handover
from appointments.models import AcademicBreak
from appointments.models import Appointment
from appointments.models import AvailabilityException
from campus import workbench
from campus.local_time import due_words
from campus.models import Role
from campus.models import User
from campus.scope import institution_ids

# At most this many appointments whose counsellor has left are listed (the home page counts all).
LEFT_SHOWN = 200


class Why(enum.StrEnum):
    """Why a booked session cannot go ahead as booked; the first that applies is shown."""

    LEFT = "left"  # the counsellor no longer holds her role, or her account is off
    CLOSED = "closed"  # the centre is closed that day
    AWAY = "away"  # the counsellor's own time away


@dataclass(frozen=True)
class ToRearrange:
    """One appointment on the list, why, and the time away that covers it (if that is why)."""

    appointment: Appointment
    why: Why
    away: AvailabilityException | None = None
    closure: AcademicBreak | None = None


def to_rearrange(session: Session, institutions: list[int], now: datetime) -> list[ToRearrange]:
    """The appointments to rearrange at `institutions`, soonest first, with their students and
    counsellors. One appointment is listed once: a counsellor who has left comes first, then a
    closure, then her own time away."""
    left = session.scalars(
        handover.with_counsellor_gone(institutions, now)
        .options(joinedload(Appointment.student), joinedload(Appointment.counsellor))
        .limit(LEFT_SHOWN)
    )
    rows = [ToRearrange(appointment, Why.LEFT) for appointment in left]
    rows += [_covered(clash) for clash in _in_time_away(session, institutions, now)]
    return sorted(rows, key=lambda row: (row.appointment.starts_at, row.appointment.id))


def _in_time_away(
    session: Session, institutions: list[int], now: datetime
) -> list[availability.Clash]:
    """The booked sessions in time away whose counsellor is still there (one who has left is
    the reason listed for hers)."""
    return availability.clashes(session, institutions, now, where=~handover.counsellor_gone(now))


def _covered(clash: availability.Clash) -> ToRearrange:
    why = Why.CLOSED if clash.closure is not None else Why.AWAY
    return ToRearrange(clash.appointment, why, clash.away, clash.closure)


# The director's home page: one line per reason, each leading to the list.
def _left_line(count: int) -> str:
    return ngettext(
        "%(num)d future appointment is with a counsellor who has left: arrange it "
        "with someone else",
        "%(num)d future appointments are with a counsellor who has left: arrange them "
        "with someone else",
        count,
    )


def _closed_line(count: int) -> str:
    return ngettext(
        "%(num)d booked session falls on a day the centre is closed: move it to another day",
        "%(num)d booked sessions fall on days the centre is closed: move them to other days",
        count,
    )


def _away_line(count: int) -> str:
    return ngettext(
        "%(num)d booked session falls in a counsellor's time away: move it to another time or "
        "counsellor",
        "%(num)d booked sessions fall in counsellors' time away: move them to other times or "
        "counsellors",
        count,
    )


LINES: dict[Why, Callable[[int], str]] = {
    Why.LEFT: _left_line,
    Why.CLOSED: _closed_line,
    Why.AWAY: _away_line,
}


def director_items(session: Session, user: User, now: datetime) -> list[workbench.Item]:
    """The director's home page: how many appointments there are to rearrange, per reason, and
    when the earliest is."""
    institutions = sorted(institution_ids(user, Role.DIRECTOR))
    if not institutions:
        return []
    left = handover.with_counsellor_gone(institutions, now)
    left_count = int(session.scalar(select(func.count()).select_from(left.subquery())) or 0)
    found: dict[Why, tuple[int, Appointment | None]] = {
        Why.LEFT: (left_count, session.scalars(left.limit(1)).first() if left_count else None)
    }
    covered = [_covered(clash) for clash in _in_time_away(session, institutions, now)]
    for why in (Why.CLOSED, Why.AWAY):
        rows = [row.appointment for row in covered if row.why is why]
        found[why] = (len(rows), rows[0] if rows else None)
    return [
        workbench.Item(
            count,
            LINES[why](count),
            url_for("appointment_changes.to_rearrange"),
            workbench.Urgency.TODAY,
            _("The earliest is %(when)s.", when=due_words(earliest.starts_at, now)),
        )
        for why, (count, earliest) in found.items()
        if earliest is not None
    ]
