"""The inbox: every user's notifications, unread urgent ones that still wait first, then newest
first, with the unread count in the nav."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from campus import notifications
from campus.extensions import db
from campus.notifications import Notification
from campus.redirects import safe_next

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def nav_label() -> str:
    """The inbox entry's label with the unread count, so a new note is seen from any page."""
    # Counted once per request: the home page shows the entry twice (navigation and tiles).
    if "unread_notes" not in g:
        g.unread_notes = notifications.unread_count(db.session, current_user.id)
    unread = g.unread_notes
    return _("Inbox (%(count)s)", count=unread) if unread else _("Inbox")


# How many unread urgent notes the inbox checks for ones already settled, newest first; past it
# (a backlog no one reads) the older rest simply stay at the top.
SETTLED_CHECKED = 500


def _waiting_first(mine: ColumnElement[bool]) -> ColumnElement[int]:
    """Unread urgent notes (a red warning, a deadline missed) first, unless what they asked for no
    longer waits (`notifications.settled`); once read or settled, a note takes its place by date
    among the rest."""
    unread_urgent = and_(mine, Notification.urgent, Notification.read_at.is_(None))
    candidates = db.session.scalars(
        select(Notification)
        .where(unread_urgent)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(SETTLED_CHECKED)
    ).all()
    done = notifications.settled(current_app, db.session, candidates)
    return case((and_(unread_urgent, Notification.id.not_in(done)), 0), else_=1)


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    size = current_app.config["PAGE_SIZE"]
    mine = Notification.user_id == current_user.id
    total = db.session.scalar(select(func.count(Notification.id)).where(mine))
    rows = db.session.scalars(
        select(Notification)
        .where(mine)
        .order_by(_waiting_first(mine), Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    return render_template(
        "response/inbox.html",
        notes=rows,
        settled=notifications.settled(current_app, db.session, rows),
        page=page,
        size=size,
        total=total,
    )


@bp.route("/<int:note_id>/read", methods=["POST"])
@login_required
def read(note_id: int) -> ResponseReturnValue:
    """Mark one note read and follow its link (a note of someone else: 404)."""
    note = db.session.scalar(
        select(Notification).where(
            Notification.id == note_id, Notification.user_id == current_user.id
        )
    )
    if note is None:
        abort(404)
    notifications.mark_read(db.session, current_user.id, note_id)
    return redirect(safe_next(note.link) or url_for("inbox.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all() -> ResponseReturnValue:
    notifications.mark_read(db.session, current_user.id)
    return redirect(url_for("inbox.index"))
