"""Messages made outside a request and translated when a person reads them.

Notifications, warning reasons and import errors are often written by a sweep, a CLI or a service
with no viewer yet; each reader sees them in their own language later. `N_` marks such a text for
the catalog; `Message` also carries the values to fill in.
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import has_request_context
from flask import session
from flask_babel import get_locale
from flask_babel import gettext
from flask_babel import refresh
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ColumnElement
from sqlalchemy import func

from campus.extensions import db


def viewer_locale() -> str:
    """The reader's locale code ("zh_CN", "en"); English outside a request (the command line)."""
    if not has_request_context():
        return "en"
    return str(get_locale() or "zh_CN")


def choose_language(code: str) -> None:
    """The reader's choice of language, kept for the browser session and on their account; the
    rest of this request speaks it too."""
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    refresh()


def N_(message: str) -> str:  # noqa: N802 -- the gettext convention extractors look for
    """Mark a message for the catalog without translating it: it is stored, then translated for
    each reader when shown (the inbox) or sent (the mail, in the recipient's language)."""
    return message


class Message(str):
    """English text that keeps its message id and values, so a page can show it translated.

    It is the English text itself: what the command line prints, logs keep and joins concatenate,
    since it is often made outside a request. Values (cells of a file, settings of a policy) are
    shown as given; a value that is itself a Message is translated with the text around it.
    """

    key: str
    params: dict[str, object]

    def __new__(cls, key: str, /, **params: object) -> Message:
        message = super().__new__(cls, key % params if params else key)
        message.key, message.params = key, params
        return message

    def shown(self) -> str:
        """The text in the viewer's language during a request; English outside one."""
        if not has_request_context():
            return str(self)
        values = {n: shown(v) if isinstance(v, str) else v for n, v in self.params.items()}
        return str(gettext(self.key, **values))


def shown(text: str) -> str:
    """Text that knows its translations (a Message, or any str with a `shown()`) in the viewer's
    language; other text (made without a message id) as it is."""
    return text.shown() if hasattr(text, "shown") else text


def refusal_text(error: Exception) -> str:
    """What a refused input is told, in the viewer's language: the exception's message, raised
    with an English message id (`N_`) or a `Message` with its values. `str(error)` would lose
    the values' message id, so a refusal with values read in English whatever the language."""
    reason = error.args[0] if error.args else str(error)
    return reason.shown() if isinstance(reason, Message) else str(gettext(str(reason)))


class Named(Protocol):
    """A record with a name in two languages (campus.models.BilingualName)."""

    def name_in(self, locale: str) -> str: ...


def shown_name(record: Named) -> str:
    """An institution's, hospital's or campaign's name in the viewer's language; the
    `shown_name` template filter."""
    return record.name_in(viewer_locale())


def name_column(model: Any) -> ColumnElement[str]:
    """A bilingual name as SQL, for queries that select names rather than records (lists, KPI
    groups, choices): the English form for English readers when there is one, else the Chinese."""
    if viewer_locale().startswith("en"):
        return func.coalesce(model.name_en, model.name)
    chinese: ColumnElement[str] = model.name
    return chinese


def aside(text: str) -> Markup:
    """A parenthetical after what it qualifies, muted. Chinese full-width brackets carry their
    own spacing, so only a Western one gets a space before it (起的一周（本周）, "the week
    (this week)"); a walk read 「起的一周 （本周）」 with a gap in it."""
    text = str(text)
    gap = "" if text.startswith("（") else " "
    return Markup('{}<span class="muted">{}</span>').format(gap, text)
