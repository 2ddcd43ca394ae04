"""Navigation by role: each domain registers its entries when it is set up.

Keeping the list here, filled by the domains, means the kernel never imports a domain's views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from campus.models import Role
from campus.models import User


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
