"""Administration of an institution: its structure units, staff accounts and role assignments.

Plain functions over a session with explicit arguments, so the rules (which scope an administrator
may grant, what is audited) live in one place and the admin pages only parse and render. A write
validates first (`check_*`) and then makes its change (`do_*`) with its audit row, committing one
unit of work. Password resets belong to `campus.auth.issue_one_time_password`.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.i18n import shown_name
from campus.models import PEER_UNIT
from campus.models import ROLE_SCOPE
from campus.models import STUDENT_UNIT
from campus.models import WITH_ENDED_ROLES
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Hospital
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import RoleEnd
from campus.models import ScopeKind
from campus.models import Student
from campus.models import User
from campus.notifications import notify_digest
from campus.outcomes import Refused

# The one column of `RoleAssignment` that holds each kind of scope; institution roles set none.
SCOPE_COLUMN: dict[ScopeKind, str] = {
    ScopeKind.DEPARTMENT: "department_id",
    ScopeKind.CLASS: "class_id",
    ScopeKind.ROOM: "room_id",
    ScopeKind.HOSPITAL: "hospital_id",
}


class AdminError(Refused):
    """A change the administrator asked for that cannot be made; `message` says why."""


# --- reads -----------------------------------------------------------------------------------


def administered_institutions(session: Session, admin: User) -> list[Institution]:
    """Every institution `admin` holds the administrator role in, by name."""
    ids = {a.institution_id for a in admin.assignments(Role.ADMIN)}
    if not ids:
        return []
    return list(
        session.scalars(
            select(Institution).where(Institution.id.in_(ids)).order_by(Institution.name)
        )
    )


def departments(session: Session, institution: Institution) -> list[Department]:
    return list(
        session.scalars(
            select(Department)
            .where(Department.institution_id == institution.id)
            .order_by(Department.name)
        )
    )


def students_per_class(session: Session, institution: Institution) -> dict[int, int]:
    """How many students each class of `institution` has (classes without any are absent)."""
    rows = session.execute(
        select(Student.class_id, func.count())
        .where(Student.institution_id == institution.id)
        .group_by(Student.class_id)
    )
    return dict(rows.tuples().all())


def staff_accounts(session: Session, institution: Institution) -> list[User]:
    """The accounts of `institution` that are not students', by staff number."""
    return list(
        session.scalars(
            select(User)
            .where(User.institution_id == institution.id, ~User.student.has())
            .order_by(User.login)
        )
    )


def student_account(session: Session, institution: Institution, number: str) -> User | None:
    """The account of the student of `institution` with student number `number`, if any."""
    return session.scalar(
        select(User)
        .join(Student, Student.user_id == User.id)
        .where(Student.institution_id == institution.id, Student.student_number == number)
    )


def find_user(session: Session, institution: Institution, user_id: int) -> User | None:
    """The account `user_id` if it belongs to `institution`; None for a forged or foreign id."""
    return session.scalar(
        select(User).where(User.id == user_id, User.institution_id == institution.id)
    )


def scope_choices(
    session: Session, institution: Institution, kind: ScopeKind
) -> list[tuple[int, str]]:
    """The scopes of `kind` in `institution` a role may be held over, as (id, label)."""
    if kind is ScopeKind.DEPARTMENT:
        return [(d.id, d.name) for d in departments(session, institution)]
    if kind is ScopeKind.CLASS:
        classes = session.scalars(
            select(ClassGroup)
            .join(Department)
            .where(Department.institution_id == institution.id)
            .order_by(ClassGroup.name)
        )
        return [(c.id, f"{c.department.name} / {c.name}") for c in classes]
    if kind is ScopeKind.ROOM:
        rooms = session.scalars(
            select(DormRoom)
            .join(DormBuilding)
            .where(DormBuilding.institution_id == institution.id)
            .order_by(DormRoom.id)
        )
        return [(r.id, r.label) for r in rooms]
    if kind is ScopeKind.HOSPITAL:
        hospitals = session.scalars(
            select(Hospital).where(Hospital.institution_id == institution.id)
        )
        return sorted(((h.id, shown_name(h)) for h in hospitals), key=lambda c: (c[1], c[0]))
    return [(institution.id, shown_name(institution))]


def scope_choices_for(
    session: Session, institution: Institution, user: User, kind: ScopeKind
) -> list[tuple[int, str]]:
    """The scopes of `kind` `user` may be given a role over: a class or a room only as a peer
    role's, so only the student's own (none for a staff account); the list had offered every
    class and dorm room of the institution, some 500 entries, for roles no one there could hold."""
    unit = STUDENT_UNIT.get(kind)
    if unit is None:
        return scope_choices(session, institution, kind)
    own = getattr(user.student, unit) if user.student is not None else None
    if own is None:  # a staff account: no list of every room to read and throw away
        return []
    return [choice for choice in scope_choices(session, institution, kind) if choice[0] == own]


