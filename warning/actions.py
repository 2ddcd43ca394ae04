"""What people do with a warning: acknowledge, contact, guardian, assessment, peer watch,
follow-up, level change, escalation, closure (解除预警), and class/dorm task completion.

Every action takes the warning's version as the actor saw it: if someone else changed the warning
meanwhile the action raises `StaleWarning` and writes nothing (the version column makes a racing
commit fail too). Each action meets the matching deadline, writes a timeline event and an audit
row, and commits its unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import false, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from campus import audit, clock
from campus.i18n import N_
from campus.models import Institution, Role, Student, User
from campus.scope import Capability, student_filter
from warning import caseload, escalation, permissions, reports, response
from warning.models import Deadline, EarlyWarning, OwnerTier, Task, WarningEvent, WarningStatus


class StaleWarning(Exception):
    """Someone else updated the warning first; nothing was written."""


class ActionNotAllowed(Exception):
    """The actor's role does not allow this action on this warning."""


class InvalidAction(ValueError):
    """The action's input breaks a rule; the message says which (shown to the user)."""


CONTACT_METHODS = ("phone", "in_person", "message", "video")


def _unit_of_work(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    action: str,
    work: Callable[[], None],
    *,
    audited_by_work: bool = False,
) -> EarlyWarning:
    """Check role, state and version, run `work`, bump the version, audit (unless `work` writes
    its own, richer audit row) and commit."""
    if not permissions.can_act_on(actor, warning, action):
        raise ActionNotAllowed(action)
    if warning.status != WarningStatus.OPEN:
        raise InvalidAction(N_("This warning is closed."))
    if warning.version != expected_version:
        raise StaleWarning()
    try:
        work()
        # Every action changes the warning, so a racing action on the same version loses.
        flag_modified(warning, "owner_tier")
        if not audited_by_work:
            audit.record_on(
                session,
                warning,
                actor=actor,
                action=f"warning.{action}",
                record_type="warning",
            )
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleWarning() from None
    except Exception:
        session.rollback()
        raise
    return warning


def _event(
    session: Session, warning: EarlyWarning, actor: User, kind: str, now: datetime, **fields
):
    session.add(WarningEvent.of(warning, actor, kind, now, **fields))


def acknowledge(
    session: Session, actor: User, warning: EarlyWarning, expected_version: int, now: datetime
) -> EarlyWarning:
    def work() -> None:
        if warning.acknowledged_at is None:
            warning.acknowledged_at = now
        response.meet(session, warning, ["acknowledge"], now)
        _event(session, warning, actor, "acknowledged", now)
        caseload.take_on(session, actor, warning, now)
        reports.mark_followed_up(session, warning, now)

    return _unit_of_work(session, actor, warning, expected_version, "acknowledge", work)


def log_contact(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    method: str,
    outcome: str,
    note: str | None = None,
) -> EarlyWarning:
    """A contact with the student; it also counts as acknowledgement and plans the next follow-up
    at the level's cadence."""
    if method not in CONTACT_METHODS:
        raise InvalidAction(N_("Choose how the student was contacted."))
    if not outcome.strip():
        raise InvalidAction(N_("Say what came of the contact."))

    def work() -> None:
        warning.last_contact_at = now
        warning.acknowledged_at = warning.acknowledged_at or now
        response.meet(session, warning, ["acknowledge", "contact", "follow_up"], now)
        _event(
            session,
            warning,
            actor,
            "contact",
            now,
            method=method,
            outcome=outcome.strip()[:200],
            note=(note or "").strip() or None,
        )
        every = response.follow_up_every(session, warning)
        response.plan_follow_up(session, warning, now + every, now)
        caseload.take_on(session, actor, warning, now)
        reports.mark_followed_up(session, warning, now)

    return _unit_of_work(session, actor, warning, expected_version, "contact", work)


def notify_guardian(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    method: str,
    note: str | None = None,
) -> EarlyWarning:
    if method not in CONTACT_METHODS:
        raise InvalidAction(N_("Choose how the guardian was told."))

    def work() -> None:
        response.meet(session, warning, ["guardian_notified"], now)
        _event(
            session,
            warning,
            actor,
            "guardian_notified",
            now,
            method=method,
            note=(note or "").strip() or None,
        )

    return _unit_of_work(session, actor, warning, expected_version, "guardian", work)


