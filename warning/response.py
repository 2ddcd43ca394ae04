"""The response network: who owns a warning at each level, what is owed by when, who is told.

What each level owes (owner tier, first-response deadlines, follow-up cadence, who is notified) is
the institution's active response policy (``warning.response_policy``, a versioned YAML file). A
rise supersedes what the old level owed (said on the timeline) and plans what the new one owes; a
fall keeps what is owed until done and adds the new level's first response; each deadline names
the policy version that set it; the escalation sweep (``warning.escalation``) acts on what
is missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from campus.notifications import Standing
from campus.notifications import notify_many
from campus.notifications import notify_standing
from campus.scope import Capability
from campus.scope import student_filter
from warning import permissions
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import TaskClosed
from warning.models import WarningEvent
from warning.policy import Level
from warning.response_policy import LevelResponse
from warning.response_policy import ResponsePolicy
from warning.response_policy import active_response_policies
from warning.response_policy import active_response_policy

TASKS_LINK = "/tasks"


# Deadlines the class and dorm tiers meet by completing a task; the task text is all they see.
PEER_TASK_KINDS = frozenset({"peer_watch", "check_in", "follow_up"})
# The peer tasks that serve their deadline: met by anyone (a staff contact, the other peer),
# the open ones close. A peer watch's tasks are the watch itself, asked for by meeting its
# deadline (the department arranging it), so they stay until the watch ends or is no longer owed.
CLOSED_WHEN_MET = frozenset({"check_in", "follow_up"})
# A blue's first check-in and its follow-ups ask a peer the same thing: one open task for both.
SAME_PURPOSE = {kind: CLOSED_WHEN_MET for kind in CLOSED_WHEN_MET}

# Every task a class committee member or dorm informant is given about a student reads the same,
# whatever gave it (a warning's peer watch, check-in or follow-up, a return-to-school plan, a
# check-in after a crisis nearby): a peer who has seen two tasks cannot tell a red from a blue,
# nor a crisis from a return to school. It names no period either: the task list shows when each
# one is due. By default a red's peer watch is arranged by the department counsellor and due at
# the end of the watch she sets (7 days unless she sets another), as a blue's check-in is due in
# 7 days, so its due time tells a peer nothing of the level either.
PEER_TASK_TEXT = N_("Please keep company with %(name)s and see how they are doing")


def peer_task_text(student: Student) -> Message:
    """What a peer's task about `student` says, in the reader's language when shown."""
    return Message(PEER_TASK_TEXT, name=student.name)


# What each tier reads in its inbox and mail: never the student, the level or a score. In the
# app, a reader whose scope covers the student at WARNING also gets a `notice_detail`.
NOTIFICATION_TEXT = {
    OwnerTier.DORM: N_("You have a new task"),
    OwnerTier.CLASS: N_("You have a new task"),
    OwnerTier.DEPARTMENT: N_("A warning in your department needs attention"),
    OwnerTier.SCHOOL: N_("A warning needs the counselling centre's attention"),
    OwnerTier.LEADERSHIP: N_("A warning has been escalated to school leadership"),
}

# A class committee member or dorm informant hears of new tasks through one note: while it is
# unread, each new task raises it (its count, the time of the latest) instead of adding another,
# and it is mailed again only `PEER_MAIL_EVERY` after it last went out; once read, the next task
# is a new note. An informant given eighteen tasks reads "You have new tasks, 18 in all" once.
PEER_TASKS_KEY = "peer_tasks"
NEW_TASKS_TEXT = N_("You have new tasks")
PEER_MAIL_EVERY = timedelta(hours=1)

# The department leader oversees the department's warnings and receives its escalations: one
# that leaves the department for a tier above reaches the leader with a note naming that tier
# (the mail stays as neutral as the tiers' own notes).
ESCALATED_TEXT = {
    OwnerTier.SCHOOL: N_("A warning in your department was escalated to the counselling centre"),
    OwnerTier.LEADERSHIP: N_("A warning in your department was escalated to school leadership"),
}

# A warning left waiting at school leadership has its deadline passed on again within leadership
# at each missed window (a red's acknowledgement: every hour). Leadership's note of it is raised
# again each time, saying so; its mail goes out again only at the response policy's interval
# (`leadership_reminder_hours`, 4 by default), so a night of waiting is a reminder every few
# hours, not a mail every hour.
STILL_OUTSTANDING_TEXT = N_("A warning escalated to school leadership is still outstanding")

# The centre, when a deadline it owed went up to school leadership: the case's counsellor when
# the case has one (it is theirs), else the centre's counsellors. Once per escalation.
CENTRE_MISSED_TEXT = {
    "case": N_("A case of yours was escalated to school leadership"),
    "centre": N_("A warning the counselling centre owed was escalated to school leadership"),
}

# The person on duty (值班) when a red warning is raised: a note of its own, so they know it is
# theirs to look at now, whichever tier they belong to.
ON_DUTY_TEXT = N_("A red warning was raised while you are on duty: please look at it now")
# New crisis evidence on a warning that is already red: nothing is re-planned, but the centre hears.
RED_EVIDENCE_TEXT = N_("New crisis information arrived on a red warning: please look at it now")
# A red warning's unread evidence note raised again by more evidence is mailed again this late.
RED_EVIDENCE_MAIL_EVERY = timedelta(hours=1)


def follow_up_every(session: Session, warning: EarlyWarning) -> timedelta:
    """The follow-up cadence of `warning`'s level under its own institution's active policy."""
    policy = active_response_policy(session, warning.institution_id)
    return policy.for_level(warning.level).follow_up_every


def acknowledgement_owed_by(session: Session, warning: EarlyWarning) -> OwnerTier | None:
    """The tier whose acknowledgement `warning`'s level owes under its institution's active
    response policy, or None when the level owes none."""
    response = active_response_policy(session, warning.institution_id).for_level(warning.level)
    return next((OwnerTier(r.tier) for r in response.deadlines if r.kind == "acknowledge"), None)


def plan_response(
    session: Session, warning: EarlyWarning, previous_level: int | None, now: datetime
) -> None:
    """Set the owner and deadlines for a warning whose level was just set or changed: by a new
    signal (triage) or a person's override alike. Same level: nothing.

    A rise replaces what the lower level planned with what the new one owes: every deadline
    still owed (its first response and its follow-up, with the follow-up's owner and cadence) is
    superseded, each said on the timeline (`superseded`), and the new level's first response
    planned; its cadence follows once that is done (`plan_follow_up`). The class's and the
    room's open tasks end with the old plan; a peer who was keeping the student company is asked
    again at the new level's urgency (`_ask_peers_again`), never left with the old date.
    A fall keeps what the higher level owed until it is done (its acknowledgement apart): a lower
    level makes no step owed to a student at higher risk less due, nor the peers' company. The new
    level's first response comes beside it, a step already owed kept at its own due time.
    """
    if previous_level is not None and warning.level == previous_level:
        return
    session.flush()  # the warning needs its id
    policy = active_response_policy(session, warning.institution_id)
    response = policy.for_level(warning.level)
    raised = previous_level is None or warning.level > previous_level
    owner = int(response.owner)
    warning.owner_tier = max(owner, warning.owner_tier or 0) if raised else owner
    if raised and any(rule.kind == "acknowledge" for rule in response.deadlines):
        # The new level owes its own acknowledgement: a yellow acknowledged by the department
        # and raised to red is not yet acknowledged by the centre, and leads its red queue.
        warning.acknowledged_at = None
    warning.owner_since = now
    owed: set[str] = set()
    peers_asked: list[Task] = []
    if raised and previous_level is not None:
        peers_asked = _open_peer_tasks(session, warning)
        ended = _supersede(session, warning, now)
        _say_superseded(session, warning, ended, now)
    elif not raised:
        # Only the higher level's acknowledgement goes: it asked the tier to have seen the
        # warning at that level, and a fall is that tier's own decision (only the centre lowers
        # a red) or the lapse of a level that owes none.
        _say_superseded(session, warning, _supersede(session, warning, now, "acknowledge"), now)
        owed = {deadline.kind for deadline in still_owed(session, warning)}
    session.expire(warning, ["deadlines"])
    for rule in response.deadlines:
        if rule.kind not in owed:  # a fall: the higher level's same step stays, due as it was
            add_deadline(session, warning, rule.kind, rule.tier, now + rule.within, policy, now)
    if peers_asked:
        _ask_peers_again(session, warning, response, peers_asked, now)
    told = told_tiers(response)
    # Whoever is on duty (值班) hears of a new red at once, in this transaction, with a note of
    # their own instead of (never beside) the one their tier would have had.
    on_duty = _on_duty(session, warning, now) if warning.level == Level.RED else []
    notify_tiers(session, [(warning, tier) for tier in told], skip=on_duty)
    if response.notify_department_leader and OwnerTier.DEPARTMENT not in told:
        notify_tiers(session, [(warning, OwnerTier.DEPARTMENT)], leaders_only=True, skip=on_duty)
    if on_duty:
        notify_on_duty(session, warning, on_duty)


def _open_peer_tasks(session: Session, warning: EarlyWarning) -> list[Task]:
    """The class's and the room's open tasks about `warning` (a check-in, a follow-up, a watch)."""
    return list(
        session.scalars(
            select(Task).where(
                Task.warning_id == warning.id,
                Task.kind.in_(PEER_TASK_KINDS),
                Task.done_at.is_(None),
            )
        )
    )


def _say_superseded(
    session: Session, warning: EarlyWarning, ended: list[Deadline], now: datetime
) -> None:
    """One timeline line for each step a level change took off the old level's plan: which
    step, whose and when it was due, so "Follow-up contact (class) due Fri 18 Dec" does not
    vanish unexplained from the case (it is kept, superseded, never deleted)."""
    for deadline in ended:
        session.add(
            WarningEvent.of(
                warning,
                None,
                "superseded",
                now,
                from_tier=deadline.tier,
                outcome=deadline.kind,
                outcome_params={"due_at": deadline.due_at.isoformat(), "tier": deadline.tier},
            )
        )


def _ask_peers_again(
    session: Session,
    warning: EarlyWarning,
    response: LevelResponse,
    asked: list[Task],
    now: datetime,
) -> None:
    """The class and the room were keeping the student company when the level rose: they are
    asked again at the new level's urgency, as the new level's own peer step (a red's peer
    watch, due with the department's arranging it; a blue's check-in), so the task the old
    level gave them does not stay listed for later with its old date. Arranging the watch then
    extends it to the watch's end (`add_peer_tasks`). A level with no peer step (yellow, by
    default: the department's own contact) ends their task: it is no longer theirs to do.
    They are asked again only when they were asked before, and told by their standing note: no
    peer learns of the student from a rise."""
    step = next((rule for rule in response.deadlines if rule.kind in PEER_TASK_KINDS), None)
    if step is None:
        return
    if int(step.tier) <= OwnerTier.CLASS:
        return  # a step the class owes gave its tasks with its deadline, and told them
    add_peer_tasks(session, warning, step.kind, now + step.within, now, created_by=None)
    notify_tiers(session, [(warning, OwnerTier.CLASS), (warning, OwnerTier.DORM)])


def _on_duty(session: Session, warning: EarlyWarning, now: datetime) -> list[int]:
    """Who is on duty at `warning`'s institution now (the appointments domain's roster)."""
    # Imported here: appointments comes after warning in the chain, and its booking code may
    # itself raise warnings, so a module-level import would make the two domains a cycle.
    from appointments.roster import on_duty_user_ids

    return on_duty_user_ids(session, warning.institution_id, now)


def told_tiers(response: LevelResponse) -> list[OwnerTier]:
    """The tiers told of a level: those the policy names, and everyone who owes one of its
    first-response deadlines. Red's guardian call and peer watch are the department
    counsellor's by default, so the department hears of a red the moment it is set, not when
    the deadline escalates; the class and the room hear nothing until she asks them to keep
    company. A policy that makes a peer kind the class's own (a campus's 24-hour peer watch
    owed by the class) gives the class and the room their task at once (`add_deadline`), so
    they hear of it, by their standing note that names no student or level, instead of finding
    it by chance before its window runs out."""
    told = [OwnerTier(tier) for tier in response.notify_tiers]
    for rule in response.deadlines:
        for tier in _owing(rule.kind, OwnerTier(rule.tier)):
            if tier not in told:
                told.append(tier)
    return told


def _owing(kind: str, tier: OwnerTier) -> list[OwnerTier]:
    """Who does the work of a deadline of `kind` owed by `tier`: a staff tier itself; a peer
    kind owed by the class or dorm is done by both, as their tasks."""
    if tier >= OwnerTier.DEPARTMENT:
        return [tier]
    return [OwnerTier.CLASS, OwnerTier.DORM] if kind in PEER_TASK_KINDS else []


def supersede_open(session: Session, warning: EarlyWarning, now: datetime) -> None:
    """End what is still owed on `warning` (level change or closure): deadlines and peer tasks."""
    _supersede(session, warning, now)
    session.expire(warning, ["deadlines"])


def _still_owed(warning: EarlyWarning) -> ColumnElement[bool]:
    """The deadlines of `warning` neither met, escalated nor superseded."""
    return and_(Deadline.warning_id == warning.id, Deadline.still_owed())


def still_owed(session: Session, warning: EarlyWarning) -> list[Deadline]:
    """What is still owed on `warning`, soonest first. The response card lists it, so whoever opens
    the case sees what is due, from which tier and by when, not only who owns the warning."""
    return list(
        session.scalars(select(Deadline).where(_still_owed(warning)).order_by(Deadline.due_at))
    )


def settled_notes(session: Session, notes: Iterable[Notification]) -> dict[int, str]:
    """Note id -> what became of the deadline it names, for the `notes` (inbox notes) whose
    deadline is no longer owed: "met", "escalated" (passed on to the next tier) or "ended" (the
    level changed or the warning closed); one passed on within school leadership is still owed.
    The inbox shows it instead of the urgent mark, so a counsellor who acknowledged eighteen reds
    is not still told to acknowledge them. One query for the page; a note keeps its unread state
    (the person has not read it)."""
    named = {note.id: key for note in notes if (key := _named_deadline(note)) is not None}
    if not named:
        return {}
    rows = session.execute(
        select(
            EarlyWarning.student_id,
            Deadline.kind,
            Deadline.due_at,
            Deadline.tier,
            Deadline.met_at,
            Deadline.escalated_at,
            Deadline.superseded_at,
        )
        .join(EarlyWarning, EarlyWarning.id == Deadline.warning_id)
        .where(
            EarlyWarning.student_id.in_({student for student, _, _ in named.values()}),
            Deadline.kind.in_({kind for _, kind, _ in named.values()}),
        )
        .order_by(Deadline.due_at)
    ).all()
    fates = {(student, kind, due): _fate(*ends) for student, kind, due, _tier, *ends in rows}
    # Passed on within school leadership there is no next tier: such a deadline fares as the
    # last of its kind does (still owed at the top, met, ended), not as "passed on".
    latest = {(student, kind): _fate(*ends) for student, kind, _due, _tier, *ends in rows}
    for student, kind, due, tier, *_ends in rows:
        if tier >= OwnerTier.LEADERSHIP and fates[(student, kind, due)] == "escalated":
            fates[(student, kind, due)] = latest[(student, kind)]
    return {note_id: fate for note_id, key in named.items() if (fate := fates.get(key)) is not None}


def _fate(
    met: datetime | None, escalated: datetime | None, superseded: datetime | None
) -> str | None:
    """What became of a deadline; None while it is still owed."""
    if met is not None:
        return "met"
    if escalated is not None:
        return "escalated"
    if superseded is not None:
        return "ended"
    return None


def _named_deadline(note: Notification) -> tuple[object, str, datetime] | None:
    """(student id, deadline kind, due at) of the deadline a note's in-app detail names."""
    detail = note.detail or {}
    kind, due_at = detail.get("due_kind"), detail.get("due_at")
    if not isinstance(kind, str) or not isinstance(due_at, str):
        return None
    return detail.get("student_id"), kind, datetime.fromisoformat(due_at)


