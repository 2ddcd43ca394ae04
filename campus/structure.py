"""An institution's units after they were made: renamed, removed while nothing holds them, and
its dorm buildings and rooms, added by hand as departments and classes are.

A unit is removed only while no row of any table names it (a student, a role held or once held,
a warning, an activation batch, a weekly report…) and no domain's record lists it (a screening
campaign's cohort, `register_use`): what was done there stays readable. Anything else is
renamed instead. Writes check first and raise `admin.AdminError` (a `Refused`) having written
nothing, then make the change with its audit row in one commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Table
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus.admin import AdminError
from campus.extensions import Model
from campus.i18n import N_
from campus.i18n import Message
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Institution
from campus.models import Student
from campus.models import User

Unit = Department | ClassGroup | DormBuilding | DormRoom
# A domain's records that name a unit outside a foreign key (a campaign's cohort lists classes
# by id): how many of them name `unit`.
Use = Callable[[Session, Unit], int]

# The units as the structure pages' addresses name them.
KINDS: dict[str, type[Unit]] = {
    "department": Department,
    "class": ClassGroup,
    "building": DormBuilding,
    "room": DormRoom,
}
# What the audit trail calls each kind of unit.
RECORD_TYPES: dict[type[Unit], str] = {
    Department: "department",
    ClassGroup: "class_group",
    DormBuilding: "dorm_building",
    DormRoom: "dorm_room",
}
# A room number as halls write them: 305, 1203, 305A.
ROOM_NUMBER = re.compile(r"\d{1,4}[A-Za-z]?")
ROOM_RANGE = re.compile(r"(\d{1,4})\s*[-－—~～至]\s*(\d{1,4})")
ROOM_SEPARATORS = re.compile(r"[\s,，、;；]+")
MOST_ROOMS = 300  # added at once: a whole building's floors, not a typo's thousands


def register_use(app: Flask, use: Use) -> None:
    """Declare that a domain's records may name a unit outside a foreign key (in its
    `registration.py`); such a unit is not removed while one does."""
    app.extensions.setdefault("xinqiao_unit_uses", []).append(use)


def uses(app: Flask) -> list[Use]:
    return list(app.extensions.get("xinqiao_unit_uses", []))


# --- reads -----------------------------------------------------------------------------------


def find_unit(session: Session, institution: Institution, kind: str, unit_id: int) -> Unit | None:
    """The unit of `kind` (a key of `KINDS`) with that id, if it is `institution`'s; None for an
    unknown kind, a forged id or another institution's."""
    model = KINDS.get(kind)
    if model is None:
        return None
    unit: Unit | None = session.get(model, unit_id)  # type: ignore[assignment]
    if unit is None or institution_of(unit) != institution.id:
        return None
    return unit


def institution_of(unit: Unit) -> int:
    if isinstance(unit, ClassGroup):
        return unit.department.institution_id
    if isinstance(unit, DormRoom):
        return unit.building.institution_id
    return unit.institution_id


@dataclass(frozen=True)
class BuildingSummary:
    building: DormBuilding
    rooms: int
    students: int


def buildings(session: Session, institution: Institution) -> list[BuildingSummary]:
    """Every dorm building of `institution` by name, with how many rooms it has and how many
    students live in them."""
    rooms = (
        select(DormRoom.building_id, func.count().label("rooms"))
        .group_by(DormRoom.building_id)
        .subquery()
    )
    residents = (
        select(DormRoom.building_id, func.count(Student.id).label("students"))
        .join(Student, Student.room_id == DormRoom.id)
        .group_by(DormRoom.building_id)
        .subquery()
    )
    rows = session.execute(
        select(DormBuilding, rooms.c.rooms, residents.c.students)
        .outerjoin(rooms, rooms.c.building_id == DormBuilding.id)
        .outerjoin(residents, residents.c.building_id == DormBuilding.id)
        .where(DormBuilding.institution_id == institution.id)
        .order_by(DormBuilding.name)
    )
    return [BuildingSummary(b, r or 0, s or 0) for b, r, s in rows.tuples()]