def record_assessment(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    outcome: str,
    note: str | None = None,
) -> EarlyWarning:
    """The school counsellor's professional assessment (its note is clinical: school only)."""
    if not outcome.strip():
        raise InvalidAction(N_("Give the assessment's outcome."))

    def work() -> None:
        warning.last_contact_at = now
        warning.acknowledged_at = warning.acknowledged_at or now
        response.meet(session, warning, ["acknowledge", "assessment"], now)
        _event(
            session,
            warning,
            actor,
            "assessment",
            now,
            outcome=outcome.strip()[:200],
            note=(note or "").strip() or None,
        )
        caseload.take_on(session, actor, warning, now)
        reports.mark_followed_up(session, warning, now)

    return _unit_of_work(session, actor, warning, expected_version, "assessment", work)


def assign_peer_watch(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    due_at: datetime,
) -> EarlyWarning:
    """Ask the student's class committee and dorm informant to keep company with the student;
    the tasks name the student and nothing else."""
    if due_at <= now:
        raise InvalidAction(N_("The peer watch must end in the future."))

    def work() -> None:
        response.add_peer_tasks(session, warning, "peer_watch", due_at, created_by=actor)
        response.meet(session, warning, ["peer_watch"], now)
        _event(session, warning, actor, "peer_watch_assigned", now)
        response.notify_tier(session, warning, OwnerTier.CLASS)
        response.notify_tier(session, warning, OwnerTier.DORM)

    return _unit_of_work(session, actor, warning, expected_version, "peer_watch", work)


def schedule_follow_up(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    due_at: datetime,
) -> EarlyWarning:
    """Set the next follow-up sooner than the cadence, never later (the cadence is the floor)."""
    every = response.follow_up_every(session, warning)
    if not now < due_at <= now + every:
        raise InvalidAction(N_("Choose a follow-up date within the level's follow-up cadence."))

    def work() -> None:
        response.plan_follow_up(session, warning, due_at, now)
        _event(session, warning, actor, "follow_up_scheduled", now, outcome=due_at.isoformat())

    return _unit_of_work(session, actor, warning, expected_version, "follow_up", work)


def change_level(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    level: int,
    reason: str,
) -> EarlyWarning:
    """The one way a person overrides a level, in the same unit of work as every other action:
    scope, state and version first, then the early-warning service's override rules (who may
    raise or lower, a reason), then the override itself and the commit.

    Its `OverrideError` (a ValueError) reaches the caller with its message.
    """
    from warning import services

    def work() -> None:
        allowed = services.check_override(actor, warning, level, reason)
        services.do_override_level(
            session, warning=warning, actor=actor, level=level, reason=allowed, now=now
        )

    return _unit_of_work(
        session, actor, warning, expected_version, "level", work, audited_by_work=True
    )


def escalate_manually(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    reason: str,
) -> EarlyWarning:
    if len(reason.strip()) < 10:
        raise InvalidAction(N_("Say why you escalate (at least 10 characters)."))
    if warning.owner_tier >= OwnerTier.LEADERSHIP:
        raise InvalidAction(N_("This warning is already with school leadership."))

    def work() -> None:
        escalation.escalate(
            session,
            warning,
            warning.owner_tier,
            warning.owner_tier + 1,
            now,
            actor=actor,
            note=reason.strip(),
        )

    return _unit_of_work(session, actor, warning, expected_version, "escalate", work)


