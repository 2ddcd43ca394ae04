"""Helpers for the intervention tests: what is still due on a warning and what happened to it."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import User
from warning import actions
from warning.escalation import sweep_deadlines
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import Task
from warning.models import WarningEvent
from warning.response_policy import default_response_yaml

LEVEL_WORDS = ("red", "yellow", "blue", "Red", "Yellow", "Blue", "PHQ", "score")


def department_contact(
    network, warning: EarlyWarning, outcome: str = "reached", *, method: str = "phone", **extra
) -> None:
    """The department counsellor logs a contact with the student, now (`extra`: a note)."""
    actions.log_contact(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        clock.now(),
        method=method,
        outcome=outcome,
        **extra,
    )


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


DEPARTMENT_PEER_WATCH = "{kind: peer_watch, within_hours: 24, tier: department}"
CLASS_PEER_WATCH = "{kind: peer_watch, within_hours: 24, tier: class}"


def class_peer_watch_policy(institution_id: int) -> PolicyVersion:
    """Make active, for `institution_id`, a campus's own response policy that keeps the
    default's every window but makes a red's peer watch the class's, given to the class and the
    room when the red is set (the shipped default has the department counsellor arrange it)."""
    text = default_response_yaml()
    assert DEPARTMENT_PEER_WATCH in text
    text = text.replace(DEPARTMENT_PEER_WATCH, CLASS_PEER_WATCH).replace(
        '"response-default-2026.2"', '"campus-class-watch"'
    )
    version = PolicyVersion(
        institution_id=institution_id,
        kind=PolicyKind.RESPONSE,
        version="campus-class-watch",
        yaml_text=text,
        status=PolicyStatus.ACTIVE,
        activated_at=clock.now(),
    )
    db.session.add(version)
    db.session.commit()
    return version


def arrange_peer_watch(warning: EarlyWarning, actor: User, days: int = 7) -> list[Task]:
    """`actor` asks class and dorm to keep company with the warning's student for `days`, as the
    "Ask class and dorm to keep company" form does; the peer tasks it gave, class first."""
    actions.assign_peer_watch(
        db.session,
        actor,
        warning,
        warning.version,
        clock.now(),
        due_at=clock.now() + timedelta(days=days),
    )
    return list(
        db.session.scalars(
            select(Task)
            .where(Task.warning_id == warning.id, Task.kind == "peer_watch")
            .order_by(Task.assignee_class_id.is_(None), Task.id)
        )
    )
