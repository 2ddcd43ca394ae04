"""The student file's sections for the centre's own casework on the student: the post-screening
interviews (order 50) and the crisis records (order 60, also for the department counsellor on
the scene, who may open them). Each lists what exists, with its state, and links to the
record's own page, which keeps its own access rules and audit."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.i18n import name_column
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from casework.crisis_permissions import on_the_scene
from casework.models import CrisisRecord
from casework.models import InterviewEntry
from casework.student_file import Section
from casework.student_file import register_section
from screening.models import Campaign


def load_interviews(
    session: Session, viewer: User, student: Student, capability: Capability
) -> dict[str, Any]:
    rows = session.execute(
        select(InterviewEntry, name_column(Campaign))
        .join(Campaign, Campaign.id == InterviewEntry.campaign_id)
        .where(InterviewEntry.student_id == student.id)
        .order_by(InterviewEntry.created_at.desc())
    ).all()
    return {"interviews": [(entry, campaign) for entry, campaign in rows]}


def load_crises(
    session: Session, viewer: User, student: Student, capability: Capability
) -> dict[str, Any]:
    records = session.scalars(
        select(CrisisRecord)
        .where(CrisisRecord.student_id == student.id)
        .order_by(CrisisRecord.opened_at.desc())
    ).all()
    return {"crises": list(records)}


def register(app: Flask) -> None:
    register_section(
        app,
        Section(
            "interviews",
            lambda: _("Post-screening interviews"),
            50,
            Capability.CLINICAL,
            load_interviews,
            "casework/interviews/_file_section.html",
        ),
    )
    register_section(
        app,
        Section(
            "crises",
            lambda: _("Crisis records"),
            60,
            Capability.CLINICAL,
            load_crises,
            "casework/crisis/_file_section.html",
            also_for=on_the_scene,
        ),
    )