# --- structure and accounts ------------------------------------------------------------------


def create_department(
    session: Session, admin: User, institution: Institution, name: str
) -> Department:
    department = Department(institution_id=institution.id, name=name.strip())
    _add_unique(session, admin, institution, department, "department")
    return department


def create_hospital(
    session: Session,
    admin: User,
    institution: Institution,
    name: str,
    *,
    name_en: str | None = None,
    department: str | None = None,
    department_en: str | None = None,
    green_channel_contact: str | None = None,
) -> Hospital:
    """A partner hospital of `institution`, where its referrals go and its liaisons work."""
    hospital = Hospital(
        institution_id=institution.id,
        name=name.strip(),
        name_en=(name_en or "").strip() or None,
        department=(department or "").strip() or None,
        department_en=(department_en or "").strip() or None,
        green_channel_contact=(green_channel_contact or "").strip() or None,
    )
    _add_unique(session, admin, institution, hospital, "hospital")
    return hospital


def check_class_department(
    session: Session, institution: Institution, department_id: int
) -> Department:
    """The department a new class goes into, which must be one of `institution`'s."""
    department = session.get(Department, department_id)
    if department is None or department.institution_id != institution.id:
        raise AdminError(Message(N_("A chosen department does not belong to this institution.")))
    return department


def create_class(
    session: Session,
    admin: User,
    institution: Institution,
    department_id: int,
    name: str,
    grade: int,
) -> ClassGroup:
    department = check_class_department(session, institution, department_id)
    group = ClassGroup(department_id=department.id, name=name.strip(), grade=grade)
    _add_unique(session, admin, institution, group, "class_group")
    return group


def create_staff(
    session: Session,
    admin: User,
    institution: Institution,
    login: str,
    name: str,
    email: str | None,
) -> User:
    """A staff account without roles or password; the administrator issues both next."""
    user = User(
        institution_id=institution.id, login=login.strip(), name=name.strip(), email=email or None
    )
    _add_unique(session, admin, institution, user, "user")
    return user


# What a unique clash means, where it is not the record's name: an account's login is its number.
TAKEN = {"user": N_("That staff number is already in use by another account.")}


