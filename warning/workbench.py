"""What the warning domain puts on each role's workbench (the home page), counted with the same
scoped queries as the lists the items link to: the queue, the task list, the class and dorm pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from flask import url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from campus import clock
from campus.local_time import due_words
from campus.local_time import week_words
from campus.models import User
from campus.workbench import Item
from campus.workbench import Urgency
from warning import actions
from warning import permissions
from warning import queue
from warning import reports
from warning import response
from warning.forms import ALL_IS_WELL
from warning.labels import tier_label
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import WeeklyReport
from warning.policy import Level
from warning.task_list import CHORE_KINDS
from warning.task_list import RECURRING_PEER_KINDS
from warning.task_list import later_from

# --- counts (plain functions over a session) ---------------------------------------------------


@dataclass(frozen=True)
class Unacknowledged:
    level: Level
    count: int
    earliest_due: datetime | None  # the soonest deadline still owed among them
    # The tier their acknowledgement was passed on to when the tier that owed it missed it (a
    # red's hour the centre let pass: school leadership); None while the first tier's is running.
    escalated_to: OwnerTier | None = None
    # When the first acknowledgement they missed fell due: how long they have waited, however
    # often it was passed on within school leadership since. None while not escalated.
    overdue_since: datetime | None = None
    # When the acknowledgement now owed by `escalated_to` falls due (the soonest among them).
    acknowledge_due: datetime | None = None


def unacknowledged(session: Session, user: User, now: datetime) -> list[Unacknowledged]:
    """Open red and yellow warnings in the viewer's queue that nobody has acknowledged yet, per
    level, with the soonest deadline still owed: the queue filtered `unacknowledged=1`. Those
    whose acknowledgement was escalated are counted apart, per tier it now waits on: "awaits the
    centre" would be stale once the centre's hour has passed and the warning went up a tier."""
    owed = and_(Deadline.warning_id == EarlyWarning.id, Deadline.still_owed())
    # The acknowledgement still owed, and an earlier one a lower tier let pass (escalated).
    ack, missed = aliased(Deadline), aliased(Deadline)
    escalated_to = case((missed.id.is_not(None), ack.tier), else_=None).label("escalated_to")
    rows = session.execute(
        queue.filtered(
            select(
                EarlyWarning.level,
                escalated_to,
                func.count(EarlyWarning.id.distinct()),
                func.min(Deadline.due_at),
                func.min(missed.due_at),
                func.min(ack.due_at),
            ),
            user,
            queue.QueueFilter(unacknowledged=True),
            now,
        )
        .outerjoin(Deadline, owed)
        .outerjoin(
            ack,
            and_(ack.warning_id == EarlyWarning.id, ack.kind == "acknowledge", ack.still_owed()),
        )
        .outerjoin(
            missed,
            and_(
                missed.warning_id == EarlyWarning.id,
                missed.kind == "acknowledge",
                missed.missed_unanswered(),
                missed.tier < ack.tier,
            ),
        )
        .where(EarlyWarning.level.in_((Level.RED, Level.YELLOW)))
        .group_by(EarlyWarning.level, escalated_to)
    ).all()
    # Only a red's card says where its acknowledgement went; a yellow's stays one line.
    merged: dict[tuple[Level, OwnerTier | None], Unacknowledged] = {}
    for level, tier, count, due, since, ack_due in rows:
        key = (Level(level), OwnerTier(tier) if tier is not None and level == Level.RED else None)
        if (seen := merged.get(key)) is not None:
            count, due = seen.count + count, _earliest(seen.earliest_due, due)
            since = _earliest(seen.overdue_since, since)
            ack_due = _earliest(seen.acknowledge_due, ack_due)
        escalated = key[1] is not None
        merged[key] = Unacknowledged(
            key[0],
            count,
            due,
            key[1],
            since if escalated else None,
            ack_due if escalated else None,
        )
    return sorted(merged.values(), key=lambda u: (-u.level, -(u.escalated_to or 0)))


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def overdue_warnings(session: Session, user: User, now: datetime) -> int:
    """Open warnings in the viewer's queue with a missed deadline (the queue with `overdue=1`)."""
    narrow = queue.filtered(select(EarlyWarning.id), user, queue.QueueFilter(overdue=True), now)
    return session.scalar(select(func.count()).select_from(narrow.subquery())) or 0


