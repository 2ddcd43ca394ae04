"""Escalation: a missed deadline moves the warning one tier up and tells the new owner.

Deadlines are rows, so the sweep is one indexed query for what is due (`ix_deadline_due`). Each
deadline is claimed with a conditional UPDATE (`escalated_at IS NULL`) and, on PostgreSQL, locked
with SKIP LOCKED, so two sweeps at once, or one run twice, escalate every deadline exactly once.
An escalation creates the same deadline for the next tier with a fresh window, so an ignored
escalation keeps climbing (dorm → class → department → school → school leadership).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time as clock_time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from campus import audit
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.models import ClassGroup
from campus.models import DormRoom
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify_digest
from warning import reports
from warning import response
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import TaskClosed
from warning.models import WarningEvent
from warning.models import WarningStatus
from warning.response_policy import active_response_policies

BATCH_SIZE = 500
# One tick's share of a backlog (the lease is 180 s); the rest is picked up at the next tick.
SWEEP_BUDGET = timedelta(seconds=45)
# A follow-up found missing by the safety-net sweep is never due sooner than this.
FOLLOW_UP_GRACE = timedelta(days=1)
# Weekly reports for a week are due by Monday noon (institution time) of the week after.
REPORT_GRACE = timedelta(hours=12)


def sweep_deadlines(session: Session, now: datetime) -> int:
    """Escalate every deadline due by `now` exactly once; returns how many were escalated.

    Works in batches of `BATCH_SIZE`, committing each, until nothing is due or `SWEEP_BUDGET` has
    passed: after downtime a backlog is worked off batch after batch (100k due deadlines in about
    two minutes, i.e. a few ticks, on the benchmark machine) while each transaction stays short
    and a tick ends well within the leader lease. The caller commits the last batch.
    """
    started = time.monotonic()
    escalated = 0
    while True:
        looked_at, count = escalate_due_batch(session, now)
        escalated += count
        if looked_at < BATCH_SIZE or time.monotonic() - started > SWEEP_BUDGET.total_seconds():
            return escalated
        session.commit()


def escalate_due_batch(session: Session, now: datetime) -> tuple[int, int]:
    """Escalate up to `BATCH_SIZE` due deadlines in the caller's transaction (nothing committed).

    Returns (deadlines looked at, deadlines escalated). The whole batch costs a fixed number of
    statements: the due rows, one claiming UPDATE, the warnings and students, one owner lookup
    per tier, and one flush that writes every event, audit row, deadline, task and notification
    (and, where a peer task closes while the class still owes a deadline of its purpose, one
    query for the batch and one per such warning: `_still_asked`).
    """
    due = session.scalars(
        select(Deadline)
        .where(Deadline.due_at <= now, Deadline.still_owed())
        .order_by(Deadline.due_at)
        .limit(BATCH_SIZE)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return 0, 0
    claimed = _claim(session, [deadline.id for deadline in due], now)
    deadlines = [deadline for deadline in due if deadline.id in claimed]
    if deadlines:
        warnings = _lock_warnings(session, {deadline.warning_id for deadline in deadlines})
        response.students_of(session, warnings.values())  # add_deadline's peer tasks read them
        _escalate_deadlines(session, deadlines, warnings, now)
    return len(due), len(deadlines)


def _claim(session: Session, ids: list[int], now: datetime) -> set[int]:
    """Mark the deadlines escalated, but only those still open: a deadline met or escalated by
    someone else since it was read is left alone (on PostgreSQL the rows are locked already)."""
    return set(
        session.scalars(
            update(Deadline)
            .where(Deadline.id.in_(ids), Deadline.still_owed())
            .values(escalated_at=now)
            .returning(Deadline.id)
            .execution_options(synchronize_session=False)
        )
    )


def _lock_warnings(session: Session, ids: set[int]) -> dict[int, EarlyWarning]:
    """The warnings of the claimed deadlines, fresh and locked until commit, in id order (so two
    sweeps never wait on each other in a cycle): a concurrent edit waits for the batch instead
    of being overwritten, and the batch sees the warning as it is now."""
    rows = session.scalars(
        select(EarlyWarning)
        .where(EarlyWarning.id.in_(ids))
        .order_by(EarlyWarning.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {warning.id: warning for warning in rows}


def _escalate_deadlines(
    session: Session, deadlines: list[Deadline], warnings: dict[int, EarlyWarning], now: datetime
) -> None:
    steps = []
    past_peers: set[tuple[int, str]] = set()
    policies = active_response_policies(session, {w.institution_id for w in warnings.values()})
    for deadline in deadlines:
        warning = warnings[deadline.warning_id]
        policy = policies[warning.institution_id]
        to_tier = min(deadline.tier + 1, int(OwnerTier.LEADERSHIP))
        steps.append(Escalation(warning, deadline.tier, to_tier, missed=deadline.kind))
        window = policy.for_level(warning.level).window(deadline.kind)
        response.add_deadline(session, warning, deadline.kind, to_tier, now + window, policy, now)
        if deadline.tier <= OwnerTier.CLASS < to_tier and deadline.kind in response.PEER_TASK_KINDS:
            past_peers.add((warning.id, deadline.kind))
    _close_peer_tasks(session, past_peers, warnings, now)
    _raise_owners(session, steps, now)
    record_escalations(session, steps, now)


def _close_peer_tasks(
    session: Session,
    past_peers: set[tuple[int, str]],
    warnings: dict[int, EarlyWarning],
    now: datetime,
) -> None:
    """Close the class's and the room's open tasks of each (warning, kind) whose deadline the
    class let pass to the department: the department counsellor owes it now, and a week-old
    task left on a student volunteer's list is only a red line she can no longer answer. One
    statement for the batch. What the class still owes of the same purpose keeps a task
    (`_still_asked`)."""
    if past_peers:
        pairs = [and_(Task.warning_id == w, Task.kind == kind) for w, kind in sorted(past_peers)]
        response.close_tasks(session, [or_(*pairs)], TaskClosed.ESCALATED, now)
        _still_asked(session, past_peers, warnings, now)


def _still_asked(
    session: Session,
    past_peers: set[tuple[int, str]],
    warnings: dict[int, EarlyWarning],
    now: datetime,
) -> None:
    """Give the peers their task again for a deadline of the same purpose the class still owes
    (`response.SAME_PURPOSE`): a follow-up the department counsellor set sooner than the
    cadence, in the check-in's week, was joined to the check-in's task, and closing that task
    when the check-in went to the department left the follow-up on nobody's list, to be
    escalated in its turn as the class's miss. The task is due at that deadline (a check-in the
    class still owes, whose task a passed-on follow-up had made due sooner, is set back to its
    own). One query for the batch, and one per warning that has such a deadline."""
    others = {
        (warning_id, other)
        for warning_id, kind in past_peers
        for other in response.SAME_PURPOSE.get(kind, frozenset())
        if other != kind and (warning_id, other) not in past_peers
    }
    if not others:
        return
    owed = session.execute(
        select(Deadline.warning_id, Deadline.kind, Deadline.due_at)
        .where(
            Deadline.warning_id.in_({warning_id for warning_id, _ in others}),
            Deadline.kind.in_({kind for _, kind in others}),
            Deadline.tier <= OwnerTier.CLASS,
            Deadline.still_owed(),
        )
        .order_by(Deadline.warning_id, Deadline.due_at)
    ).all()
    for warning_id, kind, due_at in owed:
        if (warning_id, kind) in others:
            response.add_peer_tasks(session, warnings[warning_id], kind, due_at, now, None)


def _raise_owners(session: Session, steps: list[Escalation], now: datetime) -> None:
    """Raise each warning's owner to the highest tier its escalations reach, with one UPDATE per
    tier instead of one per warning; the version moves on so an edit begun before the sweep is
    refused as concurrent. The loaded objects are brought in line without becoming dirty."""
    highest: dict[int, int] = {}
    for step in steps:
        if step.to_tier > step.warning.owner_tier:
            highest[step.warning.id] = max(step.to_tier, highest.get(step.warning.id, 0))
    warnings = {step.warning.id: step.warning for step in steps}
    for tier in sorted(set(highest.values())):
        ids = [warning_id for warning_id, to in highest.items() if to == tier]
        session.execute(
            update(EarlyWarning)
            .where(EarlyWarning.id.in_(ids))
            .values(owner_tier=tier, owner_since=now, version=EarlyWarning.version + 1)
            .execution_options(synchronize_session=False)
        )
        for warning_id in ids:
            warning = warnings[warning_id]
            set_committed_value(warning, "owner_tier", tier)
            set_committed_value(warning, "owner_since", now)
            set_committed_value(warning, "version", warning.version + 1)


@dataclass(frozen=True)
class Escalation:
    warning: EarlyWarning
    from_tier: int
    to_tier: int
    missed: str | None = None  # the deadline's kind; None for a manual escalation


# How an escalation's timeline event names its cause: the step missed, or a person's decision.
MANUAL = "manual"
_MISSED = "missed "


def event_outcome(missed: str | None) -> str:
    """The escalation event's outcome: "missed <deadline kind>", or "manual"."""
    return _MISSED + missed if missed else MANUAL