def _add_unique(
    session: Session,
    admin: User,
    institution: Institution,
    record: Department | ClassGroup | Hospital | User,
    record_type: str,
) -> None:
    """Add `record` with its audit row in one commit; a name already taken is an AdminError."""
    session.add(record)
    try:
        session.flush()
        audit.record(
            session,
            actor=admin,
            action=f"create_{record_type}",
            record_type=record_type,
            record_id=record.id,
            institution_id=institution.id,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AdminError(Message(TAKEN.get(record_type, N_("That name already exists.")))) from None


# --- roles -----------------------------------------------------------------------------------


def end_moment(institution: Institution, until: date) -> datetime:
    """When a role whose last day is `until` stops working: the next midnight in the
    institution's zone, as naive UTC. The role works through its whole last day there."""
    zone = clock.institution_zone(institution)
    return clock.to_utc(datetime.combine(until + timedelta(days=1), time(0)), zone)


def local_today(institution: Institution, now: datetime) -> date:
    return clock.local_date(now, clock.institution_zone(institution))


def check_until(institution: Institution, until: date | None, now: datetime) -> None:
    """An end date may be today or later; an earlier one would end the role in the past."""
    if until is not None and until < local_today(institution, now):
        raise AdminError(Message(N_("The last day cannot be in the past.")))


def _is_institutions(
    session: Session, institution: Institution, kind: ScopeKind, scope_id: int
) -> bool:
    """Whether scope `scope_id` of `kind` is one of `institution`'s: the one row, not the list
    `scope_choices` draws (every room of a campus)."""
    owner = {
        ScopeKind.DEPARTMENT: select(Department.institution_id).where(Department.id == scope_id),
        ScopeKind.CLASS: select(Department.institution_id)
        .join(ClassGroup, ClassGroup.department_id == Department.id)
        .where(ClassGroup.id == scope_id),
        ScopeKind.ROOM: select(DormBuilding.institution_id)
        .join(DormRoom, DormRoom.building_id == DormBuilding.id)
        .where(DormRoom.id == scope_id),
        ScopeKind.HOSPITAL: select(Hospital.institution_id).where(Hospital.id == scope_id),
    }[kind]
    return session.scalar(owner) == institution.id


def check_assign_role(
    session: Session,
    institution: Institution,
    user: User,
    role: Role,
    scope_id: int | None,
    until: date | None = None,
) -> int | None:
    """The scope id the new assignment is held over (None for an institution role).

    The scope must be one of `institution`'s, the last day not in the past, and the user must not
    already hold the role there: the database cannot tell duplicate institution roles apart, as all
    their scope columns are null. A role that has ended may be given again.
    """
    check_until(institution, until, clock.now())
    kind = ROLE_SCOPE[role]
    column = SCOPE_COLUMN.get(kind)
    if column is None:
        scope_id = None
    elif scope_id is None or not _is_institutions(session, institution, kind, scope_id):
        raise AdminError(Message(N_("Choose a scope that belongs to your institution.")))
    check_peer_holder(user, role, scope_id)
    held = select(RoleAssignment.id).where(
        RoleAssignment.user_id == user.id,
        RoleAssignment.role == role,
        RoleAssignment.institution_id == institution.id,
        *(
            getattr(RoleAssignment, name) == scope_id
            if name == column
            else getattr(RoleAssignment, name).is_(None)
            for name in SCOPE_COLUMN.values()
        ),
    )
    if session.scalar(held) is not None:
        raise AdminError(Message(N_("That role is already assigned.")))
    return scope_id


def check_peer_holder(user: User, role: Role, scope_id: int | None) -> None:
    """A peer role goes to a student of that very class or room. It opens the unit's roster and
    its tasks about classmates: given to a staff account, or to a student of another unit, it
    would show them to someone who is nobody's classmate or roommate there."""
    unit = PEER_UNIT.get(role)
    if unit is None:
        return
    if user.student is None or getattr(user.student, unit) != scope_id:
        raise AdminError(
            Message(
                N_(
                    "A class psychology committee member or dorm informant is a student of that "
                    "class or room."
                )
            )
        )


def do_assign_role(
    session: Session,
    admin: User,
    institution: Institution,
    user: User,
    role: Role,
    scope_id: int | None,
    until: date | None = None,
) -> RoleAssignment:
    """Grant `role` over the checked scope (through `until` if given), audited, in one commit."""
    column = SCOPE_COLUMN.get(ROLE_SCOPE[role])
    assignment = RoleAssignment(
        user=user,
        role=role,
        institution_id=institution.id,
        given_by_id=admin.id,
        until=until,
        ends_at=end_moment(institution, until) if until else None,
    )
    if column:
        setattr(assignment, column, scope_id)
    session.add(assignment)
    try:
        audit.record_on(
            session,
            user,
            actor=admin,
            action="assign_role",
            record_type="user",
            detail=f"{role.value} {column}={scope_id} until={until}",
        )
        session.commit()
    except IntegrityError:  # the same assignment made at the same moment elsewhere
        session.rollback()
        raise AdminError(Message(N_("That role is already assigned."))) from None
    return assignment


def assign_role(
    session: Session,
    admin: User,
    institution: Institution,
    user: User,
    role: Role,
    scope_id: int | None,
    until: date | None = None,
) -> RoleAssignment:
    scope_id = check_assign_role(session, institution, user, role, scope_id, until)
    return do_assign_role(session, admin, institution, user, role, scope_id, until)


def find_any_assignment(
    session: Session, institution: Institution, assignment_id: int
) -> RoleAssignment | None:
    """Assignment `assignment_id` of `institution`, working or ended (so a second click on an
    ended one can be told so), or None for a forged or foreign id."""
    return session.scalar(
        select(RoleAssignment)
        .where(
            RoleAssignment.id == assignment_id,
            RoleAssignment.institution_id == institution.id,
        )
        .execution_options(**{WITH_ENDED_ROLES: True})
    )


def check_live(assignment: RoleAssignment, now: datetime) -> None:
    if not assignment.live_at(now):
        raise AdminError(Message(N_("This role has already ended.")))


def check_end(admin: User, assignment: RoleAssignment, now: datetime) -> None:
    """`assignment` may be ended by `admin` now: it still works, and it is not the
    administrator's own administrator role (another administrator ends that, so no one locks
    the institution out by a slip)."""
    check_live(assignment, now)
    if assignment.role is Role.ADMIN and assignment.user_id == admin.id:
        raise AdminError(Message(N_("Another administrator must end your own administrator role.")))


def set_until(
    session: Session,
    admin: User,
    institution: Institution,
    assignment: RoleAssignment,
    until: date | None,
) -> None:
    """Change the last day of a working assignment (None: no end), audited, in one commit.
    A student's own role lasts as long as their enrolment and takes no last day."""
    now = clock.now()
    check_live(assignment, now)
    if assignment.role is Role.STUDENT:
        raise AdminError(Message(N_("A student's own role takes no last day.")))
    check_until(institution, until, now)
    assignment.until = until
    assignment.ends_at = end_moment(institution, until) if until else None
    assignment.end_notice_sent_at = None  # a new last day earns its own notice
    _audit_role(session, admin, institution, assignment, "set_role_end", f"until={until}")
    session.commit()


def do_end_role(
    session: Session,
    admin: User | None,
    institution: Institution,
    assignment: RoleAssignment,
    reason: RoleEnd,
    now: datetime,
) -> None:
    """End `assignment` now, kept as history with who ended it (None: a command) and why;
    audited, not committed."""
    assignment.ends_at = now
    assignment.ended_by_id = admin.id if admin else None
    assignment.end_reason = reason
    _audit_role(session, admin, institution, assignment, "remove_role", reason.value)


def _audit_role(
    session: Session,
    admin: User | None,
    institution: Institution,
    assignment: RoleAssignment,
    action: str,
    change: str,
) -> None:
    """Audit a change to `assignment` under its holder's account: the role, the assignment's
    number (a holder may hold the role over several units) and what changed."""
    audit.record(
        session,
        actor=admin,
        action=action,
        record_type="user",
        record_id=assignment.user_id,
        institution_id=institution.id,
        detail=f"{assignment.role.value} #{assignment.id} {change}",
    )


def remove_role(
    session: Session, admin: User, institution: Institution, assignment: RoleAssignment
) -> None:
    """End `assignment` (found with `find_any_assignment`) at once, audited, in one commit."""
    now = clock.now()
    check_end(admin, assignment, now)
    do_end_role(session, admin, institution, assignment, RoleEnd.REMOVED, now)
    session.commit()


def role_history(session: Session, user: User) -> list[RoleAssignment]:
    """Every assignment `user` has held, working or ended, newest first."""
    return list(
        session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.user_id == user.id)
            .order_by(RoleAssignment.since.desc(), RoleAssignment.id.desc())
            .execution_options(**{WITH_ENDED_ROLES: True})
        )
    )