def _supersede(
    session: Session,
    warning: EarlyWarning,
    now: datetime,
    kind: str | None = None,
    *,
    reason: TaskClosed = TaskClosed.ENDED,
) -> list[Deadline]:
    """Supersede the deadlines still owed on `warning` and close its open tasks for `reason` (of
    `kind` only, when given): the work is no longer owed,
    which is not the same as done on time. Returns the deadlines superseded."""
    deadlines = [_still_owed(warning)]
    tasks = [Task.warning_id == warning.id]
    if kind is not None:
        deadlines.append(Deadline.kind == kind)
        tasks.append(Task.kind == kind)
    ended = list(session.scalars(select(Deadline).where(*deadlines).order_by(Deadline.due_at)))
    for deadline in ended:
        deadline.superseded_at = now
    session.flush()
    close_tasks(session, tasks, reason, now)
    return ended


def close_tasks(
    session: Session, where: Iterable[ColumnElement[bool]], reason: TaskClosed, now: datetime
) -> None:
    """Close the open tasks matching `where` for `reason`: they leave their addressees' lists
    (and the counts on their home pages) but are kept, with when and why, never deleted."""
    session.execute(
        update(Task)
        .where(Task.done_at.is_(None), *where)
        .values(done_at=now, closed_reason=reason)
        .execution_options(synchronize_session=False)
    )