def rooms_of(session: Session, building: DormBuilding) -> list[tuple[DormRoom, int]]:
    """The rooms of `building` by number, each with how many students live there."""
    rows = session.execute(
        select(DormRoom, func.count(Student.id))
        .outerjoin(Student, Student.room_id == DormRoom.id)
        .where(DormRoom.building_id == building.id)
        .group_by(DormRoom.id)
        .order_by(func.length(DormRoom.number), DormRoom.number)
    )
    return list(rows.tuples())


def students_in(session: Session, unit: Unit) -> int:
    """How many students belong to `unit` (live in it, for a building or a room)."""
    if isinstance(unit, DormBuilding):
        counted = (
            select(func.count())
            .select_from(Student)
            .join(DormRoom, DormRoom.id == Student.room_id)
            .where(DormRoom.building_id == unit.id)
        )
    else:
        column = {
            Department: Student.department_id,
            ClassGroup: Student.class_id,
            DormRoom: Student.room_id,
        }[type(unit)]
        counted = select(func.count()).select_from(Student).where(column == unit.id)
    return int(session.scalar(counted) or 0)


def _references(session: Session, unit: Unit) -> dict[str, int]:
    """How many rows of each table name `unit` by a foreign key (ended roles, closed warnings
    and every other kept row included), by table name; tables without any are left out."""
    target: Table = type(unit).__table__  # type: ignore[assignment]
    found: dict[str, int] = {}
    for table in Model.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is not target:
                continue
            counted = select(func.count()).select_from(table).where(key.parent == unit.id)
            number = int(session.scalar(counted) or 0)
            if number:
                found[table.name] = found.get(table.name, 0) + number
    return found


# What holds a unit back from removal, by the table naming it; any other table is its history.
CHILDREN = {
    Department: ("class_group", N_("%(name)s still has classes: remove them first.")),
    DormBuilding: ("dorm_room", N_("%(name)s still has rooms: remove them first.")),
}
STUDENTS_LEFT = N_(
    "%(name)s has %(num)s students, so it cannot be removed. Move them with a roster import first, "
    "or rename it."
)
HISTORY_KEPT = N_(
    "%(name)s cannot be removed: roles, warnings, reports or other records name it, and they are "
    "kept. Rename it instead."
)


def label(unit: Unit) -> str:
    """The unit as the pages name it: 计算机学院, 计科2601班, 东2栋, 东2栋-410."""
    return unit.label if isinstance(unit, DormRoom) else unit.name


def check_remove(session: Session, unit: Unit, also: Sequence[Use] = ()) -> None:
    """`unit` may be removed: no student is in it, it has no classes or rooms, and nothing else
    names it. Raises `AdminError` saying which, and writes nothing."""
    name = label(unit)
    students = students_in(session, unit)
    if students:
        raise AdminError(Message(STUDENTS_LEFT, name=name, num=students))
    found = _references(session, unit)
    child = CHILDREN.get(type(unit))
    if child and found.get(child[0]):
        raise AdminError(Message(child[1], name=name))
    if found or any(use(session, unit) for use in also):
        raise AdminError(Message(HISTORY_KEPT, name=name))


def removable(session: Session, unit: Unit, also: Sequence[Use] = ()) -> Message | None:
    """Why `unit` cannot be removed, or None when it can: the unit's page says so beside the
    button instead of offering one that would be refused."""
    try:
        check_remove(session, unit, also)
    except AdminError as refusal:
        return refusal.message
    return None


# --- changes ---------------------------------------------------------------------------------


def remove(
    session: Session,
    admin: User,
    institution: Institution,
    unit: Unit,
    also: Sequence[Use] = (),
) -> None:
    """Delete `unit` (found with `find_unit`) once `check_remove` lets it, audited with its name,
    in one commit."""
    check_remove(session, unit, also)
    kind = RECORD_TYPES[type(unit)]
    _audited(session, admin, institution, "remove_unit", kind, unit.id, label(unit))
    session.delete(unit)
    session.commit()