def missed_in(outcome: str) -> str | None:
    """The deadline kind an escalation event's outcome names as missed (None: manual)."""
    return outcome.removeprefix(_MISSED) if outcome.startswith(_MISSED) else None


def escalate(
    session: Session,
    warning: EarlyWarning,
    from_tier: int,
    to_tier: int,
    now: datetime,
    *,
    missed: str | None = None,
    actor: User | None = None,
    note: str | None = None,
) -> None:
    """Raise the warning's owner to at least `to_tier`, put it on the timeline and the audit
    trail, and tell the people of `to_tier` (minimum necessary text)."""
    record_escalations(
        session, [Escalation(warning, from_tier, to_tier, missed)], now, actor=actor, note=note
    )


def record_escalations(
    session: Session,
    steps: list[Escalation],
    now: datetime,
    *,
    actor: User | None = None,
    note: str | None = None,
) -> None:
    """`escalate` for a batch: every owner raised, event and audit row added, and the new owners
    told, with one owner lookup per tier and a single flush."""
    for step in steps:
        warning = step.warning
        if step.to_tier > warning.owner_tier:
            warning.owner_tier = step.to_tier
            warning.owner_since = now
        session.add(
            WarningEvent.of(
                warning,
                actor,
                "escalated",
                now,
                from_tier=step.from_tier,
                to_tier=step.to_tier,
                outcome=event_outcome(step.missed),
                note=note,
            )
        )
        audit.record_on(
            session,
            warning,
            actor=actor,
            action="warning.escalate",
            record_type="warning",
            detail=f"tier {step.from_tier} -> {step.to_tier}"
            + (f", missed {step.missed}" if step.missed else ""),
            flush=False,
        )
    # An escalation means a deadline was missed (or someone judged it urgent): it heads the inbox.
    response.notify_escalations(
        session, [(step.warning, step.from_tier, step.to_tier, step.missed) for step in steps], now
    )
    session.flush()