def add_deadline(
    session: Session,
    warning: EarlyWarning,
    kind: str,
    tier: OwnerTier | int,
    due_at: datetime,
    policy: ResponsePolicy,
    now: datetime,
) -> Deadline:
    """A deadline owed by `tier`, set at `now`, due at the window `policy` gives it and naming
    its version; class-tier ones also become tasks for the class and the room."""
    deadline = Deadline(
        warning_id=warning.id,
        kind=kind,
        tier=int(tier),
        due_at=due_at,
        response_policy_version=policy.version,
    )
    session.add(deadline)
    if int(tier) <= OwnerTier.CLASS and kind in PEER_TASK_KINDS:
        add_peer_tasks(session, warning, kind, due_at, now, created_by=None)
    return deadline


def add_peer_tasks(
    session: Session,
    warning: EarlyWarning,
    kind: str,
    due_at: datetime,
    now: datetime,
    created_by: User | None,
) -> list[Task]:
    """Tasks for the class committee and the dorm informant, worded without clinical detail,
    given at `now`.

    A peer never holds two open tasks for one student and purpose: an addressee who already has
    this open task for the warning keeps that one, extended to the later due date (a peer watch
    asked for twice, a check-in passed on from the dorm to the class); one who has the check-in
    open when a follow-up is planned keeps it, due at the sooner of the two (`SAME_PURPOSE`:
    doing it meets the check-in and plans the next follow-up, as the follow-up's task asks).
    """
    student = session.get_one(Student, warning.student_id)  # a foreign key
    text = peer_task_text(student)
    addressees = [{"assignee_class_id": student.class_id}]
    if student.room_id is not None:
        addressees.append({"assignee_room_id": student.room_id})
    purpose = SAME_PURPOSE.get(kind, frozenset({kind}))
    open_tasks = session.scalars(
        select(Task).where(
            Task.warning_id == warning.id, Task.kind.in_(purpose), Task.done_at.is_(None)
        )
    ).all()
    tasks = []
    for addressee in addressees:
        task = next(
            (t for t in open_tasks if all(getattr(t, k) == v for k, v in addressee.items())),
            None,
        )
        if task is None:
            task = Task.saying(
                text,
                institution_id=warning.institution_id,
                student_id=student.id,
                warning_id=warning.id,
                kind=kind,
                due_at=due_at,
                created_at=now,
                created_by_id=created_by.id if created_by else None,
                **addressee,
            )
            session.add(task)
        elif task.kind == kind:  # asked again, or passed on from the dorm: the new window
            task.due_at = max(task.due_at, due_at)
        else:
            task.due_at = min(task.due_at, due_at)
        tasks.append(task)
    return tasks


