"""Helpers for the intervention tests: what is still due on a warning and what happened to it."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from warning.escalation import sweep_deadlines
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


def sweep_after(delta: timedelta, start: datetime) -> int:
    """Run the deadline sweep `delta` after `start` (committed); how many it escalated."""
    clock.set_now(start + delta)
    count = sweep_deadlines(db.session, clock.now())
    db.session.commit()
    return count


def page_text(html: str) -> str:
    """The page as a reader sees it: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")