# --------------------------------------------------------------------------------------------------
# Follow-ups by cadence
# --------------------------------------------------------------------------------------------------


def sweep_follow_ups(session: Session, now: datetime) -> int:
    """Give every open warning that owes nothing a follow-up at its level's cadence.

    Actions plan the next follow-up as they happen; this is the safety net for warnings whose
    first response was completed without a contact being logged.
    """
    owes_something = exists().where(Deadline.warning_id == EarlyWarning.id, Deadline.still_owed())
    idle = session.scalars(
        select(EarlyWarning)
        .where(EarlyWarning.status == WarningStatus.OPEN, ~owes_something)
        .limit(BATCH_SIZE)
    ).all()
    policies = active_response_policies(session, {w.institution_id for w in idle})
    for warning in idle:
        base = warning.last_contact_at or warning.owner_since
        every = policies[warning.institution_id].for_level(warning.level).follow_up_every
        due = max(base + every, now + FOLLOW_UP_GRACE)
        response.plan_follow_up(session, warning, due, now)
    return len(idle)


# --------------------------------------------------------------------------------------------------
# Missing weekly class and dorm reports
# --------------------------------------------------------------------------------------------------

REPORT_MISSING_TEXT = {
    "class": N_("Class %(unit)s has not filed its weekly report for the week of %(week)s"),
    "room": N_("Dorm room %(unit)s has not filed its weekly report for the week of %(week)s"),
}
REPORT_DIGEST_TEXT = N_("Weekly reports are missing in your department")


