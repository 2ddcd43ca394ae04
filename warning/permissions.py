"""Who may do what with a warning and its tasks: the role sets and the predicates named for each
decision. Views and services ask here; none keeps its own list of roles.

Data scope still comes from `campus.scope`; these predicates decide the acts inside it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select

from campus import network
from campus.models import Caseload
from campus.models import Role
from campus.models import User
from campus.scope import institution_ids
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import WarningStatus
from warning.policy import Level

DEPARTMENT_ROLES = frozenset({Role.DEPT_COUNSELLOR, Role.DEPT_LEADER})
SCHOOL_ROLES = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
STAFF_ROLES = DEPARTMENT_ROLES | SCHOOL_ROLES
# Who reads the class and dorm weekly reports (`warning.weekly_reading`): the department's staff
# their department's units, the school centre's the institution's, as the warning list.
WEEKLY_REPORT_READERS = STAFF_ROLES
# Everyone who may be handed a task: staff, and the class and dorm tiers who keep company.
TASK_ROLES = STAFF_ROLES | {Role.DORM_INFORMANT, Role.CLASS_COMMITTEE}

# Who tells a family: the department's counsellors and the school centre. The notice is a
# family contact, and the family-contact log's writers are these same roles
# (`casework.file_permissions.FAMILY_WRITERS`): a department leader reads that log, and does not
# write it.
GUARDIAN_ROLES = frozenset({Role.DEPT_COUNSELLOR}) | SCHOOL_ROLES

# Who may take each action on an open warning (inside their scope, see `holds_for`).
ACTION_ROLES: dict[str, frozenset[Role]] = {
    "acknowledge": STAFF_ROLES,
    "contact": STAFF_ROLES,
    "guardian": GUARDIAN_ROLES,
    "assessment": frozenset({Role.SCHOOL_COUNSELLOR}),
    "peer_watch": STAFF_ROLES,
    "follow_up": STAFF_ROLES,
    "level": STAFF_ROLES,
    "escalate": STAFF_ROLES,
    "close": frozenset({Role.SCHOOL_COUNSELLOR}),
    # Whose case it is: the centre shares out its cases (a counsellor may hand one on).
    "counsellor": SCHOOL_ROLES,
}
# The action that meets each deadline a member of staff may owe, so an owed step leads to its
# form: the peer watch a red's department counsellor owes is met by asking class and dorm to keep
# company. A check-in is the class's and the room's task; a contact by staff that reached the
# student meets it too (she has been seen, by more than a classmate), so a check-in passed up to
# the department stops climbing once the counsellor has reached her.
DEADLINE_ACTIONS = {
    "acknowledge": "acknowledge",
    "assessment": "assessment",
    "guardian_notified": "guardian",
    "peer_watch": "peer_watch",
    "contact": "contact",
    "follow_up": "contact",
    "check_in": "contact",
}
# Department staff may raise a level; only the school centre may lower one (red included).
LEVEL_RAISERS = STAFF_ROLES
LEVEL_LOWERERS = SCHOOL_ROLES

# Who holds each tier of the response network: a deadline of a tier is these roles' own work.
TIER_ROLES: dict[OwnerTier, frozenset[Role]] = {
    OwnerTier.DORM: frozenset({Role.DORM_INFORMANT}),
    OwnerTier.CLASS: frozenset({Role.CLASS_COMMITTEE}),
    OwnerTier.DEPARTMENT: DEPARTMENT_ROLES,
    OwnerTier.SCHOOL: frozenset({Role.SCHOOL_COUNSELLOR}),
    OwnerTier.LEADERSHIP: frozenset({Role.DIRECTOR}),
}


def holds_for(actor: User, warning: EarlyWarning, roles: frozenset[Role]) -> bool:
    """Whether `actor` holds one of `roles` over the warning: department roles for their own
    department's warnings, school roles for their school's."""
    for assignment in actor.roles:
        if assignment.role not in roles or assignment.institution_id != warning.institution_id:
            continue
        if assignment.role not in DEPARTMENT_ROLES:
            return True
        if assignment.department_id == warning.department_id:
            return True
    return False


def can_act_on(actor: User, warning: EarlyWarning, action: str) -> bool:
    """Whether `actor`'s role and scope allow `action` on `warning` (its state is checked apart,
    so a closed warning answers "closed", not "forbidden")."""
    return holds_for(actor, warning, ACTION_ROLES[action])


def allowed_actions(actor: User, warning: EarlyWarning) -> list[str]:
    """The actions `actor` may take on `warning` now: none once it is closed."""
    if warning.status != WarningStatus.OPEN:
        return []
    return [name for name in ACTION_ROLES if can_act_on(actor, warning, name)]


def sharing_institution(user: User) -> int | None:
    """The institution whose cases the queue offers `user` to share out: the one where they may
    give a case (`ACTION_ROLES["counsellor"]`). Someone who may in several gives them one by one
    on each warning's page, where the institution is the warning's; each case is checked again
    when given."""
    ids = institution_ids(user, *ACTION_ROLES["counsellor"])
    return ids[0] if len(ids) == 1 else None


def may_acknowledge(actor: User, warning: EarlyWarning, owed_by: OwnerTier | None) -> bool:
    """Whether `actor`'s acknowledgement counts for `warning` at its level. Where the response
    policy makes acknowledging a tier's own work (`owed_by`: red's hour is the counselling
    centre's), only someone holding that tier or one above it over the warning gives it: a
    department counsellor who has seen a red has not made the centre aware of it. Where no tier
    owes one (yellow, blue by default), anyone who may act on the warning may."""
    if not can_act_on(actor, warning, "acknowledge"):
        return False
    return owed_by is None or any(
        holds_for(actor, warning, roles) for tier, roles in TIER_ROLES.items() if tier >= owed_by
    )


def joins_caseload(actor: User, warning: EarlyWarning) -> bool:
    """Whether acting on `warning` puts its student on `actor`'s caseload: a school counsellor of
    the warning's school who takes up a red or yellow warning owns the case from then on, so the
    student's full record (and a referral) needs no break-glass."""
    return warning.level >= Level.YELLOW and holds_for(
        actor, warning, frozenset({Role.SCHOOL_COUNSELLOR})
    )


