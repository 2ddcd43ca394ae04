"""What a task says, in the reader's language.

A task stores its English text and its message id and values (`text_key`, `text_params`); a
day among the values, stored ISO, reads in words (`local_time.stored_day`: 12月7日 周一).
Peer tasks without an id (a row the migrations could not read back) are worded afresh from the
student's name; other rows without one are shown as stored.
"""

from __future__ import annotations

from campus.i18n import Message
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
