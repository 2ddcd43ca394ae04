"""What a person still holds when an administrator is about to end one of their roles.

Each domain registers a counter (in its `registration.py`, like workbench items), so the kernel
never imports a domain: `count(session, assignment, now)` says how many of its things the holder
of `assignment` is answerable for that ending it lets go of, and what then becomes of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy.orm import Session

from campus import clock
from campus.extensions import db
from campus.models import RoleAssignment


@dataclass(frozen=True)
class Holding:
    """Some of one kind of thing a person holds, in the reader's words: "5 open warning cases",
    and what becomes of them when the role ends."""

    count: int
    text: str
    after: str


Count = Callable[[Session, RoleAssignment, datetime], Holding | None]


def register(app: Flask, count: Count, order: int = 50) -> None:
    """Declare that `count` tells what the holder of an assignment holds in one domain; the
    sentence lists the kinds by `order`."""
    app.extensions.setdefault("xinqiao_holdings", []).append((order, count))


def held(app: Flask, session: Session, assignment: RoleAssignment, now: datetime) -> list[Holding]:
    """What the holder of `assignment` holds that ending it affects, in the order declared; kinds
    of which they hold none are left out."""
    counters = sorted(app.extensions.get("xinqiao_holdings", []), key=lambda entry: entry[0])
    found = (count(session, assignment, now) for _, count in counters)
    return [holding for holding in found if holding is not None and holding.count > 0]


def summary(held: list[Holding]) -> str:
    """One sentence of what a person holds and what becomes of it, e.g. "This person currently
    holds 5 open warning cases, 2 interviews not yet held. Once the role ends, the cases go back
    to the centre to be assigned; the interviews go back to the list to assign." Empty when
    they hold nothing."""
    if not held:
        return ""
    return _(
        "This person currently holds %(held)s. Once the role ends, %(after)s.",
        held=pgettext("list separator", ", ").join(h.text for h in held),
        after=pgettext("list separator", "; ").join(h.after for h in held),
    )


def summary_of(assignment: RoleAssignment) -> str:
    """`summary` of what ending `assignment` lets go of, now (a template global: the access
    review shows it beside each role still to review)."""
    return summary(held(current_app, db.session, assignment, clock.now()))
