"""The response network's people, unit by unit (学校—院系—班级—宿舍): who holds each department,
class and dorm room, and the peers appointed from a unit's own students.

A unit with students and no holder is a hole in the network: a yellow warning's contact, a class
check-in or a peer watch is addressed to nobody there and waits for its deadline to escalate, and
the unit files no weekly report. A campus's first week is spent closing these holes, so they are
counted on the home page and listed here, each with the way to close it.

An administrator reaches every unit of the institution. A department counsellor (辅导员), who
picks each class's psychology committee member, reaches the classes of their own departments.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import tuple_
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm import Session
from sqlalchemy.orm import contains_eager

from campus import admin
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.models import WITH_ENDED_ROLES
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import RoleEnd
from campus.models import ScopeKind
from campus.models import Student
from campus.models import User
from campus.notifications import notify

# Who appoints peers: an administrator (any unit), a department counsellor (their classes).
APPOINTERS = (Role.ADMIN, Role.DEPT_COUNSELLOR)


@dataclass(frozen=True)
class Peer:
    """A peer role and the unit it is held over, as the student and the assignment name it."""

    kind: ScopeKind
    role: Role
    student_unit: QueryableAttribute[Any]  # the student's column naming the unit
    held_unit: QueryableAttribute[Any]  # the role assignment's
    relation: str  # the student's relationship to the unit (current before a flush)

    def unit_of(self, student: Student) -> int | None:
        unit = getattr(student, self.relation)
        return unit.id if unit is not None else None

    def held_over(self, assignment: RoleAssignment) -> int | None:
        unit: int | None = getattr(assignment, self.held_unit.key)
        return unit


# The peers appointed from a unit's own students: a class's committee member, a room's informant.
PEERS = (
    Peer(
        ScopeKind.CLASS,
        Role.CLASS_COMMITTEE,
        Student.class_id,
        RoleAssignment.class_id,
        "class_group",
    ),
    Peer(ScopeKind.ROOM, Role.DORM_INFORMANT, Student.room_id, RoleAssignment.room_id, "room"),
)
PEER_OF_KIND = {peer.kind: peer for peer in PEERS}
PEER_OF_ROLE = {peer.role: peer for peer in PEERS}
# What an appointed student is told (minimum content: the role, not the class's students).
APPOINTED_TEXT = {
    Role.CLASS_COMMITTEE: N_(
        "You are now your class's psychology committee member. Your home page shows the class's "
        "weekly report and the tasks addressed to your class."
    ),
    Role.DORM_INFORMANT: N_(
        "You are now your dorm room's informant. Your home page shows the room's weekly report "
        "and the tasks addressed to your room."
    ),
}
ENDED_TEXT = {
    Role.CLASS_COMMITTEE: N_(
        "You are no longer your class's psychology committee member. Thank you for looking out "
        "for your classmates."
    ),
    Role.DORM_INFORMANT: N_(
        "You are no longer your dorm room's informant. Thank you for looking out for your "
        "roommates."
    ),
}
# Each unit a holder is owed for: the student's column naming it, the role assignment's, the role.
DEPARTMENT_HOLDER = (Student.department_id, RoleAssignment.department_id, Role.DEPT_COUNSELLOR)
# A department's leader (院系分管领导) receives its red warnings and what escalates past its
# counsellor: a department with students and no leader is a gap as much as one with no counsellor.
DEPARTMENT_LEADER = (Student.department_id, RoleAssignment.department_id, Role.DEPT_LEADER)
NETWORK_ROLES = (
    Role.DEPT_COUNSELLOR,
    Role.DEPT_LEADER,
    Role.CLASS_COMMITTEE,
    Role.DORM_INFORMANT,
    Role.SCHOOL_COUNSELLOR,
    Role.DIRECTOR,
)


@dataclass(frozen=True)
class Reach:
    """The units a viewer sees and appoints for: the whole institution (an administrator), or the
    classes of some departments (a department counsellor)."""

    institution: Institution
    departments: frozenset[int] | None = None  # None: the whole institution

    @property
    def whole(self) -> bool:
        return self.departments is None

    def department_clause(self, column: QueryableAttribute[Any]) -> ColumnElement[bool]:
        return true() if self.departments is None else column.in_(sorted(self.departments))


class Holder(NamedTuple):
    """Who holds a unit, as the pages name them."""

    id: int
    name: str


@dataclass(frozen=True)
class Unit:
    """A class or dorm room with its enrolled students and the peers who hold it (with their
    assignments on the unit's own page, where one can be ended)."""

    kind: ScopeKind
    id: int
    label: str
    students: int
    holders: tuple[Holder, ...]
    assignments: tuple[RoleAssignment, ...] = ()


@dataclass(frozen=True)
class DepartmentCover:
    department: Department
    students: int
    counsellors: tuple[Holder, ...]
    leaders: tuple[Holder, ...]
    classes: list[Unit]


@dataclass(frozen=True)
class Coverage:
    whole: bool  # the whole institution: the centre and the dorm rooms are shown too
    departments: list[DepartmentCover]
    rooms_without: list[Unit]  # rooms with students and no informant, by building and number
    rooms_with_students: int
    school_counsellors: tuple[Holder, ...]
    directors: tuple[Holder, ...]


@dataclass(frozen=True)
class Gaps:
    """How many units with students nobody holds; the home page's line."""

    departments: int  # without a department counsellor
    classes: int  # without a class psychology committee member
    rooms: int  # without a dorm informant
    no_centre: bool  # no school counsellor at all
    leaderless: int = 0  # departments without a department leader

    @property
    def any(self) -> bool:
        return bool(
            self.departments or self.leaderless or self.classes or self.rooms or self.no_centre
        )


def holders(
    session: Session,
    institution_id: int,
    role: Role,
    now: datetime,
    *,
    department_id: int | None = None,
) -> list[int]:
    """Who holds `role` at `institution_id` (in `department_id`, for a department's role) at
    `now` with a working account, by id: whom a unit's note or handed-on task goes to. It
    decides at `now` itself, so a sweep reads who held the role at its own moment; a switched-off
    account is nobody to tell."""
    held = (
        select(RoleAssignment.user_id)
        .distinct()
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.role == role,
            RoleAssignment.working_at(now),
            User.active.is_(True),
        )
        .order_by(RoleAssignment.user_id)
        .execution_options(**{WITH_ENDED_ROLES: True})
    )
    if department_id is not None:
        held = held.where(RoleAssignment.department_id == department_id)
    return list(session.scalars(held))