def can_override_level(actor: User, warning: EarlyWarning, level: int) -> bool:
    """Whether `actor` may move `warning` to `level`: raising needs department or school staff in
    scope, lowering the school centre."""
    roles = LEVEL_RAISERS if level > warning.level else LEVEL_LOWERERS
    return holds_for(actor, warning, roles)


def can_complete_task(actor: User, task: Task) -> bool:
    """Whether the task is addressed to `actor`: by name, or through the class, room or
    department they hold a role for in the task's institution, or, addressed to no one, the
    centre's that they direct; never one about the actor."""

    def holds(role: Role, **scope: int) -> bool:
        return any(
            a.role == role
            and a.institution_id == task.institution_id
            and all(getattr(a, k) == v for k, v in scope.items())
            for a in actor.roles
        )

    if is_about(task, actor):
        return False
    if task.assignee_user_id is not None:
        return task.assignee_user_id == actor.id
    if task.assignee_class_id is not None:
        return holds(Role.CLASS_COMMITTEE, class_id=task.assignee_class_id)
    if task.assignee_room_id is not None:
        return holds(Role.DORM_INFORMANT, room_id=task.assignee_room_id)
    if task.assignee_department_id is not None:
        return any(
            holds(role, department_id=task.assignee_department_id) for role in DEPARTMENT_ROLES
        )
    # Addressed to no one: the centre's (a review whose counsellor has left), its directors'.
    return holds(Role.DIRECTOR)