def rename(session: Session, admin: User, institution: Institution, unit: Unit, name: str) -> None:
    """Give a department, class or building a new name (unique where the old one was), audited
    with both names, in one commit. Its students, roles and records stay with it; a roster file
    naming it afterwards must use the new name."""
    name = name.strip()
    if not name:
        raise AdminError(Message(N_("Enter the new name.")))
    if isinstance(unit, DormRoom):
        raise AdminError(Message(N_("A room is not renamed: add the right one and remove it.")))
    if len(name) > (100 if isinstance(unit, DormBuilding) else 200):
        raise AdminError(Message(N_("The name is too long.")))
    old = unit.name
    if name == old:
        return
    unit.name = name
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AdminError(Message(N_("That name already exists."))) from None
    kind = RECORD_TYPES[type(unit)]
    _audited(session, admin, institution, "rename_unit", kind, unit.id, f"{old} -> {name}")
    session.commit()


def parse_room_numbers(text: str) -> list[str]:
    """Room numbers as a person lists them: 305, 306、401-410 (a range of whole numbers of the
    same length, both ends included). Raises `AdminError` naming what is not a room number."""
    numbers: list[str] = []
    for part in ROOM_SEPARATORS.split(text.strip()):
        if not part:
            continue
        span = ROOM_RANGE.fullmatch(part)
        if span:
            first, last = span.groups()
            if len(first) != len(last) or int(first) > int(last):
                raise AdminError(
                    Message(N_("“%(part)s” is not a range of rooms such as 401-410."), part=part)
                )
            numbers += [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]
        elif ROOM_NUMBER.fullmatch(part):
            numbers.append(part.upper())
        else:
            raise AdminError(
                Message(N_("“%(part)s” is not a room number such as 305 or 305A."), part=part)
            )
        if len(numbers) > MOST_ROOMS:
            raise AdminError(
                Message(N_("At most %(most)s rooms can be added at once."), most=MOST_ROOMS)
            )
    if not numbers:
        raise AdminError(Message(N_("Enter the room numbers, such as 305, 306 or 401-410.")))
    return list(dict.fromkeys(numbers))


@dataclass(frozen=True)
class RoomsAdded:
    building: DormBuilding
    added: list[str]
    existing: list[str]  # numbers asked for that the building had already


def add_rooms(
    session: Session, admin: User, institution: Institution, building_name: str, rooms: str
) -> RoomsAdded:
    """Add the rooms `rooms` lists (`parse_room_numbers`) to the building named `building_name`,
    making the building if the institution has none of that name; rooms it has already are
    left as they are. Audited, in one commit."""
    name = building_name.strip()
    if not name:
        raise AdminError(Message(N_("Enter the building's name, such as 东2栋.")))
    numbers = parse_room_numbers(rooms)
    building = session.scalar(
        select(DormBuilding).where(
            DormBuilding.institution_id == institution.id, DormBuilding.name == name
        )
    )
    if building is None:
        building = DormBuilding(institution_id=institution.id, name=name)
        session.add(building)
        session.flush()
        _audited(
            session, admin, institution, "create_dorm_building", "dorm_building", building.id, name
        )
    held = set(session.scalars(select(DormRoom.number).where(DormRoom.building_id == building.id)))
    added = [n for n in numbers if n not in held]
    session.add_all(DormRoom(building_id=building.id, number=n) for n in added)
    if added:
        detail = f"{name}: {', '.join(added)}"[:500]
        _audited(session, admin, institution, "add_rooms", "dorm_building", building.id, detail)
    try:
        session.commit()
    except IntegrityError:  # the same rooms added at the same moment elsewhere
        session.rollback()
        raise AdminError(Message(N_("Some of these rooms were just added: look again."))) from None
    return RoomsAdded(building, added, [n for n in numbers if n in held])


def _audited(
    session: Session,
    admin: User,
    institution: Institution,
    action: str,
    record_type: str,
    record_id: int,
    detail: str,
) -> None:
    audit.record(
        session,
        actor=admin,
        action=action,
        record_type=record_type,
        record_id=record_id,
        institution_id=institution.id,
        detail=detail,
    )
