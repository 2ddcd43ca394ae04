"""Navigation by role: each domain registers its entries when it is set up.

Keeping the list here, filled by the domains, means the kernel never imports a domain's views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from campus.models import Role
from campus.models import User

# A student's roles: who holds no other is a student, addressed 你 (staff are addressed 您).
PEER_ROLES = frozenset({Role.STUDENT, Role.CLASS_COMMITTEE, Role.DORM_INFORMANT})


def addressed_as_staff(user: User) -> bool:
    """Whether ``user`` is addressed as staff (您) rather than as a student (你): signed in and
    holding a role beyond the student's and the peer roles (docs/architecture.md)."""
    return bool(user.is_authenticated) and not {a.role for a in user.roles} <= PEER_ROLES


@dataclass(frozen=True)
class NavEntry:
    label: Callable[[], str]  # lazily translated, so the label follows the viewer's language
    endpoint: str
    roles: frozenset[Role]
    order: int = 50


def register(
    app: Flask, label: Callable[[], str], endpoint: str, roles: set[Role], order: int = 50
) -> None:
    app.extensions.setdefault("xinqiao_nav", []).append(
        NavEntry(label, endpoint, frozenset(roles), order)
    )


def register_help(app: Flask, label: Callable[[], str], endpoint: str) -> None:
    """A way to reach the centre, offered on a student's home page under "Where to get help"
    (booking's "Book counselling"): the card is the kernel's, what it offers the domains'."""
    app.extensions.setdefault("xinqiao_help", []).append(
        NavEntry(label, endpoint, frozenset({Role.STUDENT}))
    )


def help_entries(app: Flask) -> list[NavEntry]:
    return list(app.extensions.get("xinqiao_help", []))


def entries_for(app: Flask, user: User) -> list[NavEntry]:
    held = {a.role for a in user.roles}
    entries = [e for e in app.extensions.get("xinqiao_nav", []) if e.roles & held]
    return sorted(entries, key=lambda e: (e.order, e.endpoint))