def owners_many(
    session: Session,
    warnings: Iterable[EarlyWarning],
    tier: OwnerTier | int,
    *,
    leaders_only: bool = False,
) -> dict[int, list[int]]:
    """The active users who hold `tier` for each warning's student, by role assignment: warning
    id -> sorted user ids, in two queries whatever the number of warnings (their students, then
    the role assignments of every unit involved); a deactivated account is not among them. Nor
    is the student: a committee member or informant is not told of work about herself
    (`permissions.is_about`)."""
    warnings = list(warnings)
    tier = OwnerTier(tier)
    unit = _unit_of(session, warnings, tier)
    leaders = leaders_only and tier is OwnerTier.DEPARTMENT
    roles = {Role.DEPT_LEADER} if leaders else permissions.TIER_ROLES[tier]
    wanted = {key for key in unit.values() if key is not None}
    holders: dict[tuple[int, int | None], set[int]] = {key: set() for key in wanted}
    if wanted:
        column = getattr(RoleAssignment, _TIER_COLUMN[tier]) if tier in _TIER_COLUMN else None
        query = (
            select(RoleAssignment.user_id, RoleAssignment.institution_id, *_present(column))
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.role.in_(roles),
                RoleAssignment.institution_id.in_({institution for institution, _ in wanted}),
                User.active.is_(True),
            )
        )
        if column is not None:
            query = query.where(column.in_({value for _, value in wanted}))
        for user_id, institution_id, *value in session.execute(query):
            key = (institution_id, value[0] if value else None)
            if key in holders:
                holders[key].add(user_id)
    # Never the student herself, though she may hold her own class's or room's peer role.
    herself = _student_users(session, warnings) if tier <= OwnerTier.CLASS else {}
    return {
        warning.id: sorted(holders.get(place, set()) - {herself.get(warning.id)})
        if (place := unit[warning.id])
        else []
        for warning in warnings
    }


def _student_users(session: Session, warnings: list[EarlyWarning]) -> dict[int, int | None]:
    """warning id -> its student's account, from the identity map (`_unit_of` loaded the
    students of the peer tiers)."""
    return {w.id: session.get_one(Student, w.student_id).user_id for w in warnings}