def close(
    session: Session,
    actor: User,
    warning: EarlyWarning,
    expected_version: int,
    now: datetime,
    *,
    outcome: str,
    review_date: date,
) -> EarlyWarning:
    """解除预警: a school counsellor ends the warning with an outcome and a review date; what was
    still owed ends with it. A later signal opens a new warning."""
    if len(outcome.strip()) < 10:
        raise InvalidAction(N_("Describe the outcome (at least 10 characters)."))
    zone = clock.institution_zone(session.get(Institution, warning.institution_id))
    if review_date <= clock.local_date(now, zone):
        raise InvalidAction(N_("The review date must be in the future."))

    def work() -> None:
        response.supersede_open(session, warning, now)
        warning.status = WarningStatus.CLOSED
        warning.closed_at = now
        warning.closed_by_id = actor.id
        warning.close_outcome = outcome.strip()[:500]
        warning.review_date = review_date
        _event(session, warning, actor, "closed", now, outcome=outcome.strip()[:200])
        reports.mark_followed_up(session, warning, now)

    return _unit_of_work(session, actor, warning, expected_version, "close", work)


# --------------------------------------------------------------------------------------------------
# Tasks of the class and dorm tiers (and any addressed task)
# --------------------------------------------------------------------------------------------------


class TaskAlreadyDone(Exception):
    """The task was completed before (a double submit or a second reporter)."""


def complete_task(
    session: Session, actor: User, task: Task, now: datetime, *, note: str | None = None
) -> Task:
    """Mark a task done with a short non-clinical note; a peer task meets the warning's deadline
    of the same kind (the check-in, the peer watch) and, for a check-in, plans the next one."""
    if not permissions.can_complete_task(actor, task):
        raise ActionNotAllowed("task")
    claimed = session.execute(
        update(Task)
        .where(Task.id == task.id, Task.done_at.is_(None))
        .values(done_at=now, done_by_id=actor.id, done_note=(note or "").strip()[:500] or None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        session.rollback()
        raise TaskAlreadyDone()
    warning = session.get(EarlyWarning, task.warning_id) if task.warning_id else None
    if warning is not None and warning.status == WarningStatus.OPEN:
        _complete_peer_work(session, actor, warning, task, now)
    audit.record_on(
        session,
        task,
        actor=actor,
        action="task.done",
        record_type="task",
    )
    session.commit()
    session.refresh(task)
    return task


def _complete_peer_work(
    session: Session, actor: User, warning: EarlyWarning, task: Task, now: datetime
) -> None:
    if not response.meet(session, warning, [task.kind], now):
        return
    _event(session, warning, actor, "task_done", now, outcome=task.kind)
    if task.kind in ("check_in", "follow_up"):
        every = response.follow_up_every(session, warning)
        response.plan_follow_up(session, warning, now + every, now)


def open_tasks_query(actor: User, *, include_done: bool = False):
    """Open (with `include_done`: all) tasks addressed to `actor` directly or through their
    class, room or department, for students in the actor's roster scope (or about no student,
    like a missing report)."""
    clauses = [Task.assignee_user_id == actor.id]
    for a in actor.roles:
        if a.role == Role.CLASS_COMMITTEE:
            clauses.append(Task.assignee_class_id == a.class_id)
        elif a.role == Role.DORM_INFORMANT:
            clauses.append(Task.assignee_room_id == a.room_id)
        elif a.role in permissions.DEPARTMENT_ROLES:
            clauses.append(Task.assignee_department_id == a.department_id)
    institutions = sorted({a.institution_id for a in actor.roles})
    return (
        select(Task)
        .outerjoin(Student, Student.id == Task.student_id)
        .where(
            true() if include_done else Task.done_at.is_(None),
            Task.institution_id.in_(institutions) if institutions else false(),
            or_(*clauses),
            or_(Task.student_id.is_(None), student_filter(actor, Capability.ROSTER)),
        )
        .order_by(Task.due_at)
    )


def open_deadlines(session: Session, actor: User) -> list[tuple[Deadline, EarlyWarning, Student]]:
    """The open deadlines of open warnings `actor` works from (see
    `permissions.deadline_clause`), inside their WARNING scope, soonest first."""
    return session.execute(
        select(Deadline, EarlyWarning, Student)
        .join(EarlyWarning, EarlyWarning.id == Deadline.warning_id)
        .join(Student, Student.id == EarlyWarning.student_id)
        .where(
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
            EarlyWarning.status == WarningStatus.OPEN,
            student_filter(actor, Capability.WARNING),
            permissions.deadline_clause(actor),
        )
        .order_by(Deadline.due_at)
        .limit(500)
    ).all()