def reaches(session: Session, user: User) -> list[Reach]:
    """The reach of each hat `user` wears: each administered institution, else their departments
    (grouped by institution)."""
    if user.has_role(Role.ADMIN):
        return [Reach(i) for i in admin.administered_institutions(session, user)]
    departments: dict[int, set[int]] = {}
    for assignment in user.assignments(Role.DEPT_COUNSELLOR):
        if assignment.department_id is not None:
            departments.setdefault(assignment.institution_id, set()).add(assignment.department_id)
    return [
        Reach(session.get_one(Institution, institution), frozenset(ids))
        for institution, ids in sorted(departments.items())
    ]


def _enrolled(institution: Institution) -> ColumnElement[bool]:
    return and_(
        Student.institution_id == institution.id,
        Student.enrolment_status == EnrolmentStatus.ENROLLED,
    )


def _held(role: Role, unit: QueryableAttribute[Any], *where: ColumnElement[bool]) -> Select[Any]:
    """The units (`unit`, a column of `RoleAssignment`) an active account holds `role` over. An
    uncorrelated `select(RoleAssignment...)`: the database reads it once, not once a student, and
    the working-roles criterion (`models._only_live_roles`) reaches it, which it does not reach in
    a bare `exists()`."""
    return (
        select(unit)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == role, User.active.is_(True), unit.is_not(None), *where)
    )