# The column of the role assignment that names the student's unit for each tier (school and
# leadership tiers hold the whole institution).
_TIER_COLUMN = {
    OwnerTier.DORM: "room_id",
    OwnerTier.CLASS: "class_id",
    OwnerTier.DEPARTMENT: "department_id",
}


def _unit_of(
    session: Session, warnings: list[EarlyWarning], tier: OwnerTier
) -> dict[int, tuple[int, int | None] | None]:
    """warning id -> (institution, unit id) whose holders own `tier`; None when the student has
    no such unit (no dorm room)."""
    if tier is OwnerTier.DEPARTMENT:
        return {w.id: (w.institution_id, w.department_id) for w in warnings}
    if tier not in (OwnerTier.DORM, OwnerTier.CLASS):
        return {w.id: (w.institution_id, None) for w in warnings}
    students = students_of(session, warnings)
    unit = {}
    for w in warnings:
        value = getattr(students[w.student_id], _TIER_COLUMN[tier])
        unit[w.id] = None if value is None else (w.institution_id, value)
    return unit


def _present(column) -> list:
    return [] if column is None else [column]


def students_of(session: Session, warnings: Iterable[EarlyWarning]) -> dict[int, Student]:
    """The warnings' students by id, in one query; they stay in the session's identity map, so
    a later `session.get(Student, id)` in the same unit of work costs no round trip."""
    ids = {w.student_id for w in warnings}
    return {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}


def notify_tier(session: Session, warning: EarlyWarning, tier: OwnerTier | int) -> None:
    notify_tiers(session, [(warning, tier)])


def notify_tiers(
    session: Session,
    pairs: Iterable[tuple[EarlyWarning, OwnerTier | int]],
    *,
    leaders_only: bool = False,
    skip: Iterable[int] = (),
) -> None:
    """Tell the holders of each (warning, tier) that the warning needs them, in one batch:
    one owner lookup per tier and one write of every note. Staff tiers whose scope covers the
    student get the in-app detail (who, level, what is due); the mail stays neutral. A note about
    a red warning heads the inbox until read (an escalation's notes are `notify_escalations`').
    Users in `skip` are told otherwise by the caller (the person on duty) and get no note here."""
    by_tier: dict[OwnerTier, list[EarlyWarning]] = {}
    order = []
    for warning, tier in pairs:
        by_tier.setdefault(OwnerTier(tier), []).append(warning)
        order.append((warning, OwnerTier(tier)))
    skipped = set(skip)
    found = {
        tier: {
            warning_id: [i for i in ids if i not in skipped]
            for warning_id, ids in owners_many(session, ws, tier, leaders_only=leaders_only).items()
        }
        for tier, ws in by_tier.items()
    }
    staff = [(w, found[tier][w.id], tier) for w, tier in order if tier >= OwnerTier.DEPARTMENT]
    details = notice_details(session, staff)
    notify_many(
        session,
        [
            (
                found[tier][w.id],
                NOTIFICATION_TEXT[tier],
                TASKS_LINK,
                details.get((w.id, tier), {}),
                w.level == Level.RED,
            )
            for w, tier in order
            if tier >= OwnerTier.DEPARTMENT
        ],
    )
    # The class and dorm tiers are told of their tasks by their one standing note.
    peers = [(w, tier) for w, tier in order if tier < OwnerTier.DEPARTMENT]
    notify_new_tasks(session, [i for w, tier in peers for i in found[tier][w.id]], clock.now())


def notify_new_tasks(session: Session, told: Iterable[int], now: datetime) -> None:
    """Tell peers (class committee members, dorm informants) of new tasks, one user id a task:
    by their one standing note (`PEER_TASKS_KEY`, see `PEER_MAIL_EVERY`) through
    `notify_standing`. Never marked urgent: a peer who saw 紧急 on a classmate's task would know
    her level; the task's due time (明天 09:00) says how soon."""
    count: dict[int, int] = {}
    for user_id in told:
        count[user_id] = count.get(user_id, 0) + 1
    if not count:
        return
    current = {
        note.user_id: note
        for note in session.scalars(
            select(Notification).where(
                Notification.digest_key == PEER_TASKS_KEY, Notification.user_id.in_(count)
            )
        )
    }
    standing = []
    for user_id in sorted(count):
        note = current.get(user_id)
        unread = note is not None and note.read_at is None
        detail: dict[str, object] = {}
        if unread:
            assert note is not None
            count[user_id] += announced_tasks(note)
            detail = {k: v for k, v in (note.detail or {}).items() if k == "since"}
            note.created_at = now  # it takes its place in the inbox at its latest task
        elif note is not None and note.read_at is not None:
            # The new note's tasks are those since the last one was read (`still_new_tasks`).
            detail = {"since": note.read_at.isoformat()}
        many = count[user_id] > 1
        standing.append(
            Standing(
                [user_id],
                PEER_TASKS_KEY,
                NEW_TASKS_TEXT if many else NOTIFICATION_TEXT[OwnerTier.CLASS],
                TASKS_LINK,
                {user_id: detail | {"new_tasks": count[user_id]}},
                again=unread,
            )
        )
    notify_standing(session, standing, now, remind_every=PEER_MAIL_EVERY)


def announced_tasks(note: Notification) -> int:
    """How many new tasks a peer note announced as they came (one for a note of before)."""
    counted = (note.detail or {}).get("new_tasks")
    return counted if isinstance(counted, int) else 1


