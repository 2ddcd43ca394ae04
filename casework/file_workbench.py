"""What casework puts on the workbench: the month's figure of key students whose family was
contacted, counted as the list behind it (`family.this_month`) counts them."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from campus.models import User
from campus.workbench import Item
from campus.workbench import Urgency
from casework.family_contacts import key_students_contacted


def family_figure(session: Session, user: User, now: datetime) -> list[Item]:
    """ "N of M key students' families contacted this month"; nothing when there are no key
    students in the viewer's scope."""
    figure = key_students_contacted(session, user, now)
    if figure.key_students == 0:
        return []
    text = _(
        "Families contacted this month: %(contacted)s of %(total)s key students (red or yellow)",
        contacted=figure.contacted,
        total=figure.key_students,
    )
    return [Item(figure.contacted, text, url_for("family.this_month"), Urgency.INFO)]