# The note the holder and the administrators get as an end date nears, one per person and day.
ROLE_ENDING_TEXT = N_("Roles end soon")
ROLE_ENDING_ITEMS: dict[Role, str] = {
    Role.DORM_INFORMANT: N_("%(name)s: dorm informant, last day %(until)s"),
    Role.CLASS_COMMITTEE: N_("%(name)s: class psychology committee member, last day %(until)s"),
    Role.DEPT_COUNSELLOR: N_("%(name)s: department counsellor, last day %(until)s"),
    Role.DEPT_LEADER: N_("%(name)s: department leader, last day %(until)s"),
    Role.SCHOOL_COUNSELLOR: N_("%(name)s: school counsellor, last day %(until)s"),
    Role.DIRECTOR: N_("%(name)s: centre director, last day %(until)s"),
    Role.HOSPITAL_LIAISON: N_("%(name)s: hospital liaison, last day %(until)s"),
    Role.ADMIN: N_("%(name)s: administrator, last day %(until)s"),
    Role.PROVINCE_AUDITOR: N_("%(name)s: province auditor, last day %(until)s"),
}


def notify_roles_ending(session: Session, now: datetime, days: int) -> int:
    """Tell each holder of a role whose last day is within `days` days, and the administrators
    of its institution, once per end date (a digest per person and day); how many were told of."""
    due = list(
        session.scalars(
            select(RoleAssignment)
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.until.is_not(None),
                RoleAssignment.end_notice_sent_at.is_(None),
                RoleAssignment.ends_at <= now + timedelta(days=days),
            )
            .order_by(RoleAssignment.institution_id, User.name, RoleAssignment.id)
        )
    )
    # (recipient, their local day) -> (the page to open, what to list): the holder opens their
    # home page, an administrator the staff accounts.
    by_recipient: dict[tuple[int, date], tuple[str, list[dict[str, object]]]] = {}
    for assignment in due:
        today = local_today(assignment.user.institution, now)
        item: dict[str, object] = {
            "text": ROLE_ENDING_ITEMS.get(assignment.role, ROLE_ENDING_ITEMS[Role.ADMIN]),
            "params": {"name": assignment.user.name, "until": str(assignment.until)},
        }
        admins = session.scalars(
            select(RoleAssignment.user_id).where(
                RoleAssignment.role == Role.ADMIN,
                RoleAssignment.institution_id == assignment.institution_id,
            )
        )
        for user_id in sorted(set(admins) - {assignment.user_id}):
            by_recipient.setdefault((user_id, today), ("/admin/users", []))[1].append(item)
        by_recipient.setdefault((assignment.user_id, today), ("/", []))[1].append(item)
        assignment.end_notice_sent_at = now
    for (user_id, today), (link, items) in by_recipient.items():
        key = f"role_ending:{user_id}:{today.isoformat()}"
        notify_digest(session, [user_id], key, ROLE_ENDING_TEXT, link, items)
    session.commit()
    return len(due)
