"""What a task says, in the reader's language.

A task stores its English text and its message id and values (`text_key`, `text_params`).
Peer tasks are worded afresh from the student's name; older rows without an id (migration 0007
backfilled those it could) are shown as stored.
"""

from __future__ import annotations

from campus.i18n import Message
from warning import response
from warning.models import Task


def task_message(task: Task) -> str:
    """The task's text as a `Message` when its id and values are known; else as stored."""
    if task.text_key is not None:
        return Message(task.text_key, **(task.text_params or {}))
    if task.kind in response.PEER_TASK_TEXT and task.student is not None:
        return Message(response.PEER_TASK_TEXT[task.kind], name=task.student.name)
    return task.text
