"""The student file's section on counselling appointments (order 70): every appointment with its
date, counsellor and state for the counselling centre's staff; the session notes' text only for
the readers `session_permissions.note_clause` admits, each note shown audited with the file's
read."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from appointments.change_permissions import acts_for_centre
from appointments.models import Appointment
from appointments.models import SessionNote
from appointments.session_forms import NOTE_STATE_LABELS
from appointments.session_forms import STATE_LABELS
from appointments.session_permissions import note_clause
from campus import audit
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from casework.student_file import Section
from casework.student_file import register_section

SHOWN_APPOINTMENTS = 50


def load_appointments(
    session: Session, viewer: User, student: Student, capability: Capability
) -> dict[str, Any]:
    appointments = list(
        session.scalars(
            select(Appointment)
            .where(Appointment.student_id == student.id)
            .options(selectinload(Appointment.counsellor))
            .order_by(Appointment.starts_at.desc())
            .limit(SHOWN_APPOINTMENTS)
        )
    )
    notes = {
        note.appointment_id: note
        for note in session.scalars(
            select(SessionNote)
            .where(SessionNote.student_id == student.id, note_clause(viewer))
            .options(selectinload(SessionNote.addenda))
        )
    }
    if notes:
        # One row for every note shown (their ids in the detail), committed with the file's own
        # read row: the file's query count does not grow with the history.
        audit.record(
            session,
            actor=viewer,
            action="read_session_note",
            record_type="session_note",
            student_id=student.id,
            institution_id=student.institution_id,
            detail="student_file notes=" + ",".join(str(n.id) for n in notes.values())[:400],
        )
    return {
        "appointments": appointments,
        "notes": notes,
        "state_labels": STATE_LABELS,
        "note_state_labels": NOTE_STATE_LABELS,
    }


def _for_the_centre(viewer: User, student: Student) -> bool:
    """That a student comes to counselling is the centre's to know: her department's staff and
    the administrator, who open her file for other reasons, do not see her appointments."""
    return acts_for_centre(viewer, student.institution_id)


def register(app: Flask) -> None:
    register_section(
        app,
        Section(
            "appointments",
            lambda: _("Counselling appointments"),
            70,
            Capability.WARNING,
            load_appointments,
            "appointments/sessions/_file_section.html",
            audience=_for_the_centre,
        ),
    )
