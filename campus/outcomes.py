"""A change a page asked for that the rules refuse, and how the page says how it went.

The administrator's pages (structure, accounts, roles, channels, the staffing register, the
response network) each ask a service for one change; the service either makes it or raises a
`Refused` whose message says why, having written nothing. `flash_outcome` is the one way a page
turns that into the note shown on the next page; `made_or_refused_under` the one way a form page
shows it under the field that was refused, on the form sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import flash
from wtforms import Field

from campus.forms import add_error
from campus.i18n import Message

P = ParamSpec("P")
R = TypeVar("R")


class Refused(Exception):
    """A change that cannot be made; `message` says why, shown in the reader's language."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


def flash_outcome(
    done: str, change: Callable[P, object], *args: P.args, **kwargs: P.kwargs
) -> bool:
    """Make `change` and flash `done`, or the refusal's own message if the rules refuse it;
    whether it was made, for a page that moves on only then."""
    try:
        change(*args, **kwargs)
    except Refused as refusal:
        flash(refusal.message.shown(), "error")
        return False
    flash(done, "success")
    return True


def made_or_refused_under(
    field: Field, change: Callable[P, R], *args: P.args, **kwargs: P.kwargs
) -> R | None:
    """Make `change` and give its result, or None with the refusal's own message under `field`
    (the page shows the form again, 422), for a form whose one field the rules check."""
    try:
        return change(*args, **kwargs)
    except Refused as refusal:
        add_error(field, refusal.message.shown())
        return None
