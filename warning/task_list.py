"""The /tasks list in the order a counsellor should work it.

Overdue first, then due soonest, then the higher level; a warning's deadline and a task due at
the same minute sit together. Repetitive chores (the weekly missing-report tasks) are one row per
kind with a count, so forty of them cannot push a red acknowledgement down the page. Deadlines
another tier owes for the reader's students (the class's check-ins on a department counsellor's
list) are set apart too: the buckets hold only the reader's own work. So is what is due more than
a week ahead (`LATER_AFTER`): a committee member who ticks a blue's check-in gets the next one a
month out, and seeing it right under "upcoming" she took her tap for one that did not work.
Never a peer's request (`task_texts.is_peer_request`): it reads "until" its date (关注至), a
period already begun, and a peer who found one classmate's folded and another's not would
tell a blue's check-in from a red's watch; hers are all listed as current. Except the next
occurrence of a recurring request, not yet begun (`not_begun`): a tick on a blue's check-in plans
the class's follow-up a month out, and listed at once, with 关注至 a month away and the same
button, it read as the tap not taken, and a second tap that day completed it and planned another.
It is listed from the week before it is due, the window a blue's first check-in is asked within.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from campus.models import Student
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import Task
from warning.task_texts import is_peer_request

# Task kinds that recur by the dozen and need no one's judgement first: listed collapsed.
CHORE_KINDS = ("report_missing",)
BUCKETS = ("overdue", "today", "upcoming")
# Work due later than this after today is folded under "later": every first task (a check-in, a
# peer watch, a guardian call) is due within it, a check-in planned for next month is not.
LATER_AFTER = timedelta(days=7)
# A peer's request that comes back at the level's cadence: the class's routine follow-up.
RECURRING_PEER_KINDS = ("follow_up",)


@dataclass(frozen=True)
class Entry:
    """One line of the list: a task addressed to the reader, or a deadline of a warning."""

    due_at: datetime
    level: int = 0  # a task shows no level (class and dorm tiers read them); it sorts last
    task: Task | None = None
    deadline: tuple[Deadline, EarlyWarning, Student] | None = None
    # A peer watch she checked in on today (`actions.check_in_on_watch`): done for today, its
    # button shown spent until tomorrow rather than offered for a tap that records nothing.
    checked_in_today: bool = False


@dataclass
class ChoreGroup:
    kind: str
    tasks: list[Task] = field(default_factory=list)

    @property
    def due_at(self) -> datetime:
        return self.tasks[0].due_at


@dataclass
class TaskList:
    buckets: dict[str, list[Entry]]
    chores: list[ChoreGroup]
    others: list[Entry]  # deadlines another tier owes, soonest first
    later: list[Entry]  # the reader's own work due after `LATER_AFTER`, soonest first


def later_from(end_of_today: datetime) -> datetime:
    """Where "upcoming" ends and "later" begins: the list's sections and the home page's counts
    of them (`warning.workbench.task_counts`) both split here."""
    return end_of_today + LATER_AFTER


def not_begun(task: Task, end_of_today: datetime) -> bool:
    """Whether `task` is a peer's recurring request whose period has not begun: the class's
    follow-up (a blue's next check-in) due after this week. Not listed to the peer until it has.
    A peer watch or a first check-in is asked for a period begun when it is given."""
    return (
        task.kind in RECURRING_PEER_KINDS
        and task.due_at >= later_from(end_of_today)
        and is_peer_request(task)
    )


def checked_in_today(task: Task, end_of_today: datetime) -> bool:
    """Whether the day's company on `task` is recorded: a check-in since the start of the
    reader's day (a day before `end_of_today`; the campus's zone keeps no summer time)."""
    checked = task.checked_in_at
    return checked is not None and checked >= end_of_today - timedelta(days=1)


def bucket_of(due_at: datetime, now: datetime, end_of_today: datetime) -> str:
    if due_at < now:
        return "overdue"
    if due_at < end_of_today:
        return "today"
    return "upcoming" if due_at < later_from(end_of_today) else "later"


def build(
    tasks: Iterable[Task],
    deadlines: Iterable[tuple[Deadline, EarlyWarning, Student, bool]],
    now: datetime,
    end_of_today: datetime,
) -> TaskList:
    """Tasks and the deadlines that are the reader's own work (the flag each deadline row
    carries) merged by urgency into overdue/today/upcoming, then what is due later; chores and
    other tiers' deadlines set aside."""
    entries: list[Entry] = []
    others: list[Entry] = []
    for deadline, warning, student, own in deadlines:
        entry = Entry(deadline.due_at, warning.level, deadline=(deadline, warning, student))
        (entries if own else others).append(entry)
    chores: dict[str, ChoreGroup] = {}
    for task in tasks:
        if not_begun(task, end_of_today):
            continue  # the next occurrence waits for its period (`not_begun`)
        if task.kind in CHORE_KINDS:
            chores.setdefault(task.kind, ChoreGroup(task.kind)).tasks.append(task)
        else:
            today = task.kind == "peer_watch" and checked_in_today(task, end_of_today)
            entries.append(Entry(task.due_at, task=task, checked_in_today=today))
    buckets: dict[str, list[Entry]] = {key: [] for key in (*BUCKETS, "later")}
    for entry in sorted(entries, key=lambda e: (e.due_at, -e.level)):
        bucket = bucket_of(entry.due_at, now, end_of_today)
        if bucket == "later" and entry.task is not None and is_peer_request(entry.task):
            bucket = "upcoming"  # a peer's request is current until its end, never folded
        buckets[bucket].append(entry)
    later = buckets.pop("later")
    for group in chores.values():
        group.tasks.sort(key=lambda t: (t.due_at, t.id))
    others.sort(key=lambda e: (e.due_at, -e.level))
    return TaskList(buckets, sorted(chores.values(), key=lambda g: g.due_at), others, later)