@dataclass(frozen=True)
class TaskCounts:
    due_today: int  # tasks and deadlines on the task list under "overdue" and "due today"
    overdue: int
    upcoming: int  # under "upcoming": due within a week after today (`task_list.later_from`)
    later: int  # under "later", after that
    later_earliest: datetime | None  # when the first of those falls due
    reports_missing: int  # open missing-report chores
    reports_missing_weeks: frozenset[date] = frozenset()  # the weeks (Mondays) they are for


def task_counts(session: Session, user: User, now: datetime, end_of_today: datetime) -> TaskCounts:
    """What the viewer's task list shows as overdue or due today, upcoming and later, and its
    missing-report chores, from the same queries as the list (`open_tasks_query`,
    `open_deadlines_query`) and the same split into sections (`task_list.later_from`): the
    viewer's own deadlines (`permissions.owned_deadline_clause`), not those set apart as another
    tier's."""
    chore = Task.kind.in_(CHORE_KINDS)
    later = later_from(end_of_today)
    # A peer's request is never under "later" (`task_list.build`), as `is_peer_request` reads it.
    peer = or_(
        func.coalesce(Task.text_key, "") == response.PEER_TASK_TEXT,  # NULL would count nowhere
        and_(
            Task.text_key.is_(None),
            Task.kind.in_(response.PEER_TASK_KINDS),
            Task.student_id.is_not(None),
        ),
    )
    folded = and_(~chore, ~peer, Task.due_at >= later)
    # Nor is a peer's next follow-up counted before its week: the list leaves it out
    # (`task_list.not_begun`).
    not_begun = and_(peer, Task.kind.in_(RECURRING_PEER_KINDS), Task.due_at >= later)
    task_row = session.execute(
        actions.open_tasks_query(user)
        .where(~not_begun)
        .order_by(None)
        .with_only_columns(
            _count_where(and_(~chore, Task.due_at < end_of_today)),
            _count_where(and_(~chore, Task.due_at < now)),
            _count_where(and_(~chore, Task.due_at >= end_of_today, ~folded)),
            _count_where(folded),
            func.min(case((folded, Task.due_at))),
            _count_where(chore),
        )
    ).one()
    deadline_row: tuple = (0, 0, 0, 0, None)
    if user.has_role(*permissions.STAFF_ROLES):  # no one else works from deadlines
        deadline_row = tuple(
            session.execute(
                actions.open_deadlines_query(user)
                .where(permissions.owned_deadline_clause(user))
                .order_by(None)
                .with_only_columns(
                    _count_where(Deadline.due_at < end_of_today),
                    _count_where(Deadline.due_at < now),
                    _count_where(and_(Deadline.due_at >= end_of_today, Deadline.due_at < later)),
                    _count_where(Deadline.due_at >= later),
                    func.min(case((Deadline.due_at >= later, Deadline.due_at))),
                )
            ).one()
        )
    earliest = [when for when in (task_row[4], deadline_row[4]) if when is not None]
    weeks: frozenset[date] = frozenset()
    if task_row[5]:
        # Each chore is one unit's missed week, named in its text (as the inbox and the list say).
        chores = actions.open_tasks_query(user).where(chore).order_by(None)
        params = session.scalars(chores.with_only_columns(Task.text_params)).all()
        weeks = frozenset(
            date.fromisoformat(p["week"]) for p in params if p and isinstance(p.get("week"), str)
        )
    return TaskCounts(
        due_today=(task_row[0] or 0) + (deadline_row[0] or 0),
        overdue=(task_row[1] or 0) + (deadline_row[1] or 0),
        upcoming=(task_row[2] or 0) + (deadline_row[2] or 0),
        later=(task_row[3] or 0) + (deadline_row[3] or 0),
        later_earliest=min(earliest) if earliest else None,
        reports_missing=task_row[5] or 0,
        reports_missing_weeks=weeks,
    )


def _count_where(condition):
    return func.sum(case((condition, 1), else_=0))


def units_not_reported(session: Session, user: User, week: date) -> list[reports.ReportingUnit]:
    """The classes and rooms the viewer reports for that have no weekly report for `week`."""
    units = reports.units_of(session, user)
    if not units:
        return []
    filed = session.execute(
        select(WeeklyReport.class_id, WeeklyReport.room_id).where(
            WeeklyReport.week_start == reports.week_start(week),
            WeeklyReport.institution_id.in_({u.institution_id for u in units}),
        )
    ).all()
    done = {("class", c) for c, _ in filed if c} | {("room", r) for _, r in filed if r}
    return [u for u in units if (u.kind, u.id) not in done]


