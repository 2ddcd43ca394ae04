"""Roster import: students with their department, class and dorm, from CSV or XLSX.

The whole file is validated before anything is written and every bad row is reported with its line
and reason. Nothing is imported from a file with bad rows unless the caller explicitly asks for the
clean rows only. Re-importing a file updates students by number instead of duplicating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.i18n import N_, Message
from campus.models import (
    ClassGroup,
    Department,
    DormBuilding,
    DormRoom,
    EnrolmentStatus,
    Institution,
    Role,
    RoleAssignment,
    Student,
    User,
)
from campus.spreadsheets import ImportFileError, ImportReport, RowError, commit_import
from campus.spreadsheets import read_table as read_spreadsheet

REQUIRED_COLUMNS = (
    "student_number",
    "name",
    "gender",
    "birth_date",
    "department",
    "class",
    "grade",
)
OPTIONAL_COLUMNS = ("dorm_building", "room", "guardian_name", "guardian_phone", "enrolment_status")
GENDERS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}


class RosterFileError(ImportFileError):
    """The file as a whole cannot be read (wrong type, missing columns, empty)."""


@dataclass
class RosterImport(ImportReport):
    audit_action = "import_roster"
    audit_record_type = "roster"

    created: int = 0
    updated: int = 0
    units_created: list[str] = field(default_factory=list)

    @property
    def clean_rows(self) -> int:
        return self.rows - len(self.bad_lines)


def read_table(filename: str, payload: bytes) -> pd.DataFrame:
    """The roster as text cells, with every optional column present (empty when not given)."""
    frame = read_spreadsheet(
        filename, payload, required=REQUIRED_COLUMNS, error=RosterFileError, kind="roster"
    )
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    return frame


@dataclass
class _Units:
    departments: dict[str, Department]
    classes: dict[tuple[str, str], ClassGroup]
    class_department: dict[str, set[str]]
    buildings: dict[str, DormBuilding]
    rooms: dict[tuple[str, str], DormRoom]


def _load_units(session: Session, institution: Institution) -> _Units:
    departments = {
        d.name: d
        for d in session.scalars(
            select(Department).where(Department.institution_id == institution.id)
        )
    }
    classes: dict[tuple[str, str], ClassGroup] = {}
    class_department: dict[str, set[str]] = {}
    for c in session.scalars(
        select(ClassGroup).join(Department).where(Department.institution_id == institution.id)
    ):
        classes[(c.department.name, c.name)] = c
        class_department.setdefault(c.name, set()).add(c.department.name)
    buildings = {
        b.name: b
        for b in session.scalars(
            select(DormBuilding).where(DormBuilding.institution_id == institution.id)
        )
    }
    rooms = {
        (r.building.name, r.number): r
        for r in session.scalars(
            select(DormRoom).join(DormBuilding).where(DormBuilding.institution_id == institution.id)
        )
    }
    return _Units(departments, classes, class_department, buildings, rooms)


def _row_errors(row: pd.Series, units: _Units, create_units: bool, today: date) -> list[Message]:
    reasons = [
        Message(N_("%(column)s is empty"), column=column)
        for column in REQUIRED_COLUMNS
        if not row[column]
    ]
    if row["gender"] and row["gender"].lower() not in GENDERS:
        reasons.append(
            Message(N_("gender '%(value)s' is not one of 男/女/M/F"), value=row["gender"])
        )
    birth = pd.to_datetime(row["birth_date"], format="%Y-%m-%d", errors="coerce")
    if row["birth_date"] and pd.isna(birth):
        reasons.append(
            Message(
                N_("birth_date '%(value)s' is not a date (YYYY-MM-DD)"), value=row["birth_date"]
            )
        )
    elif not pd.isna(birth) and not (date(1900, 1, 1) <= birth.date() <= today):
        reasons.append(
            Message(N_("birth_date '%(value)s' is out of range"), value=row["birth_date"])
        )
    if row["grade"] and not (row["grade"].isdigit() and 1990 <= int(row["grade"]) <= 2100):
        reasons.append(Message(N_("grade '%(value)s' is not a year of entry"), value=row["grade"]))
    status = row["enrolment_status"] or EnrolmentStatus.ENROLLED.value
    if status not in {s.value for s in EnrolmentStatus}:
        reasons.append(Message(N_("enrolment_status '%(value)s' is unknown"), value=status))
    if bool(row["dorm_building"]) != bool(row["room"]):
        reasons.append(Message(N_("dorm_building and room must be given together")))
    reasons.extend(_unit_errors(row, units, create_units))
    return reasons


def _unit_errors(row: pd.Series, units: _Units, create_units: bool) -> list[Message]:
    department, class_name = row["department"], row["class"]
    if not department or not class_name:
        return []
    elsewhere = units.class_department.get(class_name, set()) - {department}
    if elsewhere and (department, class_name) not in units.classes:
        return [
            Message(
                N_("class '%(class_name)s' belongs to %(elsewhere)s, not %(department)s"),
                class_name=class_name,
                elsewhere=", ".join(sorted(elsewhere)),
                department=department,
            )
        ]
    if create_units:
        return []
    reasons = []
    if department not in units.departments:
        reasons.append(Message(N_("unknown department '%(department)s'"), department=department))
    elif (department, class_name) not in units.classes:
        reasons.append(
            Message(
                N_("unknown class '%(class_name)s' in %(department)s"),
                class_name=class_name,
                department=department,
            )
        )
    if row["dorm_building"] and (row["dorm_building"], row["room"]) not in units.rooms:
        reasons.append(
            Message(
                N_("unknown dorm room %(building)s-%(room)s"),
                building=row["dorm_building"],
                room=row["room"],
            )
        )
    return reasons


def validate(
    session: Session,
    institution: Institution,
    frame: pd.DataFrame,
    *,
    create_units: bool,
    today: date,
) -> list[RowError]:
    units = _load_units(session, institution)
    errors: list[RowError] = []
    numbers = frame["student_number"]
    duplicated = numbers[numbers.duplicated(keep=False) & (numbers != "")]
    for index, row in frame.iterrows():
        line = int(index) + 2
        reasons = _row_errors(row, units, create_units, today)
        if index in duplicated.index:
            others = [
                int(i) + 2
                for i in duplicated.index[duplicated == row["student_number"]]
                if i != index
            ]
            reasons.append(
                Message(
                    N_("student_number %(number)s also on line(s) %(lines)s"),
                    number=row["student_number"],
                    lines=", ".join(map(str, others)),
                )
            )
        errors.extend(RowError(line, row["student_number"], r) for r in reasons)
    return errors


def import_roster(
    session: Session,
    institution: Institution,
    actor: User | None,
    frame: pd.DataFrame,
    *,
    create_units: bool = False,
    clean_rows_only: bool = False,
    today: date,
) -> RosterImport:
    """Validate the whole frame; write all of it, the clean rows if asked, or nothing."""
    report = RosterImport(rows=len(frame))
    report.errors = validate(session, institution, frame, create_units=create_units, today=today)
    if report.errors and not clean_rows_only:
        return report
    bad_lines = {e.line for e in report.errors}
    clean = frame[[int(i) + 2 not in bad_lines for i in frame.index]]
    units = _load_units(session, institution)
    existing = {
        s.student_number: s
        for s in session.scalars(select(Student).where(Student.institution_id == institution.id))
    }
    for _, row in clean.iterrows():
        _upsert_student(session, institution, row, units, existing, report)
    counts = (
        f"rows={report.rows} created={report.created} updated={report.updated} "
        f"skipped={len(bad_lines)}"
    )
    return commit_import(session, report, actor, institution.id, counts)


def _unit(
    session: Session, institution: Institution, row: pd.Series, units: _Units, report: RosterImport
) -> tuple[Department, ClassGroup, DormRoom | None]:
    department = units.departments.get(row["department"])
    if department is None:
        department = Department(institution=institution, name=row["department"])
        session.add(department)
        units.departments[department.name] = department
        report.units_created.append(f"department {department.name}")
    group = units.classes.get((department.name, row["class"]))
    if group is None:
        group = ClassGroup(department=department, name=row["class"], grade=int(row["grade"]))
        session.add(group)
        units.classes[(department.name, group.name)] = group
        report.units_created.append(f"class {group.name}")
    room = None
    if row["dorm_building"]:
        building = units.buildings.get(row["dorm_building"])
        if building is None:
            building = DormBuilding(institution_id=institution.id, name=row["dorm_building"])
            session.add(building)
            units.buildings[building.name] = building
            report.units_created.append(f"dorm building {building.name}")
        room = units.rooms.get((building.name, row["room"]))
        if room is None:
            room = DormRoom(building=building, number=row["room"])
            session.add(room)
            units.rooms[(building.name, room.number)] = room
    return department, group, room


def _upsert_student(
    session: Session,
    institution: Institution,
    row: pd.Series,
    units: _Units,
    existing: dict[str, Student],
    report: RosterImport,
) -> None:
    department, group, room = _unit(session, institution, row, units, report)
    student = existing.get(row["student_number"])
    if student is None:
        user = User(
            institution_id=institution.id,
            login=row["student_number"],
            name=row["name"],
            must_change_password=True,
        )
        user.roles.append(RoleAssignment(role=Role.STUDENT, institution_id=institution.id))
        student = Student(
            institution_id=institution.id, student_number=row["student_number"], user=user
        )
        session.add(student)
        existing[student.student_number] = student
        report.created += 1
    else:
        report.updated += 1
        if student.user is not None:
            student.user.name = row["name"]
    student.name = row["name"]
    student.gender = GENDERS[row["gender"].lower()]
    student.birth_date = date.fromisoformat(row["birth_date"])
    student.department = department
    student.class_group = group
    student.room = room
    student.guardian_name = row["guardian_name"] or None
    student.guardian_phone = row["guardian_phone"] or None
    student.enrolment_status = EnrolmentStatus(row["enrolment_status"] or "enrolled")
