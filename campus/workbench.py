"""The home page as each role's workbench: what needs doing today, as counts with links.

Each domain registers the functions that count its own work (in its `registration.py`, like nav
entries), so the kernel never imports a domain. A function returns the items that apply to the
signed-in user now; an item links to the list that shows the same number, scoped the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from flask import Flask
from sqlalchemy.orm import Session

from campus.models import Role
from campus.models import User


class Urgency(IntEnum):
    """How soon an item needs doing; the page lists the most urgent first."""

    OVERDUE = 0
    NOW = 1  # e.g. a red warning nobody has acknowledged, its hour running
    TODAY = 2
    THIS_WEEK = 3
    INFO = 4  # a figure to know (a campaign's coverage), not a task


@dataclass(frozen=True)
class Item:
    """One line of the workbench: a count, the plain sentence that says it, the list behind it."""

    count: int
    text: str
    url: str
    urgency: Urgency = Urgency.TODAY
    detail: str = ""  # a second line, e.g. when the earliest deadline falls due


Compute = Callable[[Session, User, datetime], list[Item]]


@dataclass(frozen=True)
class Source:
    compute: Compute
    roles: frozenset[Role]
    order: int = 50


def register(app: Flask, compute: Compute, roles: set[Role], order: int = 50) -> None:
    """Declare that `compute(session, user, now)` adds items to the home page of `roles`."""
    app.extensions.setdefault("xinqiao_workbench", []).append(
        Source(compute, frozenset(roles), order)
    )


def items_for(app: Flask, session: Session, user: User, now: datetime) -> list[Item]:
    """Every item for `user`, the most urgent first, then in the order the domains declared."""
    held = {a.role for a in user.roles}
    sources = sorted(
        (s for s in app.extensions.get("xinqiao_workbench", []) if s.roles & held),
        key=lambda s: s.order,
    )
    ranked = [
        (item.urgency, s.order, n, item)
        for s in sources
        for n, item in enumerate(s.compute(session, user, now))
    ]
    return [item for *_, item in sorted(ranked, key=lambda r: r[:3])]