# --- items (in a request: translated text and links) -------------------------------------------


def _end_of_today(now: datetime) -> datetime:
    zone = clock.institution_zone(None)
    midnight = datetime.combine(clock.local_date(now, zone) + timedelta(days=1), time(0))
    return clock.to_utc(midnight, zone)


def when_due(due: datetime, now: datetime) -> str:
    """The soonest deadline in words relative to now, e.g. due in 40 minutes (today 11:00), or
    2 hours ago. A whole unit before the next is said (`threshold=1`): with Babel's 0.85, 22
    hours read "in 1 day (today 23:51)"."""
    when = format_timedelta(due - now, add_direction=True, threshold=1)
    time = due_words(due, now)
    if due >= now:
        return _("The earliest is due %(when)s (%(time)s).", when=when, time=time)
    return _("The earliest was due %(when)s (%(time)s).", when=when, time=time)


def missed_then_owed(found: Unacknowledged, now: datetime) -> str:
    """An escalated acknowledgement in two true parts: when it was missed and how long ago, and
    when the one owed now falls due, e.g. "The acknowledgement was due today 11:00: overdue for
    3 hours. Now due today 15:04." (never the overdue time of one deadline beside another's)."""
    since = found.overdue_since
    assert since is not None
    missed = ngettext(
        "The acknowledgement was due %(time)s: overdue for %(howlong)s.",
        "The first acknowledgement was due %(time)s: overdue for %(howlong)s.",
        found.count,
        time=due_words(since, now),
        howlong=format_timedelta(now - since),
    )
    if found.acknowledge_due is None:
        return missed
    owed = ngettext(
        "Now due %(time)s.",
        "The soonest now owed is due %(time)s.",
        found.count,
        time=due_words(found.acknowledge_due, now),
    )
    # Two sentences: a space between them in English, none after a Chinese full stop.
    return _("%(missed)s %(owed)s", missed=missed, owed=owed)


def _unacknowledged_text(found: Unacknowledged, centre: bool) -> str:
    """A red's acknowledgement is the centre's: department staff read that it awaits the centre,
    and do their own part of the red (the guardian, the peer watch) meanwhile. Once the centre's
    hour has passed, everyone reads that it went up a tier and to whom."""
    if found.level != Level.RED:
        return ngettext(
            "%(num)s yellow warning not yet acknowledged",
            "%(num)s yellow warnings not yet acknowledged",
            found.count,
        )
    if found.escalated_to is not None:
        tier = tier_label(found.escalated_to)
        if centre:
            return ngettext(
                "%(num)s red warning escalated to %(tier)s still awaits acknowledgement",
                "%(num)s red warnings escalated to %(tier)s still await acknowledgement",
                found.count,
                tier=tier,
            )
        return ngettext(
            "%(num)s red warning was not acknowledged in time: escalated to %(tier)s",
            "%(num)s red warnings were not acknowledged in time: escalated to %(tier)s",
            found.count,
            tier=tier,
        )
    if centre:
        return ngettext(
            "%(num)s red warning awaits acknowledgement",
            "%(num)s red warnings await acknowledgement",
            found.count,
        )
    return ngettext(
        "%(num)s red warning awaits the counselling centre's acknowledgement",
        "%(num)s red warnings await the counselling centre's acknowledgement",
        found.count,
    )


def staff_items(session: Session, user: User, now: datetime) -> list[Item]:
    """Unacknowledged reds and yellows, overdue warnings (queue roles)."""
    items = []
    centre = user.has_role(*permissions.SCHOOL_ROLES)
    for found in unacknowledged(session, user, now):
        red = found.level == Level.RED
        text = _unacknowledged_text(found, centre)
        # An escalated acknowledgement was missed already, whenever the next one is due.
        late = found.escalated_to is not None or (
            found.earliest_due is not None and found.earliest_due < now
        )
        if found.overdue_since is not None:
            # Passed on within leadership every hour, its next deadline is always near: what
            # the reader needs is how long it has waited.
            detail = missed_then_owed(found, now)
        else:
            detail = when_due(found.earliest_due, now) if found.earliest_due else ""
        items.append(
            Item(
                found.count,
                text,
                url_for("warning.queue", level=int(found.level), unacknowledged=1),
                Urgency.OVERDUE if late else (Urgency.NOW if red else Urgency.TODAY),
                detail,
            )
        )
    overdue = overdue_warnings(session, user, now)
    if overdue:
        text = ngettext(
            "%(num)s warning has a missed deadline",
            "%(num)s warnings have a missed deadline",
            overdue,
        )
        items.append(Item(overdue, text, url_for("warning.queue", overdue=1), Urgency.OVERDUE))
    return items


