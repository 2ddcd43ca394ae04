"""What a task says, in the reader's language.

A task stores its English text and, when its writer gives one, its message id and values
(`text_key`, `text_params`). Peer tasks are worded afresh from the student's name. The weekly
missing-report task is still stored as English only by the escalation sweep, so its values are
read back out of the text against the sweep's own wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from campus.i18n import Message
from warning import escalation, response
from warning.models import Task

_PLACEHOLDER = re.compile(r"%\\\(([a-z_]+)\\\)s")


def task_message(task: Task) -> str:
    """The task's text as a `Message` when its id and values are known; else as stored."""
    if task.text_key is not None:
        return Message(task.text_key, **(task.text_params or {}))
    if task.kind in response.PEER_TASK_TEXT and task.student is not None:
        return Message(response.PEER_TASK_TEXT[task.kind], name=task.student.name)
    if task.kind == "report_missing":
        return _read_back(task.text, escalation.REPORT_MISSING_TEXT.values())
    return task.text


def _read_back(text: str, templates: Iterable[str]) -> str:
    for template in templates:
        pattern = _PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(template))
        match = re.fullmatch(pattern, text, flags=re.S)
        if match:
            return Message(template, **match.groupdict())
    return text
