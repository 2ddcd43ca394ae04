"""Helpers for the intervention tests: what is still due on a warning and what happened to it."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import WarningEvent

LEVEL_WORDS = ("red", "yellow", "blue", "Red", "Yellow", "Blue", "PHQ", "score")


def open_deadlines(warning: EarlyWarning) -> dict[str, Deadline]:
    rows = db.session.scalars(
        select(Deadline).where(
            Deadline.warning_id == warning.id,
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
        )
    ).all()
    return {d.kind: d for d in rows}


def events(warning: EarlyWarning, kind: str) -> int:
    return db.session.scalar(
        select(func.count(WarningEvent.id)).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == kind
        )
    )