def task_items(session: Session, user: User, now: datetime) -> list[Item]:
    """Tasks and deadlines due today or overdue; missing weekly reports escalated to the viewer."""
    counts = task_counts(session, user, now, _end_of_today(now))
    items = []
    if counts.due_today:
        text = ngettext(
            "%(num)s task due today or overdue",
            "%(num)s tasks due today or overdue",
            counts.due_today,
        )
        detail = (
            ngettext("%(num)s of them is overdue.", "%(num)s of them are overdue.", counts.overdue)
            if counts.overdue
            else ""
        )
        urgency = Urgency.OVERDUE if counts.overdue else Urgency.TODAY
        items.append(Item(counts.due_today, text, url_for("response.tasks"), urgency, detail))
    # Each count is one section of the task list, and the card leads to it: "upcoming" said
    # two when the list's upcoming section was empty and both were under "later".
    if counts.upcoming:
        text = ngettext("Upcoming: %(num)s task", "Upcoming: %(num)s tasks", counts.upcoming)
        url = url_for("response.tasks", _anchor="h-upcoming")
        items.append(Item(counts.upcoming, text, url, Urgency.THIS_WEEK))
    if counts.later and counts.later_earliest is not None:
        text = ngettext("Later: %(num)s task", "Later: %(num)s tasks", counts.later)
        url = url_for("response.tasks", _anchor="h-later")
        detail = _("earliest due %(when)s", when=due_words(counts.later_earliest, now))
        items.append(Item(counts.later, text, url, Urgency.INFO, detail))
    if counts.reports_missing:
        url = url_for("response.tasks", _anchor="h-chores")
        items.append(_missing_reports_item(counts, now, url))
    return items


def _missing_reports_item(counts: TaskCounts, now: datetime, url: str) -> Item:
    """The missed weekly reports escalated to the department, said as the weeks they missed: the
    card read "this week's reports missing: 5" for last week's, while this week's were still
    open to file."""
    this_week = reports.week_start(clock.local_date(now, clock.institution_zone(None)))
    last_week = this_week - timedelta(days=7)
    weeks = sorted(counts.reports_missing_weeks)
    if weeks == [last_week] or not weeks:
        text = ngettext(
            "Last week's report missing: %(num)s class or dorm room",
            "Last week's reports missing: %(num)s classes and dorm rooms",
            counts.reports_missing,
        )
        detail = _("Week beginning %(day)s", day=week_words(last_week, now))
    else:
        text = ngettext(
            "Weekly report missing from past weeks: %(num)s",
            "Weekly reports missing from past weeks: %(num)s",
            counts.reports_missing,
        )
        detail = _("The earliest for the week beginning %(day)s", day=week_words(weeks[0], now))
    return Item(counts.reports_missing, text, url, Urgency.THIS_WEEK, detail)


def reporter_items(session: Session, user: User, now: datetime) -> list[Item]:
    """This week's class or dorm report, for the class committee member and dorm informant."""
    zone = clock.institution_zone(None)
    missing = units_not_reported(session, user, clock.local_date(now, zone))
    items = []
    for kind, endpoint in (("class", "warning.my_class"), ("room", "warning.my_dorm")):
        units = [u for u in missing if u.kind == kind]
        if not units:
            continue
        text = (
            _("This week's class report is not filed yet")
            if kind == "class"
            else _("This week's dorm report is not filed yet")
        )
        # The button's own words, so the card and the page it leads to say the same.
        detail = _("When all is well, just tap “%(button)s”.", button=ALL_IS_WELL)
        items.append(Item(len(units), text, url_for(endpoint), Urgency.THIS_WEEK, detail))
    return items
