"""What a task says, in the reader's language.

A task stores its English text and its message id and values (`text_key`, `text_params`); a
day among the values, stored ISO, reads in words (`local_time.stored_day`: 12月7日 周一).
Peer tasks without an id (a row the migrations could not read back) are worded afresh from the
student's name; other rows without one are shown as stored.

A peer's request (keep company with a classmate and see how they are doing) is asked for a
period that ends on its date: the peer watch a counsellor arranges for a week, the check-in a
blue's class gives within a week. Its date reads as that end ("until", 关注至), not as a
deadline; and alike for every peer request, since a peer who read one classmate's as a watch
and another's as a deadline would learn which of them is red.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_babel import pgettext

from campus.i18n import Message
from campus.local_time import due_words
from campus.local_time import stored_day
from warning import response
from warning.models import Task


def task_message(task: Task) -> str:
    """The task's text as a `Message` when its id and values are known; else as stored."""
    if task.text_key is not None:
        params = task.text_params or {}
        return Message(task.text_key, **{k: stored_day(v) for k, v in params.items()})
    if task.kind in response.PEER_TASK_KINDS and task.student is not None:
        return response.peer_task_text(task.student)
    return task.text


def is_peer_request(task: Task) -> bool:
    """Whether `task` reads as a peer's request about a classmate (`response.PEER_TASK_TEXT`),
    whatever gave it: a peer watch, a check-in, a crisis check-in, a return-plan item."""
    message = task_message(task)
    return getattr(message, "key", None) == response.PEER_TASK_TEXT


def task_when(task: Task, now: datetime) -> str:
    """When `task` is due, in words: a peer's request until its end ("until Mon 21 Sep 10:00",
    关注至), any other task by its deadline ("due today 18:00")."""
    when = due_words(task.due_at, now)
    if is_peer_request(task):
        return pgettext("a peer's request about a classmate", "until %(when)s", when=when)
    return gettext("due %(when)s", when=when)