def report_week_due(now: datetime, zone: str) -> tuple[date, datetime]:
    """The latest week whose report is already due at `now`: (its Monday, due time in UTC)."""
    today = clock.local_date(now, ZoneInfo(zone))
    this_monday = today - timedelta(days=today.weekday())
    for monday in (this_monday, this_monday - timedelta(days=7)):
        week = monday - timedelta(days=7)
        due = clock.to_utc(datetime.combine(monday, clock_time(0)) + REPORT_GRACE, ZoneInfo(zone))
        if due <= now:
            return week, due
    raise AssertionError("unreachable: last week's report is always due by now")


def sweep_missing_reports(session: Session, now: datetime) -> int:
    """Escalate to the department every class and room with a reporter that has not filed its
    weekly report by the deadline; each missing report is escalated once (a department task).

    The department's counsellors and leaders hear of a day's missing reports in one digest note
    naming the classes and rooms, not one note per unit."""
    escalated = 0
    for institution in session.scalars(select(Institution).where(Institution.kind == "university")):
        week, due = report_week_due(now, institution.timezone)
        missing: dict[int, list[dict]] = {}
        for kind, label, department_id in _units_without_report(session, institution.id, week):
            if _add_missing_report_task(
                session, institution.id, kind, label, department_id, week, due
            ):
                params = {"unit": label, "week": week.isoformat()}
                item = {"text": REPORT_MISSING_TEXT[kind], "params": params}
                missing.setdefault(department_id, []).append(item)
        today = clock.local_date(now, ZoneInfo(institution.timezone))
        for department_id, items in missing.items():
            _send_missing_report_digest(session, department_id, items, today)
            escalated += len(items)
    session.flush()
    return escalated


def _units_without_report(session: Session, institution_id: int, week: date):
    """(kind, label, department id) for each reporting unit that missed `week`; a room's
    students may belong to several departments, and each of them hears about it."""
    status = reports.weekly_report_status(session, institution_id, week)
    for group in session.scalars(
        select(ClassGroup).where(ClassGroup.id.in_(status.classes_missing)).order_by(ClassGroup.id)
    ):
        yield "class", group.name, group.department_id
    rooms = session.execute(
        select(DormRoom.id, Student.department_id)
        .join(Student, Student.room_id == DormRoom.id)
        .where(DormRoom.id.in_(status.rooms_missing))
        .distinct()
        .order_by(DormRoom.id, Student.department_id)
    ).all()
    for room_id, department_id in rooms:
        yield "room", session.get_one(DormRoom, room_id).label, department_id


def _add_missing_report_task(
    session: Session,
    institution_id: int,
    kind: str,
    label: str,
    department_id: int,
    week: date,
    due: datetime,
) -> bool:
    """The department's task for one missing report, unless it has it already (False then)."""
    text = Message(REPORT_MISSING_TEXT[kind], unit=label, week=week.isoformat())
    already = session.scalar(
        select(Task.id).where(
            Task.kind == "report_missing",
            Task.assignee_department_id == department_id,
            Task.due_at == due,
            Task.text == text,
        )
    )
    if already is not None:
        return False
    session.add(
        Task.saying(
            text,
            institution_id=institution_id,
            kind="report_missing",
            assignee_department_id=department_id,
            due_at=due,
            created_at=due,
        )
    )
    return True


def _send_missing_report_digest(
    session: Session, department_id: int, items: list[dict], today: date
) -> None:
    """One note per counsellor and leader of the department and day, listing the units."""
    staff = session.scalars(
        select(RoleAssignment.user_id).where(
            RoleAssignment.role.in_((Role.DEPT_COUNSELLOR, Role.DEPT_LEADER)),
            RoleAssignment.department_id == department_id,
        )
    )
    key = f"report_missing:department:{department_id}:{today.isoformat()}"
    classes_first = REPORT_MISSING_TEXT["class"]
    items = sorted(items, key=lambda item: (item["text"] != classes_first, item["params"]["unit"]))
    notify_digest(session, staff, key, REPORT_DIGEST_TEXT, "/tasks", items)