def notify_escalations(
    session: Session, steps: Iterable[tuple[EarlyWarning, int, int, str | None]], now: datetime
) -> None:
    """Tell the people of a batch of escalations, each (warning, from tier, to tier, the kind of
    deadline missed or None for a manual escalation): the holders
    of every tier reached; for a step that leaves the department for a tier above, the
    department's leaders (`ESCALATED_TEXT`); for a step from the centre to school leadership, the
    centre (`CENTRE_MISSED_TEXT`). One batch (a sweep, a manual escalation) is one event per
    warning, so each person hears of it once, by the note of the highest tier they are told as:
    a red whose assessment, guardian call and peer watch escalate together is one note each for
    the director, the centre, the leader and the counsellor. A deadline passed on again within
    the top tier (leadership ignoring it) is no new event: school leadership's note of the
    warning is raised again (`_tell_leadership`); no one else is told again."""
    order: list[EarlyWarning] = []
    reached: dict[int, set[OwnerTier]] = {}
    above: dict[int, OwnerTier] = {}  # warning id -> highest tier it left the department for
    arrived: set[int] = set()  # warnings that reached school leadership from below
    centre_missed: dict[int, EarlyWarning] = {}  # left the centre for school leadership
    missed: dict[int, list[str]] = {}  # warning id -> the steps not done in time, in order
    for warning, from_tier, to_tier, kind in steps:
        if warning.id not in reached:
            order.append(warning)
        if kind is not None and kind not in missed.setdefault(warning.id, []):
            missed[warning.id].append(kind)
        to = OwnerTier(to_tier)
        reached.setdefault(warning.id, set()).add(to)
        if to > max(from_tier, OwnerTier.DEPARTMENT):
            above[warning.id] = max(to, above.get(warning.id, to))
        if to is OwnerTier.LEADERSHIP and from_tier < to:
            arrived.add(warning.id)
        if to is OwnerTier.LEADERSHIP and from_tier == OwnerTier.SCHOOL:
            centre_missed[warning.id] = warning
    by_tier: dict[OwnerTier, list[EarlyWarning]] = {}
    for warning in order:
        for tier in reached[warning.id]:
            by_tier.setdefault(tier, []).append(warning)
    holders = {tier: owners_many(session, ws, tier) for tier, ws in by_tier.items()}
    escalated = [w for w in order if w.id in above]
    leaders = owners_many(session, escalated, OwnerTier.DEPARTMENT, leaders_only=True)
    centre = _centre_of(session, list(centre_missed.values()))
    # (warning, recipients, tier whose deadline the detail names, text), highest first per warning
    notes: list[tuple[EarlyWarning, list[int], OwnerTier, str]] = []
    for warning in order:
        # (rank, recipients, tier, text): a tier's note ranks (tier, 0). The leaders' note comes
        # after the tiers above the department and before the department's own note; the
        # centre's missed deadline after the centre's own note (the work now theirs).
        wanted = [
            ((t, 0), holders[t][warning.id], t, NOTIFICATION_TEXT[t]) for t in reached[warning.id]
        ]
        if warning.id in above:
            tier = above[warning.id]
            rank = (OwnerTier.DEPARTMENT, 1)
            wanted.append((rank, leaders[warning.id], tier, ESCALATED_TEXT[tier]))
        if warning.id in centre:
            ids, text = centre[warning.id]
            wanted.append(((OwnerTier.SCHOOL, -1), ids, OwnerTier.LEADERSHIP, text))
        told: set[int] = set()
        for _rank, ids, tier, text in sorted(wanted, key=lambda note: note[0], reverse=True):
            fresh = [i for i in ids if i not in told]
            told.update(fresh)
            notes.append((warning, fresh, tier, text))
    merged: dict[tuple[int, OwnerTier], tuple[EarlyWarning, set[int]]] = {}
    for warning, ids, tier, _text in notes:
        if tier >= OwnerTier.DEPARTMENT:
            merged.setdefault((warning.id, tier), (warning, set()))[1].update(ids)
    details = notice_details(
        session, [(w, sorted(ids), tier) for (_, tier), (w, ids) in merged.items()]
    )
    # Every note of an escalation says which steps were not done in time and since when (the
    # leader learns her department missed the guardian call, not only what the centre owes next),
    # apart from what is owed now and by when (`due_kind`, `due_at`, `due_tier`).
    _add_missed(session, details, missed)
    mine = {
        (w.id, tier, text): {i: d for i, d in details.get((w.id, tier), {}).items() if i in ids}
        for w, ids, tier, text in notes
    }
    # School leadership's own notes (the leaders' and the centre's name its deadline too).
    standing = NOTIFICATION_TEXT[OwnerTier.LEADERSHIP]
    _tell_leadership(session, [note for note in notes if note[3] == standing], mine, arrived, now)
    notify_many(
        session,
        [
            (ids, text, TASKS_LINK, mine[(w.id, tier, text)], True)
            for w, ids, tier, text in notes
            if text != standing
        ],
    )


def _tell_leadership(
    session: Session,
    notes: list[tuple[EarlyWarning, list[int], OwnerTier, str]],
    details: dict[tuple[int, OwnerTier, str], dict[int, dict]],
    arrived: set[int],
    now: datetime,
) -> None:
    """School leadership's notes of a batch: one standing note per person and warning. A warning
    that has just reached leadership is a new urgent note; one whose deadline was passed on again
    within leadership raises that note again, saying it is still outstanding (and, in the app,
    since when), and mails it again only at the interval its institution's active response
    policy gives (`leadership_reminder_every`): it never goes quiet while it waits, and it never
    becomes a pile of identical urgent notes."""
    if not notes:
        return
    policies = active_response_policies(session, {w.institution_id for w, *_ in notes})
    by_interval: dict[timedelta, list[Standing]] = {}
    for warning, ids, tier, text in notes:
        every = policies[warning.institution_id].leadership_reminder_every
        by_interval.setdefault(every, []).append(
            Standing(
                ids,
                f"warning:{warning.id}:leadership",
                text if warning.id in arrived else STILL_OUTSTANDING_TEXT,
                TASKS_LINK,
                details[(warning.id, tier, text)],
                urgent=True,
                again=warning.id not in arrived,
            )
        )
    for every, standing in by_interval.items():
        notify_standing(session, standing, now, remind_every=every)


