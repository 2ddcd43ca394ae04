"""The home page as each role's workbench: what needs doing today, as counts with links.

Each domain registers the functions that count its own work (in its `registration.py`, like nav
entries), so the kernel never imports a domain. A function returns the items that apply to the
signed-in user now; an item links to the list that shows the same number, scoped the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import Department
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


def register(app: Flask, compute: Compute, roles: AbstractSet[Role], order: int = 50) -> None:
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


# --- a department's overview: one card per department the viewer oversees ----------------------
#
# A department leader (院系分管领导) looks at their department as a whole, on a phone between
# meetings: how many warnings at each level, what is late, what is not in yet. The figures come
# from several domains (warnings, screening, recovery), each registering a function that counts
# its own for the departments asked (one query or a few for all of them, not one per department);
# the kernel gathers them into one card per department, in the order the domains declared.


@dataclass(frozen=True)
class Figure:
    """One count on a department's card: the number, what it counts, the list that shows it."""

    count: int
    label: str
    url: str | None = None  # None where the viewer has no list of them (a clinical record)
    tone: str = ""  # "red", "yellow", "blue" (a warning level's colour) or "late"
    detail: str = ""  # a second line: a breakdown, e.g. which steps are overdue
    wide: bool = False  # the whole row, for a long label (a campaign's name)


@dataclass(frozen=True)
class Group:
    """A few figures under one heading (warnings, weekly reports…) for one department."""

    department_id: int
    heading: str
    figures: tuple[Figure, ...]
    order: int = 0  # within a domain's groups; the domains' own order comes first


@dataclass(frozen=True)
class DepartmentCard:
    department_id: int
    name: str
    groups: tuple[Group, ...]


OverviewCompute = Callable[[Session, User, datetime, list[int]], list[Group]]


@dataclass(frozen=True)
class OverviewSource:
    compute: OverviewCompute
    roles: frozenset[Role]
    order: int = 50


def register_overview(
    app: Flask, compute: OverviewCompute, roles: set[Role], order: int = 50
) -> None:
    """Declare that `compute(session, user, now, department_ids)` adds groups of figures to the
    overview card of each department in `department_ids` that a holder of `roles` oversees over
    it. The function counts only within the viewer's scope (`campus.scope`)."""
    app.extensions.setdefault("xinqiao_overview", []).append(
        OverviewSource(compute, frozenset(roles), order)
    )


def overview_for(app: Flask, session: Session, user: User, now: datetime) -> list[DepartmentCard]:
    """One card per department `user` holds an overview role over (a leader of two departments
    sees each apart), by name; none for a user who holds none."""
    sources = sorted(app.extensions.get("xinqiao_overview", []), key=lambda s: s.order)
    roles = frozenset().union(*(s.roles for s in sources)) if sources else frozenset()
    department_ids = sorted(
        {a.department_id for a in user.assignments(*roles) if a.department_id is not None}
    )
    if not department_ids:
        return []
    held = {a.role for a in user.roles}
    groups: dict[int, list[tuple[int, int, Group]]] = {d: [] for d in department_ids}
    for source in sources:
        if not source.roles & held:
            continue
        for group in source.compute(session, user, now, department_ids):
            if group.department_id in groups:
                groups[group.department_id].append((source.order, group.order, group))
    names = session.execute(
        select(Department.id, Department.name)
        .where(Department.id.in_(department_ids))
        .order_by(Department.name, Department.id)
    ).all()
    return [
        DepartmentCard(
            department_id,
            name,
            tuple(g for *_, g in sorted(groups[department_id], key=lambda r: r[:2])),
        )
        for department_id, name in names
    ]
