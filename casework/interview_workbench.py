"""What the interview list puts on the home page: interviews to hold, students to assign, and
deadlines missed (staff), and an invitation (the student), counted as the list counts them."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import Student
from campus.models import User
from campus.workbench import Item
from campus.workbench import Urgency
from casework import interview_permissions as permissions
from casework.interviews import OPEN
from casework.interviews import OPEN_STATES
from casework.models import InterviewEntry
from casework.models import InterviewState


def staff_items(session: Session, user: User, now: datetime) -> list[Item]:
    """One counting query: the viewer's open interviews, unassigned entries, overdue entries."""
    mine, to_assign, overdue = session.execute(
        select(
            func.count(
                case(
                    (
                        (InterviewEntry.interviewer_id == user.id)
                        & InterviewEntry.state.in_(OPEN_STATES),
                        1,
                    )
                )
            ),
            func.count(case((InterviewEntry.state == InterviewState.TO_ASSIGN, 1))),
            func.count(
                case((InterviewEntry.state.in_(OPEN_STATES) & (InterviewEntry.due_at <= now), 1))
            ),
        )
        .select_from(InterviewEntry)
        .join(Student, Student.id == InterviewEntry.student_id)
        .where(permissions.entry_scope(user))
    ).one()
    items = []
    if mine:
        text = ngettext(
            "%(num)s post-screening interview to hold",
            "%(num)s post-screening interviews to hold",
            mine,
        )
        items.append(
            Item(mine, text, url_for("interviews.index", mine=1, state=OPEN), Urgency.THIS_WEEK)
        )
    if to_assign and any(permissions.can_assign(user, a.institution_id) for a in user.roles):
        text = ngettext(
            "%(num)s student on the interview list to assign",
            "%(num)s students on the interview list to assign",
            to_assign,
        )
        items.append(Item(to_assign, text, url_for("interviews.index", state="to_assign")))
    if overdue:
        text = ngettext(
            "%(num)s post-screening interview past its deadline",
            "%(num)s post-screening interviews past their deadline",
            overdue,
        )
        items.append(Item(overdue, text, url_for("interviews.index", overdue=1), Urgency.OVERDUE))
    return items


def student_items(session: Session, user: User, now: datetime) -> list[Item]:
    """An invitation to a conversation, in neutral words."""
    invited = session.scalar(
        select(func.count())
        .select_from(InterviewEntry)
        .join(Student, Student.id == InterviewEntry.student_id)
        .where(
            Student.user_id == user.id,
            InterviewEntry.state == InterviewState.SCHEDULED,
            InterviewEntry.scheduled_for >= now,
        )
    )
    if not invited:
        return []
    return [
        Item(
            invited,
            _("The mental health centre invites you to a conversation"),
            url_for("interviews.mine"),
            Urgency.TODAY,
        )
    ]