def _centre_of(session: Session, warnings: list[EarlyWarning]) -> dict[int, tuple[list[int], str]]:
    """warning id -> (who at the centre hears that its deadline went up to school leadership,
    the note's text): the case's counsellor (`caseload`) while they can still be told, else the
    centre's counsellors (`named_or_holders`)."""
    told = named_or_holders(
        session, warnings, {w.id: w.assigned_counsellor_id for w in warnings}, OwnerTier.SCHOOL
    )
    return {
        warning_id: (ids, CENTRE_MISSED_TEXT["case" if named else "centre"])
        for warning_id, (ids, named) in told.items()
    }


def named_or_holders(
    session: Session,
    warnings: list[EarlyWarning],
    named: Mapping[int, int | None],
    tier: OwnerTier,
) -> dict[int, tuple[list[int], bool]]:
    """warning id -> (whom to tell, whether it is the person `named` for it): the named person
    (a case's counsellor) while their account is active and they still hold `tier`'s role over
    the warning's student in its institution, else every active holder of `tier` there. A note
    meant for someone deactivated, moved off the role or gone from the institution goes to
    their colleagues instead of to nobody. One owner lookup whatever the number of warnings."""
    holders = owners_many(session, warnings, tier)
    told = {}
    for warning in warnings:
        person = named.get(warning.id)
        if person is not None and person in holders[warning.id]:
            told[warning.id] = ([person], True)
        else:
            told[warning.id] = (holders[warning.id], False)
    return told


def _add_missed(
    session: Session,
    details: dict[tuple[int, OwnerTier], dict[int, dict]],
    missed: dict[int, list[str]],
) -> None:
    """Add to each detail the steps its warning did not have done in time (`missed`, in order)
    and when each first fell due (`missed_at`: kind -> ISO time), counted from the first deadline
    a tier let pass of a step still not done. The step the note names as owed now (`due_kind`)
    is among them when a tier already let it pass. What was missed and since when is one thing;
    what is owed next, by whom and by when is another: a note never counts the overdue time of
    one deadline against the due time of another."""
    if not details:
        return
    since = _overdue_since(session, {warning_id for warning_id, _tier in details})
    for (warning_id, _tier), by_user in details.items():
        for detail in by_user.values():
            kinds = list(missed.get(warning_id, []))
            due = detail.get("due_kind")
            if isinstance(due, str) and (warning_id, due) in since and due not in kinds:
                kinds.append(due)
            detail["missed"] = kinds
            detail["missed_at"] = {
                kind: since[(warning_id, kind)].isoformat()
                for kind in kinds
                if (warning_id, kind) in since
            }


def _overdue_since(session: Session, warning_ids: set[int]) -> dict[tuple[int, object], datetime]:
    """(warning id, deadline kind) -> when the first deadline a tier let pass of a step still
    not done fell due (`Deadline.missed_unanswered`); steps never missed are absent."""
    return {
        (warning_id, kind): due
        for warning_id, kind, due in session.execute(
            select(Deadline.warning_id, Deadline.kind, func.min(Deadline.due_at))
            .where(Deadline.warning_id.in_(warning_ids), Deadline.missed_unanswered())
            .group_by(Deadline.warning_id, Deadline.kind)
        ).tuples()
    }


def notify_on_duty(session: Session, warning: EarlyWarning, user_ids: list[int]) -> None:
    """Tell whoever is on duty that a red warning was just raised: urgent, with the in-app
    detail for those whose scope covers the student, the mail neutral."""
    details = notice_details(session, [(warning, user_ids, OwnerTier.SCHOOL)])
    notify_many(
        session,
        [
            (
                user_ids,
                ON_DUTY_TEXT,
                TASKS_LINK,
                details.get((warning.id, OwnerTier.SCHOOL), {}),
                True,
            )
        ],
    )


def notify_red_evidence(session: Session, warning: EarlyWarning, now: datetime) -> None:
    """Tell the centre (its counsellors and whoever is on duty) that a warning already red got
    new crisis evidence: its deadlines stand, so `plan_response` tells no one, yet a peer's report
    that a classmate spoke of suicide tonight must not wait for the next look at the queue. One
    urgent note each, the in-app detail for those whose scope covers the student.

    Two pieces at once (a hospital recording the inpatient assessment and the discharge in one
    sitting) made two identical urgent lines: a recipient whose note of this warning is still
    unread has it raised again instead (unread, its detail renewed), mailed again only after
    `RED_EVIDENCE_MAIL_EVERY`; one who has read it gets a new note."""
    told = set(owners_many(session, [warning], OwnerTier.SCHOOL)[warning.id])
    told.update(_on_duty(session, warning, now))
    ids = sorted(told)
    detail = notice_details(session, [(warning, ids, OwnerTier.SCHOOL)])
    told_detail = detail.get((warning.id, OwnerTier.SCHOOL), {})
    key = f"red_evidence:{warning.id}"
    unread = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.digest_key == key,
                Notification.user_id.in_(ids),
                Notification.read_at.is_(None),
            )
        )
    )
    notes = [
        Standing(users, key, RED_EVIDENCE_TEXT, TASKS_LINK, told_detail, urgent=True, again=again)
        for users, again in (
            ([i for i in ids if i in unread], True),
            ([i for i in ids if i not in unread], False),
        )
        if users
    ]
    notify_standing(session, notes, now, remind_every=RED_EVIDENCE_MAIL_EVERY)


