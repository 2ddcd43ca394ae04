"""Appointment reminders: a note to the student a day and two hours before (config
`BOOKING_REMINDER_HOURS`), each once.

The note is neutral ("you have a counselling appointment soon", a link): mail and chat robots
carry no name, time or place, which the student reads on the page behind the link. A reminder is
a row with a unique (appointment, hours) key written with the note, so a second sweep — or a
second scheduler that briefly thought it led — sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments.changes import STUDENT_PAGE
from appointments.models import Appointment
from appointments.models import AppointmentReminder
from appointments.models import AppointmentState
from campus import notifications
from campus.i18n import N_

TEXTS = {
    "day": N_("Reminder: you have a counselling appointment within a day. See when and where."),
    "hours": N_("Reminder: your counselling appointment is in a few hours. See when and where."),
}


def reminder_hours() -> list[int]:
    """The configured hours before an appointment, largest first (e.g. [24, 2])."""
    raw = str(current_app.config.get("BOOKING_REMINDER_HOURS") or "")
    return sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)


def reminder_sweep(session: Session, now: datetime) -> int:
    """Send each booked appointment's due reminders once. A reminder is due from `hours` before
    the start until the next (smaller) one is; one whose moment had passed when the student
    booked is skipped (the booking's confirmation said it). Commits; returns reminders sent."""
    hours = reminder_hours()
    sent = 0
    for index, ahead in enumerate(hours):
        after = hours[index + 1] if index + 1 < len(hours) else 0
        due = session.scalars(
            select(Appointment).where(
                Appointment.state == AppointmentState.BOOKED,
                Appointment.starts_at > now + timedelta(hours=after),
                Appointment.starts_at <= now + timedelta(hours=ahead),
                ~select(AppointmentReminder.id)
                .where(
                    AppointmentReminder.appointment_id == Appointment.id,
                    AppointmentReminder.hours_before == ahead,
                )
                .exists(),
            )
        ).all()
        for appointment in due:
            # Booked after this reminder's moment: the confirmation said it all.
            if appointment.booked_at >= appointment.starts_at - timedelta(hours=ahead):
                continue
            if _send(session, appointment, ahead, now):
                sent += 1
    session.commit()
    return sent


def _send(session: Session, appointment: Appointment, ahead: int, now: datetime) -> bool:
    try:
        with session.begin_nested():
            session.add(
                AppointmentReminder(appointment_id=appointment.id, hours_before=ahead, sent_at=now)
            )
    except IntegrityError:  # another sweep sent it a moment ago
        return False
    if appointment.student.user_id is not None:
        notifications.notify(
            session,
            [appointment.student.user_id],
            TEXTS["day"] if ahead >= 12 else TEXTS["hours"],
            STUDENT_PAGE,
        )
    return True