def is_about(task: Task, user: User) -> bool:
    """Whether `task` is about `user` as a student. Work about a student never goes to that
    student, though she may hold her own class's or room's peer role: the peer watch of a
    student in crisis asked of herself is a peer watch no one keeps."""
    return task.student is not None and task.student.user_id == user.id


def deadline_clause(user: User) -> ColumnElement[bool]:
    """Which open deadlines each role works from (join Deadline to Warning first): department
    staff their departments', school counsellors red, school-tier and caseload ones, the director
    leadership-tier ones. Data scope is added by the caller's `student_filter`."""
    clauses: list[ColumnElement[bool]] = []
    departments = [a.department_id for a in user.assignments(*DEPARTMENT_ROLES)]
    if departments:
        clauses.append(EarlyWarning.department_id.in_(departments))
    if user.has_role(Role.SCHOOL_COUNSELLOR):
        caseload = select(Caseload.student_id).where(Caseload.counsellor_id == user.id)
        clauses.append(
            or_(
                EarlyWarning.level == Level.RED,
                Deadline.tier >= OwnerTier.SCHOOL,
                EarlyWarning.student_id.in_(caseload),
            )
        )
    if user.has_role(Role.DIRECTOR):
        clauses.append(Deadline.tier >= OwnerTier.LEADERSHIP)
    return or_(*clauses) if clauses else false()


def owned_deadline_clause(user: User) -> ColumnElement[bool]:
    """Which of the deadlines `deadline_clause` lists are `user`'s own work (join Deadline to
    Warning to Student first), in one criterion: the deadlines of each tier they hold that their
    own role in it may meet (`kinds_met_by`), and, for department staff, a class or dorm deadline
    whose student has no committee member and no informant to receive it, which would otherwise
    wait, unseen, for its escalation. A department leader holds the department tier but does not
    call the family (`GUARDIAN_ROLES`): the department's "notify the guardian" is her
    counsellors' own, and she watches it, as she watches the centre's acknowledgement."""
    clauses = [
        _tier_work(user, tier, role)
        for tier, roles in TIER_ROLES.items()
        for role in sorted(roles)
        if user.has_role(role)
    ]
    return or_(*clauses) if clauses else false()


# Tiers whose deadlines are all their holders' own, whatever the kind: the class and the dorm
# meet theirs by completing their tasks, and leadership is the top of the chain, where what
# reaches it is its to see done (an escalated assessment too, by a counsellor of the centre the
# director runs): nothing climbs further.
WHOLE_TIERS = frozenset({OwnerTier.DORM, OwnerTier.CLASS, OwnerTier.LEADERSHIP})


def _tier_work(user: User, tier: OwnerTier, role: Role) -> ColumnElement[bool]:
    """The deadlines `role` makes `user`'s own in `tier` (see `owned_deadline_clause`)."""
    if tier in WHOLE_TIERS:
        return Deadline.tier == tier
    kinds = Deadline.kind.in_(kinds_met_by(role))
    if role not in DEPARTMENT_ROLES:
        return and_(Deadline.tier == tier, kinds)
    departments = [a.department_id for a in user.assignments(role)]
    return and_(
        or_(
            Deadline.tier == tier,
            and_(Deadline.tier < tier, network.no_peer_for_student()),
        ),
        kinds,
        EarlyWarning.department_id.in_(departments),
    )


def kinds_met_by(role: Role) -> list[str]:
    """The deadline kinds whose meeting action (`DEADLINE_ACTIONS`) `role` may take."""
    return sorted(kind for kind, action in DEADLINE_ACTIONS.items() if role in ACTION_ROLES[action])


def tiers_held(user: User) -> frozenset[OwnerTier]:
    """The tiers whose deadlines are `user`'s own to meet. The rest of what `deadline_clause`
    lists (the centre's acknowledgement of a department's red, the class's check-in) another
    tier owes: the user watches it, and a missed one escalates by itself."""
    return frozenset(tier for tier, roles in TIER_ROLES.items() if user.has_role(*roles))