def gaps(session: Session, reach: Reach) -> Gaps:
    """The home page's counts, in one statement whatever the size of the campus. A department
    counsellor's reach counts their classes and whether their departments have a leader: the
    department has them as its counsellor, the rooms are the administrator's."""
    institution = reach.institution
    peers = PEERS if reach.whole else (PEER_OF_KIND[ScopeKind.CLASS],)
    held = [(peer.student_unit, peer.held_unit, peer.role) for peer in peers]
    wanted = [DEPARTMENT_LEADER, *held]
    if reach.whole:
        wanted.insert(0, DEPARTMENT_HOLDER)
    unheld = [
        select(func.count(func.distinct(unit)))
        .where(
            _enrolled(institution),
            reach.department_clause(Student.department_id),
            unit.is_not(None),
            unit.not_in(_held(role, held_unit)),
        )
        .scalar_subquery()
        for unit, held_unit, role in wanted
    ]
    if not reach.whole:
        leaderless, classes = session.execute(select(*unheld)).one()
        return Gaps(0, classes or 0, 0, False, leaderless or 0)
    row = session.execute(select(*unheld, ~_centre_held(institution))).one()
    return Gaps(row[0] or 0, row[2] or 0, row[3] or 0, bool(row[4]), row[1] or 0)


def _centre_held(institution: Institution) -> ColumnElement[bool]:
    """SQL: an active account holds the school counsellor's role at `institution`."""
    return _held(
        Role.SCHOOL_COUNSELLOR,
        RoleAssignment.institution_id,
        RoleAssignment.institution_id == institution.id,
    ).exists()


def staffed(institution: Institution) -> ColumnElement[bool]:
    """SQL: the centre has a school counsellor and every department with enrolled students has a
    counsellor and a leader (a new campus's staffing step, `campus.first_week`)."""
    lacking = [
        select(Student.id)
        .where(_enrolled(institution), unit.is_not(None), unit.not_in(_held(role, held_unit)))
        .exists()
        for unit, held_unit, role in (DEPARTMENT_HOLDER, DEPARTMENT_LEADER)
    ]
    return and_(_centre_held(institution), *(~gap for gap in lacking))


def coverage(session: Session, reach: Reach) -> Coverage:
    """Every department and class in reach with its holders and, for the whole institution, the
    dorm rooms nobody holds. Columns, not records, in six statements whatever the campus's size:
    holders, classes, department sizes, departments, rooms with students, rooms without."""
    institution = reach.institution
    holders = _holders(session, institution)
    classes: dict[int, list[Unit]] = defaultdict(list)
    rows = session.execute(
        select(ClassGroup.id, ClassGroup.department_id, ClassGroup.name, ClassGroup.grade)
        .add_columns(func.count(Student.id))
        .join(Department, Department.id == ClassGroup.department_id)
        .outerjoin(Student, and_(Student.class_id == ClassGroup.id, _enrolled(institution)))
        .where(
            Department.institution_id == institution.id,
            reach.department_clause(ClassGroup.department_id),
        )
        .group_by(ClassGroup.id, ClassGroup.department_id, ClassGroup.name, ClassGroup.grade)
        .order_by(ClassGroup.grade.desc(), ClassGroup.name)
    ).tuples()
    for class_id, department_id, name, grade, students in rows:
        held = holders[(Role.CLASS_COMMITTEE, class_id)]
        label = f"{name} ({grade})"
        classes[department_id].append(Unit(ScopeKind.CLASS, class_id, label, students, held))
    sizes = dict(
        session.execute(
            select(Student.department_id, func.count())
            .where(_enrolled(institution))
            .group_by(Student.department_id)
        )
        .tuples()
        .all()
    )
    departments = [
        DepartmentCover(
            department,
            sizes.get(department.id, 0),
            holders[(Role.DEPT_COUNSELLOR, department.id)],
            holders[(Role.DEPT_LEADER, department.id)],
            classes[department.id],
        )
        for department in admin.departments(session, institution)
        if reach.whole or department.id in (reach.departments or ())
    ]
    rooms_without, rooms_with_students = _rooms(session, institution) if reach.whole else ([], 0)
    return Coverage(
        reach.whole,
        departments,
        rooms_without,
        rooms_with_students,
        holders[(Role.SCHOOL_COUNSELLOR, None)],
        holders[(Role.DIRECTOR, None)],
    )


Holders = defaultdict[tuple[Role, int | None], tuple[Holder, ...]]