def notice_details(
    session: Session, notes: list[tuple[EarlyWarning, list[int], OwnerTier]]
) -> dict[tuple[int, OwnerTier], dict[int, dict]]:
    """(warning id, tier) -> recipient id -> the in-app detail of that note, for the recipients
    whose WARNING scope covers the warning's student; one query per distinct recipient and one
    for the deadlines, whatever the number of warnings."""
    if not notes:
        return {}
    students = students_of(session, [w for w, _ids, _tier in notes])
    seen = _in_warning_scope(session, notes)
    due = _soonest_owed(session, [w.id for w, _ids, _tier in notes])
    details: dict[tuple[int, OwnerTier], dict[int, dict]] = {}
    for warning, ids, tier in notes:
        deadline = due.get((warning.id, tier)) or due.get((warning.id, None))
        detail = {
            "student_id": warning.student_id,
            "name": students[warning.student_id].name,
            "level": warning.level,
            "due_kind": deadline.kind if deadline else None,
            "due_at": deadline.due_at.isoformat() if deadline else None,
            "due_tier": deadline.tier if deadline else None,
        }
        entitled = [i for i in ids if warning.student_id in seen.get(i, set())]
        details[(warning.id, tier)] = {i: detail for i in entitled}
    return details


def _in_warning_scope(
    session: Session, notes: list[tuple[EarlyWarning, list[int], OwnerTier]]
) -> dict[int, set[int]]:
    """Recipient id -> which of the notes' students they may see at WARNING (`campus.scope`)."""
    wanted: dict[int, set[int]] = {}
    for warning, ids, _tier in notes:
        for user_id in ids:
            wanted.setdefault(user_id, set()).add(warning.student_id)
    seen = {}
    for user in session.scalars(select(User).where(User.id.in_(wanted))):
        seen[user.id] = set(
            session.scalars(
                select(Student.id).where(
                    Student.id.in_(wanted[user.id]), student_filter(user, Capability.WARNING)
                )
            )
        )
    return seen


def _soonest_owed(
    session: Session, warning_ids: list[int]
) -> dict[tuple[int, OwnerTier | None], Deadline]:
    """(warning id, tier) -> that tier's soonest open deadline; (warning id, None) -> anyone's."""
    soonest: dict[tuple[int, OwnerTier | None], Deadline] = {}
    for deadline in session.scalars(
        select(Deadline)
        .where(
            Deadline.warning_id.in_(warning_ids),
            Deadline.still_owed(),
        )
        .order_by(Deadline.due_at.desc(), Deadline.id.desc())
    ):
        soonest[(deadline.warning_id, OwnerTier(deadline.tier))] = deadline
        soonest[(deadline.warning_id, None)] = deadline
    return soonest


def meet(
    session: Session,
    warning: EarlyWarning,
    kinds: Iterable[str],
    now: datetime,
    *,
    owed_up_to: OwnerTier | None = None,
) -> int:
    """Mark the warning's open deadlines of `kinds` met (owed by `owed_up_to` or a tier below,
    when given); returns how many. The peers' open tasks of a kind met close with it
    (`CLOSED_WHEN_MET`), whoever met it: a check-in done by the department counsellor's call is
    not left overdue on the informant's list."""
    owed_by = [] if owed_up_to is None else [Deadline.tier <= int(owed_up_to)]
    met = list(
        session.scalars(
            update(Deadline)
            .where(_still_owed(warning), Deadline.kind.in_(list(kinds)), *owed_by)
            .values(met_at=now)
            .returning(Deadline.kind)
            .execution_options(synchronize_session=False)
        )
    )
    served = CLOSED_WHEN_MET.intersection(met)
    if served:
        close_tasks(
            session,
            [Task.warning_id == warning.id, Task.kind.in_(sorted(served))],
            TaskClosed.MET,
            now,
        )
    return len(met)


# The flag of a hospital's discharge signal: the referral raises it (`referrals.services`), the
# triage policy makes it red and the follow-up comes forward for it.
DISCHARGE_FLAG = "hospital:recent_discharge"


def follow_up_after_discharge(session: Session, warning: EarlyWarning, now: datetime) -> None:
    """The hospital reported a discharge, when the risk is highest: the follow-up contact is due
    within the policy's `discharge_follow_up_hours` (48 by default), unless it was due sooner."""
    policy = active_response_policy(session, warning.institution_id)
    due = now + policy.discharge_follow_up_within
    soonest = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.warning_id == warning.id,
            Deadline.kind == "follow_up",
            Deadline.still_owed(),
        )
    )
    if soonest is None or soonest > due:
        plan_follow_up(session, warning, due, now)


def plan_follow_up(
    session: Session, warning: EarlyWarning, due_at: datetime, now: datetime
) -> Deadline:
    """Replace the warning's pending follow-up with one due at `due_at`, owed by the tier that
    owns the level's routine follow-up (class for blue, department for yellow, school for red)."""
    _supersede(session, warning, now, kind="follow_up", reason=TaskClosed.REPLACED)
    policy = active_response_policy(session, warning.institution_id)
    owner = policy.for_level(warning.level).owner
    return add_deadline(session, warning, "follow_up", owner, due_at, policy, now)
