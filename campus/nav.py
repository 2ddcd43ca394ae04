"""Navigation by role: each domain registers its entries when it is set up.

Keeping the list here, filled by the domains, means the kernel never imports a domain's views.
An entry for running the institution (its structure, policies, settings, oversight) names its
`SECTIONS` key: two or more of one section that a person sees are one menu under the section's
name (an administrator's 24 entries read as eight), one alone stays a plain link. Daily work
(the warning queue, tasks, the roster, the inbox) names none and is always one click away.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from flask import url_for
from flask_babel import lazy_pgettext as _lp

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
    section: str | None = None  # a `SECTIONS` key: shown in that section's menu


# The menus an institution is run from, by key: where each sits among the plain entries (as an
# entry's `order`) and its name.
SECTIONS = {
    "people": (21, _lp("menu", "People and structure")),
    "screening": (30, _lp("menu", "Screening")),
    "centre": (31, _lp("menu", "Counselling centre")),
    "response": (41, _lp("menu", "Warnings and response")),
    "oversight": (80, _lp("menu", "Oversight and audit")),
    "settings": (85, _lp("menu", "Settings")),
}


@dataclass(frozen=True)
class NavSection:
    """One menu of the navigation: its entries, in their order."""

    key: str
    name: object  # lazily translated
    entries: list[NavEntry]

    def label(self) -> str:
        return str(self.name)

    def holds(self, endpoint: str | None) -> bool:
        return any(e.endpoint == endpoint for e in self.entries)


def register(
    app: Flask,
    label: Callable[[], str],
    endpoint: str,
    roles: set[Role],
    order: int = 50,
    section: str | None = None,
) -> None:
    register_entries(app, [NavEntry(label, endpoint, frozenset(roles), order, section)])


def register_entries(app: Flask, entries: Iterable[NavEntry]) -> None:
    """Add a domain's entries, declared as one table of `NavEntry` rows (label, endpoint, roles,
    order, section), so a package's menu reads as a list rather than a call per entry."""
    for entry in entries:
        if entry.section is not None and entry.section not in SECTIONS:
            raise ValueError(f"unknown navigation section {entry.section!r}")
        app.extensions.setdefault("xinqiao_nav", []).append(entry)


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


def menu_for(app: Flask, user: User) -> list[NavEntry | NavSection]:
    """`user`'s navigation as the header shows it: plain entries and, where they see two or
    more of one section's entries, that section's menu in its place."""
    entries = entries_for(app, user)
    by_section: dict[str, list[NavEntry]] = {}
    for entry in entries:
        if entry.section is not None:
            by_section.setdefault(entry.section, []).append(entry)
    placed: list[tuple[tuple[int, str], NavEntry | NavSection]] = []
    for entry in entries:
        if entry.section is None or len(by_section[entry.section]) < 2:
            placed.append(((entry.order, entry.endpoint), entry))
    for key, held in by_section.items():
        if len(held) > 1:
            order, label = SECTIONS[key]
            placed.append(((order, ""), NavSection(key, label, held)))
    return [item for _key, item in sorted(placed, key=lambda p: p[0])]


def current_endpoint(menu: list[NavEntry | NavSection], path: str) -> str | None:
    """The entry a page at `path` belongs to: its own, or the entry whose address is the
    longest one `path` lies under (a student's account page, /admin/users/5, is under the
    people entry's /admin/users), so the header still says where one is; None for none."""
    best: tuple[int, str] | None = None
    for item in menu:
        for entry in item.entries if isinstance(item, NavSection) else [item]:
            address = url_for(entry.endpoint)
            under = path == address or (
                address != "/" and path.startswith(address.rstrip("/") + "/")
            )
            if under and (best is None or len(address) > best[0]):
                best = (len(address), entry.endpoint)
    return best[1] if best else None