def _holders(session: Session, institution: Institution) -> Holders:
    """(role, unit id) -> who holds it, by name; institution roles under unit None. The rooms'
    informants (one a room, thousands on a campus) are not read: the rooms list only lacks them."""
    found: Holders = defaultdict(tuple)
    roles = [role for role in NETWORK_ROLES if role is not Role.DORM_INFORMANT]
    rows = session.execute(
        select(
            RoleAssignment.role,
            RoleAssignment.department_id,
            RoleAssignment.class_id,
            User.id,
            User.name,
        )
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.institution_id == institution.id,
            RoleAssignment.role.in_(roles),
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
    ).tuples()
    for role, department_id, class_id, user_id, name in rows:
        found[(role, department_id or class_id)] += (Holder(user_id, name),)
    return found


def _rooms(session: Session, institution: Institution) -> tuple[list[Unit], int]:
    """The rooms with enrolled students and no informant, by building and number; and how many
    rooms have enrolled students."""
    occupied = (
        select(Student.room_id, func.count().label("students"))
        .where(_enrolled(institution), Student.room_id.is_not(None))
        .group_by(Student.room_id)
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(occupied)) or 0
    rows = session.execute(
        select(DormRoom.id, DormBuilding.name, DormRoom.number, occupied.c.students)
        .join(occupied, occupied.c.room_id == DormRoom.id)
        .join(DormBuilding, DormBuilding.id == DormRoom.building_id)
        .where(DormRoom.id.not_in(_held(Role.DORM_INFORMANT, RoleAssignment.room_id)))
        .order_by(DormBuilding.name, DormRoom.number)
    ).tuples()
    unheld = [
        Unit(ScopeKind.ROOM, room_id, DormRoom.label_of(building, number), students, ())
        for room_id, building, number, students in rows
    ]
    return unheld, total


# The rooms a page lists at once; a building or a search narrows the rest (a campus has thousands).
ROOMS_LISTED = 200
# What may stand between a building and its room in a search (6栋-303, 6栋 303, 6栋303室).
ROOM_SEPARATORS = re.compile(r"[\s\-－—_/]+")


@dataclass(frozen=True)
class RoomSearch:
    """The rooms list narrowed to a building, or to rooms whose label holds `text` (6栋-303,
    6栋, 303), or both."""

    building_id: int | None = None
    text: str = ""

    @property
    def given(self) -> bool:
        return self.building_id is not None or bool(self.compact)

    @property
    def parts(self) -> list[str]:
        """The search as typed, half-width (a full-width keyboard's １０４), split where a
        separator stands: ["1", "104"] for 1-104, a building's number and a room."""
        written = unicodedata.normalize("NFKC", self.text).strip().removesuffix("室")
        return [part for part in ROOM_SEPARATORS.split(written) if part]

    @property
    def compact(self) -> str:
        return "".join(self.parts)


def buildings(session: Session, institution: Institution) -> list[tuple[int, str]]:
    """The institution's dorm buildings with enrolled students, by name: the rooms filter's
    choices."""
    return list(
        session.execute(
            select(DormBuilding.id, DormBuilding.name)
            .where(
                DormBuilding.institution_id == institution.id,
                select(Student.id)
                .join(DormRoom, DormRoom.id == Student.room_id)
                .where(_enrolled(institution), DormRoom.building_id == DormBuilding.id)
                .exists(),
            )
            .order_by(DormBuilding.name)
        ).tuples()
    )


