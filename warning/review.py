"""复查: the review a school counsellor sets when she closes a warning (`actions.do_close`).

The review is a task addressed to her, due on the review date (the end of that day in the
institution's calendar), so it shows on her task list and workbench as due that day and is
marked done like any task; its line links to the student's file, where she reopens a warning
if she judges so. On the morning of the day the sweep tells her once: the task's `reminded_at`
is claimed with a conditional UPDATE, so two sweeps, or one run twice, remind exactly once.

If her school-counsellor role ends (or her account is switched off) before she has done it, the
review goes to the centre (`warning.handover.return_reviews_sweep`): the task is then addressed
to no one person, its directors see and do it, and its text says whose review it was.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus import network
from campus.extensions import set_once
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.notifications import notify
from warning.models import EarlyWarning
from warning.models import Task

REVIEW_KIND = "warning_review"
REVIEW_TASK_TEXT = N_("Review %(name)s (warning closed with a review on %(day)s)")
REVIEW_NOTE_TEXT = N_("A review you set when closing a warning is due today")
CENTRE_REVIEW_TASK_TEXT = N_(
    "Review %(name)s (warning closed with a review on %(day)s; it was %(counsellor)s's review, "
    "whose role has ended)"
)
CENTRE_REVIEW_NOTE_TEXT = N_("A review of a closed warning, now the centre's, is due today")
# Due at the end of the review day; the reminder comes at 08:00 that day (16 hours before).
DUE_AT = time(23, 59)
REMIND_BEFORE = timedelta(hours=15, minutes=59)
BATCH_SIZE = 500


def plan_review(
    session: Session, actor: User, warning: EarlyWarning, student: Student, review_date: date
) -> Task:
    """The closer's review task for `review_date`, in the caller's unit of work."""
    zone = clock.institution_zone(session.get(Institution, warning.institution_id))
    task = Task.saying(
        Message(REVIEW_TASK_TEXT, name=student.name, day=review_date.isoformat()),
        institution_id=warning.institution_id,
        student_id=student.id,
        warning_id=warning.id,
        kind=REVIEW_KIND,
        assignee_user_id=actor.id,
        due_at=clock.to_utc(datetime.combine(review_date, DUE_AT), zone),
        created_by_id=actor.id,
    )
    session.add(task)
    return task


def hand_to_centre(session: Session, task: Task, counsellor: User) -> None:
    """Address `task`, `counsellor`'s review, to the centre: to no one person (its directors see
    it, `warning.actions`), worded to say whose review it was."""
    day = (task.text_params or {}).get("day")
    student = task.student
    worded = Message(
        CENTRE_REVIEW_TASK_TEXT,
        name=student.name if student is not None else "",
        day=day if isinstance(day, str) else "",
        counsellor=counsellor.name,
    )
    task.text, task.text_key, task.text_params = worded[:500], worded.key, worded.params
    task.assignee_user_id = None


def sweep_reviews(session: Session, now: datetime) -> int:
    """Tell each counsellor (for a review now the centre's: its directors), on the morning of the
    day, of a review due that day, once."""
    due = session.execute(
        select(Task.id, Task.assignee_user_id, Task.student_id, Task.institution_id)
        .where(
            Task.kind == REVIEW_KIND,
            Task.done_at.is_(None),
            Task.reminded_at.is_(None),
            Task.due_at <= now + REMIND_BEFORE,
        )
        .order_by(Task.due_at)
        .limit(BATCH_SIZE)
    ).all()
    told = 0
    for task_id, user_id, student_id, institution_id in due:
        if not set_once(session, Task.reminded_at, task_id, reminded_at=now):
            continue
        link = f"/casework/students/{student_id}"
        if user_id is not None:
            notify(session, [user_id], REVIEW_NOTE_TEXT, link)
        else:
            directors = network.holders(session, institution_id, Role.DIRECTOR, now)
            notify(session, directors, CENTRE_REVIEW_NOTE_TEXT, link)
        told += 1
    session.flush()
    return told
