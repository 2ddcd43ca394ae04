"""What the warning domain puts on a department leader's overview card (`campus.workbench`): the
department's open warnings by level, its reds nobody has acknowledged, its warnings with a
missed deadline (and which steps), and this week's class and dorm reports not in yet.

Each figure is the count of the list it links to, narrowed the same way: the queue with
`department=` and its filters (`warning.queue`), the weekly reports with `department=`
(`warning.weekly_reading`). A few queries for all the viewer's departments together.
"""

from __future__ import annotations

from collections import Counter
from collections import defaultdict
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from campus.workbench import Figure
from campus.workbench import Group
from warning import queue
from warning import reports
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.policy import Level
from warning.response_policy import DEADLINE_NAMES

LEVELS = (Level.RED, Level.YELLOW, Level.BLUE)


def open_by_level(
    session: Session, user: User, department_ids: list[int]
) -> dict[int, dict[Level, tuple[int, int]]]:
    """Department -> level -> (open warnings, of them not acknowledged), in the viewer's scope."""
    rows = session.execute(
        queue.filtered(
            select(
                EarlyWarning.department_id,
                EarlyWarning.level,
                func.count(),
                func.sum(case((EarlyWarning.acknowledged_at.is_(None), 1), else_=0)),
            ),
            user,
            queue.QueueFilter(),
            clock.now(),
        )
        .where(EarlyWarning.department_id.in_(department_ids))
        .group_by(EarlyWarning.department_id, EarlyWarning.level)
    ).all()
    found: dict[int, dict[Level, tuple[int, int]]] = defaultdict(dict)
    for department_id, level, count, unacknowledged in rows:
        found[department_id][Level(level)] = (count, unacknowledged or 0)
    return found


def overdue_steps(
    session: Session, user: User, now: datetime, department_ids: list[int]
) -> dict[int, tuple[int, Counter[str]]]:
    """Department -> (open warnings with a missed deadline, how many of them missed each step):
    the queue's `overdue=1`, with the steps it missed (a warning that missed two counts once in
    the total and under each step)."""
    rows = session.execute(
        queue.filtered(
            select(EarlyWarning.department_id, EarlyWarning.id, Deadline.kind).distinct(),
            user,
            queue.QueueFilter(),
            now,
        )
        .join(Deadline, Deadline.warning_id == EarlyWarning.id)
        .where(EarlyWarning.department_id.in_(department_ids), queue.missed(now))
    ).all()
    warnings: dict[int, set[int]] = defaultdict(set)
    steps: dict[int, Counter[str]] = defaultdict(Counter)
    for department_id, warning_id, kind in rows:
        warnings[department_id].add(warning_id)
        steps[department_id][kind] += 1
    return {d: (len(warnings[d]), steps[d]) for d in warnings}


def reports_not_in(
    session: Session, user: User, now: datetime, department_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Department -> (classes and dorm rooms that owe this week's report and have not filed it,
    of those that owe it), over the units in the viewer's reach (`weekly_reading.units_in_reach`:
    a class or room holding a student of the department the viewer may see)."""
    units = session.execute(
        select(Student.department_id, Student.institution_id, Student.class_id, Student.room_id)
        .where(student_filter(user, Capability.WARNING), Student.department_id.in_(department_ids))
        .distinct()
    ).all()
    owing: dict[int, tuple[set, set]] = {}
    for institution_id in sorted({u.institution_id for u in units}):
        institution = session.get_one(Institution, institution_id)
        week = clock.local_date(now, clock.institution_zone(institution))
        status = reports.weekly_report_status(session, institution_id, week)
        owing[institution_id] = (
            {("class", i) for i in status.classes_missing}
            | {("room", i) for i in status.rooms_missing},
            {("class", i) for i in status.classes_reported + status.classes_missing}
            | {("room", i) for i in status.rooms_reported + status.rooms_missing},
        )
    missing: dict[int, set] = defaultdict(set)
    owed: dict[int, set] = defaultdict(set)
    for department_id, institution_id, class_id, room_id in units:
        not_in, expected = owing[institution_id]
        for unit in (("class", class_id), ("room", room_id)):
            if unit in expected:
                owed[department_id].add(unit)
            if unit in not_in:
                missing[department_id].add(unit)
    return {d: (len(missing[d]), len(owed[d])) for d in owed}


def _level_label(level: Level) -> str:
    return {
        Level.RED: _("Red warnings"),
        Level.YELLOW: _("Yellow warnings"),
        Level.BLUE: _("Blue warnings"),
    }[level]


def _steps_words(steps: Counter[str]) -> str:
    """e.g. "Acknowledge 1, Contact the student 2", in the order of the response policy."""
    order = list(DEADLINE_NAMES)
    kinds = sorted(steps, key=lambda k: (order.index(k) if k in order else len(order), k))
    return pgettext("list separator", ", ").join(
        _("%(step)s %(num)s", step=_(DEADLINE_NAMES[k]) if k in DEADLINE_NAMES else k, num=steps[k])
        for k in kinds
    )


def overview_groups(
    session: Session, user: User, now: datetime, department_ids: list[int]
) -> list[Group]:
    """The warnings and the weekly reports of each department, as figures linking to their lists."""
    levels = open_by_level(session, user, department_ids)
    overdue = overdue_steps(session, user, now, department_ids)
    not_in = reports_not_in(session, user, now, department_ids)
    groups = []
    for department_id in department_ids:
        by_level = levels.get(department_id, {})
        figures = [
            Figure(
                by_level.get(level, (0, 0))[0],
                _level_label(level),
                url_for("warning.queue", level=int(level), department=department_id),
                tone=level.name.lower(),
            )
            for level in LEVELS
        ]
        reds_waiting = by_level.get(Level.RED, (0, 0))[1]
        figures.append(
            Figure(
                reds_waiting,
                _("Reds not yet acknowledged"),
                url_for(
                    "warning.queue",
                    level=int(Level.RED),
                    unacknowledged=1,
                    department=department_id,
                ),
                tone="late" if reds_waiting else "",
            )
        )
        late, steps = overdue.get(department_id, (0, Counter()))
        figures.append(
            Figure(
                late,
                _("Warnings with a missed deadline"),
                url_for("warning.queue", overdue=1, department=department_id),
                tone="late" if late else "",
                detail=_steps_words(steps),
            )
        )
        groups.append(Group(department_id, _("Open warnings"), tuple(figures), order=0))
        missing, owed = not_in.get(department_id, (0, 0))
        if owed:
            groups.append(
                Group(
                    department_id,
                    _("Weekly class and dorm reports"),
                    (
                        Figure(
                            missing,
                            _("Not in yet this week"),
                            url_for("warning.weekly_reports", department=department_id),
                            detail=_("%(num)s classes and dorm rooms report weekly.", num=owed),
                            wide=True,
                        ),
                    ),
                    order=1,
                )
            )
    return groups
