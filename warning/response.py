"""The response network: who owns a warning at each level, what is owed by when, who is told.

`RESPONSE_POLICY` is the brief's default table as data: per level the owner tier, the first-response
deadlines (kind, window, tier that owes it), the follow-up cadence and who is notified. A level
change supersedes what the old level owed and plans what the new one owes; the escalation sweep
(`warning.escalation`) acts on what is missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campus.models import Role, RoleAssignment, Student, User
from campus.notifications import N_, notify
from warning.models import Deadline, OwnerTier, Task, Warning

RED, YELLOW, BLUE = 3, 2, 1
TASKS_LINK = "/tasks"


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    within: timedelta
    tier: OwnerTier  # the tier that owes it


@dataclass(frozen=True)
class LevelResponse:
    owner: OwnerTier
    deadlines: tuple[DeadlineRule, ...]
    follow_up_every: timedelta
    notify_tiers: tuple[OwnerTier, ...]
    # Red also tells the department leader; the school centre owns the case.
    notify_department_leader: bool = False


RESPONSE_POLICY: dict[int, LevelResponse] = {
    RED: LevelResponse(
        owner=OwnerTier.SCHOOL,
        deadlines=(
            DeadlineRule("acknowledge", timedelta(hours=1), OwnerTier.SCHOOL),
            DeadlineRule("assessment", timedelta(hours=24), OwnerTier.SCHOOL),
            # The department counsellor calls the family the same day.
            DeadlineRule("guardian_notified", timedelta(hours=24), OwnerTier.DEPARTMENT),
            # Class and dorm confirm the peer watch is in place.
            DeadlineRule("peer_watch", timedelta(hours=24), OwnerTier.CLASS),
        ),
        follow_up_every=timedelta(days=7),
        notify_tiers=(OwnerTier.SCHOOL,),
        notify_department_leader=True,
    ),
    YELLOW: LevelResponse(
        owner=OwnerTier.DEPARTMENT,
        deadlines=(DeadlineRule("contact", timedelta(hours=72), OwnerTier.DEPARTMENT),),
        follow_up_every=timedelta(days=14),
        notify_tiers=(OwnerTier.DEPARTMENT,),
    ),
    BLUE: LevelResponse(
        owner=OwnerTier.CLASS,
        deadlines=(DeadlineRule("check_in", timedelta(days=7), OwnerTier.CLASS),),
        follow_up_every=timedelta(days=30),
        notify_tiers=(OwnerTier.CLASS, OwnerTier.DORM),
    ),
}

# Deadlines the class and dorm tiers meet by completing a task; the task text is all they see.
PEER_TASK_TEXT = {
    "peer_watch": N_("Please keep company with %(name)s this week"),
    "check_in": N_("Please check in with %(name)s this week and see how they are"),
    "follow_up": N_("Please check in with %(name)s again and see how they are"),
}

# What each tier reads in its inbox and mail: never the student, the level or a score.
NOTIFICATION_TEXT = {
    OwnerTier.DORM: N_("You have a new task"),
    OwnerTier.CLASS: N_("You have a new task"),
    OwnerTier.DEPARTMENT: N_("A warning in your department needs attention"),
    OwnerTier.SCHOOL: N_("A warning needs the counselling centre's attention"),
    OwnerTier.LEADERSHIP: N_("A warning has been escalated to school leadership"),
}


def policy_for(level: int) -> LevelResponse:
    return RESPONSE_POLICY[max(BLUE, min(RED, level))]


def window_for(level: int, kind: str) -> timedelta:
    """How long a deadline of `kind` gives at `level` (follow-ups: the level's cadence)."""
    response = policy_for(level)
    for rule in response.deadlines:
        if rule.kind == kind:
            return rule.within
    return response.follow_up_every


def plan_response(
    session: Session, warning: Warning, previous_level: int | None, now: datetime
) -> None:
    """Set the owner and deadlines for a warning whose level was just set or changed.

    What the old level owed and was not yet done is superseded (neither met nor missed); the new
    level's deadlines and peer tasks are created and its owners notified. Same level: nothing.
    """
    if previous_level is not None and warning.level == previous_level:
        return
    session.flush()  # the warning needs its id
    response = policy_for(warning.level)
    raised = previous_level is None or warning.level > previous_level
    owner = int(response.owner)
    warning.owner_tier = max(owner, warning.owner_tier or 0) if raised else owner
    warning.owner_since = now
    supersede_open(session, warning, now)
    for rule in response.deadlines:
        add_deadline(session, warning, rule.kind, rule.tier, now + rule.within)
    for tier in response.notify_tiers:
        notify_tier(session, warning, tier)
    if response.notify_department_leader:
        notify(
            session,
            owners(session, warning, OwnerTier.DEPARTMENT, leaders_only=True),
            NOTIFICATION_TEXT[OwnerTier.DEPARTMENT],
            TASKS_LINK,
        )


def supersede_open(session: Session, warning: Warning, now: datetime) -> None:
    """End what is still owed on `warning` (level change or closure): deadlines and peer tasks."""
    session.execute(
        update(Deadline)
        .where(
            Deadline.warning_id == warning.id,
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Task)
        .where(Task.warning_id == warning.id, Task.done_at.is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(warning, ["deadlines"])


def add_deadline(
    session: Session, warning: Warning, kind: str, tier: OwnerTier | int, due_at: datetime
) -> Deadline:
    """A deadline owed by `tier`; class-tier ones also become tasks for the class and the room."""
    deadline = Deadline(warning_id=warning.id, kind=kind, tier=int(tier), due_at=due_at)
    session.add(deadline)
    if int(tier) <= OwnerTier.CLASS and kind in PEER_TASK_TEXT:
        add_peer_tasks(session, warning, kind, due_at, created_by=None)
    return deadline


def add_peer_tasks(
    session: Session, warning: Warning, kind: str, due_at: datetime, created_by: User | None
) -> list[Task]:
    """Tasks for the class committee and the dorm informant, worded without clinical detail."""
    student = session.get(Student, warning.student_id)
    text = PEER_TASK_TEXT[kind] % {"name": student.name}
    addressees = [{"assignee_class_id": student.class_id}]
    if student.room_id is not None:
        addressees.append({"assignee_room_id": student.room_id})
    tasks = [
        Task(
            institution_id=warning.institution_id,
            student_id=student.id,
            warning_id=warning.id,
            kind=kind,
            text=text,
            due_at=due_at,
            created_by_id=created_by.id if created_by else None,
            **addressee,
        )
        for addressee in addressees
    ]
    session.add_all(tasks)
    return tasks


def owners(
    session: Session, warning: Warning, tier: OwnerTier | int, *, leaders_only: bool = False
) -> list[int]:
    """The users who hold `tier` for this warning's student, by role assignment."""
    student = session.get(Student, warning.student_id)
    tier = OwnerTier(tier)
    query = select(RoleAssignment.user_id).where(
        RoleAssignment.institution_id == warning.institution_id
    )
    if tier is OwnerTier.DORM:
        if student.room_id is None:
            return []
        query = query.where(
            RoleAssignment.role == Role.DORM_INFORMANT, RoleAssignment.room_id == student.room_id
        )
    elif tier is OwnerTier.CLASS:
        query = query.where(
            RoleAssignment.role == Role.CLASS_COMMITTEE,
            RoleAssignment.class_id == student.class_id,
        )
    elif tier is OwnerTier.DEPARTMENT:
        roles = (Role.DEPT_LEADER,) if leaders_only else (Role.DEPT_COUNSELLOR, Role.DEPT_LEADER)
        query = query.where(
            RoleAssignment.role.in_(roles), RoleAssignment.department_id == warning.department_id
        )
    elif tier is OwnerTier.SCHOOL:
        query = query.where(RoleAssignment.role == Role.SCHOOL_COUNSELLOR)
    else:
        query = query.where(RoleAssignment.role == Role.DIRECTOR)
    return sorted(set(session.scalars(query)))


def notify_tier(session: Session, warning: Warning, tier: OwnerTier | int) -> None:
    notify(session, owners(session, warning, tier), NOTIFICATION_TEXT[OwnerTier(tier)], TASKS_LINK)


def meet(session: Session, warning: Warning, kinds: Iterable[str], now: datetime) -> int:
    """Mark the warning's open deadlines of `kinds` met; returns how many."""
    return session.execute(
        update(Deadline)
        .where(
            Deadline.warning_id == warning.id,
            Deadline.kind.in_(list(kinds)),
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
        )
        .values(met_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def plan_follow_up(session: Session, warning: Warning, due_at: datetime, now: datetime) -> Deadline:
    """Replace the warning's pending follow-up with one due at `due_at`, owed by the tier that
    owns the level's routine follow-up (class for blue, department for yellow, school for red)."""
    session.execute(
        update(Deadline)
        .where(
            Deadline.warning_id == warning.id,
            Deadline.kind == "follow_up",
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Task)
        .where(Task.warning_id == warning.id, Task.kind == "follow_up", Task.done_at.is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    return add_deadline(session, warning, "follow_up", policy_for(warning.level).owner, due_at)