def find_rooms(
    session: Session, institution: Institution, search: RoomSearch
) -> tuple[list[Unit], int]:
    """The rooms with enrolled students that `search` names, held or not, with their informants,
    by building and number: the first `ROOMS_LISTED`, and how many match. Three statements."""
    occupied = (
        select(Student.room_id, func.count().label("students"))
        .where(_enrolled(institution), Student.room_id.is_not(None))
        .group_by(Student.room_id)
        .subquery()
    )
    matching = [DormBuilding.institution_id == institution.id]
    if search.building_id is not None:
        matching.append(DormBuilding.id == search.building_id)
    if search.compact:
        # The label as typed without its dash, whatever the building's name holds.
        label = func.replace(func.replace(DormBuilding.name, "-", ""), " ", "") + DormRoom.number
        named = label.icontains(search.compact, autoescape=True)
        if len(search.parts) == 2:  # 1-104: a building whose name holds 1, its room 104
            building, number = search.parts
            named = or_(
                named,
                and_(
                    DormBuilding.name.icontains(building, autoescape=True),
                    DormRoom.number.icontains(number, autoescape=True),
                ),
            )
        matching.append(named)
    rooms = (
        select(DormRoom.id, DormBuilding.name, DormRoom.number, occupied.c.students)
        .join(occupied, occupied.c.room_id == DormRoom.id)
        .join(DormBuilding, DormBuilding.id == DormRoom.building_id)
        .where(*matching)
    )
    total = session.scalar(select(func.count()).select_from(rooms.subquery())) or 0
    rows = (
        session.execute(rooms.order_by(DormBuilding.name, DormRoom.number).limit(ROOMS_LISTED))
        .tuples()
        .all()
    )
    holders: dict[int | None, tuple[Holder, ...]] = defaultdict(tuple)
    informants = session.execute(
        select(RoleAssignment.room_id, User.id, User.name)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.role == Role.DORM_INFORMANT,
            RoleAssignment.room_id.in_([row[0] for row in rows]),
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
    ).tuples()
    for room_id, user_id, name in informants:
        holders[room_id] += (Holder(user_id, name),)
    found = [
        Unit(ScopeKind.ROOM, room, DormRoom.label_of(building, number), students, holders[room])
        for room, building, number, students in rows
    ]
    return found, total


def no_peer_for_student() -> ColumnElement[bool]:
    """SQL: the student (the `Student` of the enclosing query) has neither a committee member in
    their class nor an informant in their room other than herself, so a check-in or peer watch
    asked of the class and dorm reaches no one (work about a student never goes to her)."""
    return and_(
        _no_one_else_holds(Role.CLASS_COMMITTEE, RoleAssignment.class_id, Student.class_id),
        or_(
            Student.room_id.is_(None),
            _no_one_else_holds(Role.DORM_INFORMANT, RoleAssignment.room_id, Student.room_id),
        ),
    )


def _no_one_else_holds(
    role: Role, held_unit: QueryableAttribute[Any], student_unit: QueryableAttribute[Any]
) -> ColumnElement[bool]:
    """SQL: nobody holds `role` over the student's unit, or only the student does. Both sides
    uncorrelated, like `_held`: the units held, and each unit held by one person with that
    person."""
    held_alone = (
        _held(role, held_unit)
        .add_columns(func.min(RoleAssignment.user_id))
        .group_by(held_unit)
        .having(func.count(func.distinct(RoleAssignment.user_id)) == 1)
    )
    return or_(
        student_unit.not_in(_held(role, held_unit)),
        tuple_(student_unit, Student.user_id).in_(held_alone),
    )


@dataclass(frozen=True)
class PeerCover:
    """Whether a student's class and room have someone other than the student to receive a
    check-in or a peer watch about her, and whether she holds either role herself (then the
    page says she is its only holder, not that it has none)."""

    class_held: bool
    room_held: bool | None  # None: the student has no room
    holds_class: bool = False
    holds_room: bool = False

    @property
    def complete(self) -> bool:
        return self.class_held and self.room_held is not False


def peers_of(session: Session, student: Student) -> PeerCover:
    """The student's class and room holders, herself apart, in one statement (the warning page
    asks it)."""
    herself = RoleAssignment.user_id == student.user_id
    in_class = RoleAssignment.class_id == student.class_id
    in_room = RoleAssignment.room_id == student.room_id
    row = session.execute(
        select(
            _held(Role.CLASS_COMMITTEE, RoleAssignment.id, in_class, ~herself).exists(),
            _held(Role.DORM_INFORMANT, RoleAssignment.id, in_room, ~herself).exists(),
            _held(Role.CLASS_COMMITTEE, RoleAssignment.id, in_class, herself).exists(),
            _held(Role.DORM_INFORMANT, RoleAssignment.id, in_room, herself).exists(),
        )
    ).one()
    has_room = student.room_id is not None
    return PeerCover(bool(row[0]), bool(row[1]) if has_room else None, bool(row[2]), bool(row[3]))


