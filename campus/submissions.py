"""A form's record stored once however often the form is sent (the form is a
`campus.forms.OnceForm`; the record keeps its token in a unique `submission` column)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.i18n import N_
from campus.i18n import Message
from campus.outcomes import Refused

R = TypeVar("R")


class Once(NamedTuple, Generic[R]):
    """The form's record, and whether this request wrote it (False: a repeat found the first one),
    for a page that says "added" once and "already added" after."""

    record: R
    created: bool


def stored_once(
    session: Session,
    model: type[R],
    submission: str | None,
    mine: ColumnElement[bool],
    write: Callable[[], R],
) -> Once[R]:
    """`write()`, which adds the record with `submission`, committed here, unless the form
    `submission` stored one already: then that record, and nothing is written.

    Two requests with one token at once both get past the first look; the unique constraint stops
    the second at its flush or commit, which is rolled back and finds the first one's record.
    `mine` narrows the look to the sender's own records, so another person's token finds nothing
    and is refused without showing what it stored."""

    def first() -> R | None:
        found: R | None = session.scalar(select(model).filter_by(submission=submission).where(mine))
        return found

    if submission and (stored := first()) is not None:
        return Once(stored, created=False)
    try:
        record = write()
        session.commit()
    except IntegrityError:
        session.rollback()
        if not submission:
            raise
        if (stored := first()) is None:
            raise Refused(Message(N_("This form was already used. Reload the page."))) from None
        return Once(stored, created=False)
    return Once(record, created=True)