def find_unit(session: Session, reach: Reach, kind: ScopeKind, unit_id: int) -> Unit:
    """The class or room `unit_id` in `reach` with its enrolled students and holders;
    `admin.AdminError` for a kind that takes no peer, or an id out of reach (forged, foreign,
    another department's class, or a room for a department counsellor)."""
    institution = reach.institution
    peer = PEER_OF_KIND.get(kind)
    if peer is None or (kind is ScopeKind.ROOM and not reach.whole):
        raise admin.AdminError(Message(N_("Choose a class or a dorm room.")))
    label = _label_in_reach(session, reach, kind, unit_id)
    if label is None:
        raise admin.AdminError(Message(N_("Choose a scope that belongs to your institution.")))
    students = session.scalar(
        select(func.count()).where(_enrolled(institution), peer.student_unit == unit_id)
    )
    assignments = tuple(
        session.scalars(
            select(RoleAssignment)
            .join(User, User.id == RoleAssignment.user_id)
            .options(contains_eager(RoleAssignment.user))
            .where(
                RoleAssignment.role == peer.role, peer.held_unit == unit_id, User.active.is_(True)
            )
            .order_by(User.name)
        )
    )
    holders = tuple(Holder(a.user.id, a.user.name) for a in assignments)
    return Unit(kind, unit_id, label, students or 0, holders, assignments)


def _label_in_reach(session: Session, reach: Reach, kind: ScopeKind, unit_id: int) -> str | None:
    """The unit's label (as the role pages write it) if it is the institution's and in reach."""
    institution_id = reach.institution.id
    if kind is ScopeKind.ROOM:
        row = session.execute(
            select(DormBuilding.name, DormRoom.number)
            .join(DormBuilding, DormBuilding.id == DormRoom.building_id)
            .where(DormRoom.id == unit_id, DormBuilding.institution_id == institution_id)
        ).first()
        return DormRoom.label_of(*row) if row else None
    row = session.execute(
        select(Department.name, ClassGroup.name)
        .join(Department, Department.id == ClassGroup.department_id)
        .where(
            ClassGroup.id == unit_id,
            Department.institution_id == institution_id,
            reach.department_clause(ClassGroup.department_id),
        )
    ).first()
    return f"{row[0]} / {row[1]}" if row else None


def candidates(session: Session, reach: Reach, unit: Unit) -> list[Student]:
    """The unit's enrolled students with an account, by student number: who may be appointed."""
    return list(
        session.scalars(
            select(Student)
            .where(
                _enrolled(reach.institution),
                PEER_OF_KIND[unit.kind].student_unit == unit.id,
                Student.user_id.is_not(None),
            )
            .order_by(Student.student_number)
        )
    )


def appoint(
    session: Session,
    actor: User,
    reach: Reach,
    unit: Unit,
    student_id: int,
    until: date | None = None,
) -> RoleAssignment:
    """Make one of the unit's own students its class committee member or dorm informant, with
    `admin.assign_role`'s checks and audit row, and tell the student, in one commit. A unit may
    have several (a class often has one of each sex)."""
    chosen = next((s for s in candidates(session, reach, unit) if s.id == student_id), None)
    if chosen is None or chosen.user is None:
        raise admin.AdminError(Message(N_("Choose one of this unit's own students.")))
    role, institution = PEER_OF_KIND[unit.kind].role, reach.institution
    admin.check_assign_role(session, institution, chosen.user, role, unit.id, until)
    notify(session, [chosen.user.id], APPOINTED_TEXT[role], "/")
    return admin.do_assign_role(session, actor, institution, chosen.user, role, unit.id, until)


def end(session: Session, actor: User, reach: Reach, unit: Unit, assignment_id: int) -> None:
    """End one of the unit's peer roles now (kept as history, audited) and tell the student, in
    one commit; `admin.AdminError` for an id that is not one of this unit's."""
    assignment = next((a for a in unit.assignments if a.id == assignment_id), None)
    if assignment is None:
        raise admin.AdminError(Message(N_("That role is not held here any more.")))
    now = clock.now()
    admin.check_end(actor, assignment, now)
    admin.do_end_role(session, actor, reach.institution, assignment, RoleEnd.REMOVED, now)
    notify(session, [assignment.user_id], ENDED_TEXT[assignment.role], "/")
    session.commit()
