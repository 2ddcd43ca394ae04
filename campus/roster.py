"""Roster import: students with their department, class and dorm, from CSV or XLSX.

The whole file is validated before anything is written and every bad row is reported with its line
and reason. Nothing is imported from a file with bad rows unless the caller explicitly asks for the
clean rows only. Re-importing a file updates students by number instead of duplicating them.

A 职务 column appoints the response network's peers with the roster, as student affairs offices
keep them: 心理委员 makes the student their class's committee member, 宿舍长 or 宿舍信息员 their
room's informant. Other positions in the column (班长, 学习委员) are not ours and are passed over.
A file does not take a role away by leaving the word out (a partial file would end roles by
omission); it ends one only when it moves the student out of that class or room, or out of
enrolment, since a peer sees a unit's names and tasks only as one of its members.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from typing import Literal

import pandas as pd
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from campus import admin
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.i18n import Named
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import RoleEnd
from campus.models import Student
from campus.models import User
from campus.network import APPOINTED_TEXT
from campus.network import PEER_OF_ROLE
from campus.notifications import notify_many
from campus.spreadsheets import ImportReport
from campus.spreadsheets import ImportTemplate
from campus.spreadsheets import RowError
from campus.spreadsheets import Table
from campus.spreadsheets import commit_import
from campus.spreadsheets import read_table as read_spreadsheet

REQUIRED_COLUMNS = ("student_number", "name", "gender", "birth_date", "department", "class")
OPTIONAL_COLUMNS = (
    "grade",
    "dorm",
    "dorm_building",
    "room",
    "guardian_name",
    "guardian_phone",
    "enrolment_status",
    "peer_role",
)
# What a column the file does not have keeps for a student already on record: a second file (a
# dorm update, a class list) says nothing of the guardian, whose number a counsellor must call
# on a red warning, nor of a leave recorded since, nor of the room.
KEPT_UNLESS_GIVEN = {
    "guardian": ("guardian_name", "guardian_phone"),
    "enrolment_status": ("enrolment_status",),
    "room": ("dorm", "dorm_building", "room"),
}
# Columns of names and words: a cell there starting with = + - @ is a formula, never a value.
TEXT_COLUMNS = (
    "student_number",
    "name",
    "gender",
    "department",
    "class",
    "dorm",
    "dorm_building",
    "room",
    "guardian_name",
    "enrolment_status",
    "peer_role",
)
GENDERS = {
    "男": "M",
    "女": "F",
    "男性": "M",
    "女性": "F",
    "m": "M",
    "f": "F",
    "male": "M",
    "female": "F",
}
STATUSES = {
    **{s.value: s for s in EnrolmentStatus if s is not EnrolmentStatus.REMOVED},
    "在读": EnrolmentStatus.ENROLLED,
    "在籍": EnrolmentStatus.ENROLLED,
    "在校": EnrolmentStatus.ENROLLED,
    "休学": EnrolmentStatus.ON_LEAVE,
    "毕业": EnrolmentStatus.GRADUATED,
    "已毕业": EnrolmentStatus.GRADUATED,
    "退学": EnrolmentStatus.WITHDRAWN,
    "已退学": EnrolmentStatus.WITHDRAWN,
}
# What a student number may be, in the roster import and in a correction alike: digits and
# capital Latin letters (「2026001718」, 「S2026001」, 「19S003001」), at least one digit, nothing
# else: no space inside, no lower case (「abc123」 is a typo, not a number), no - or _, which no
# number of the schools using Xinqiao has. It is also the student's sign-in.
STUDENT_NUMBER = re.compile(r"(?=[A-Z]*[0-9])[A-Z0-9]+")


def number_problem(number: str) -> Message | None:
    """Why `number` (trimmed) cannot be a student number; None when it can."""
    if STUDENT_NUMBER.fullmatch(number):
        return None
    return Message(
        N_("'%(value)s' is not a student number: use digits and capital letters only, no spaces"),
        value=number,
    )


# The words of the 职务 column that name a peer of the response network; other positions pass.
PEER_ROLES = {
    "心理委员": Role.CLASS_COMMITTEE,
    "班级心理委员": Role.CLASS_COMMITTEE,
    "心理健康委员": Role.CLASS_COMMITTEE,
    "class committee": Role.CLASS_COMMITTEE,
    "宿舍长": Role.DORM_INFORMANT,
    "寝室长": Role.DORM_INFORMANT,
    "宿舍信息员": Role.DORM_INFORMANT,
    "dorm informant": Role.DORM_INFORMANT,
}
# The import page's box that creates what a file names and the campus lacks; a row naming a unit
# that does not exist says to tick it (or to add the unit on the structure page).
CREATE_UNITS = Message(N_("Create departments, classes and dorm rooms that do not exist yet"))
TICK_CREATE_UNITS = Message(N_("tick “%(option)s” and import again"), option=CREATE_UNITS)
# The same way out on `flask campus import-roster`, whose output is English: its option, since
# the command has no box to tick.
GIVE_CREATE_UNITS = "import again with --create-units"
POSITIONS = re.compile(r"[、,，;；/]")
DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{4})(\d{2})(\d{2})")
# 东2栋-410, 东2栋410室, 12-305: the building is everything before the room's digits.
DORM = re.compile(r"(?P<building>.*\D)[\s\-－—_/]*(?P<room>\d{2,4}[A-Za-z]?)室?")
MOBILE = re.compile(r"(\+?86|0086)?1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")


@dataclass(frozen=True)
class Joined:
    """What the imported students joined at once in another domain, for the import's page: `what`
    (a message id: "screening under way") named `named`, by `students` of them."""

    what: str
    named: Named
    students: int


# A domain's rule that takes the imported students in at once, in the import's own commit (an
# unclosed screening's cohort): `fn(session, institution, now)`, what they joined.
Joining = Callable[[Session, Institution, datetime], list[Joined]]


def register_joining(app: Flask, joining: Joining) -> None:
    """Declare, in a domain's `registration.py`, a rule the roster import runs before its commit
    (the kernel does not import the domains)."""
    app.extensions.setdefault("xinqiao_roster_joining", []).append(joining)


def joining(app: Flask) -> list[Joining]:
    return list(app.extensions.get("xinqiao_roster_joining", []))


@dataclass
class RosterImport(ImportReport):
    audit_action = "import_roster"
    audit_record_type = "roster"

    created: int = 0
    updated: int = 0
    peers_appointed: int = 0
    peers_ended: int = 0  # committee or informant roles over a unit the student left
    # Students whose guardian a counsellor corrected and the file gives otherwise: the
    # correction is kept (`_upsert_guardian`), and the page names them for the registry's source.
    guardians_kept: list[str] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    grade_missing: list[int] = field(default_factory=list)
    joined: list[Joined] = field(default_factory=list)

    @property
    def clean_rows(self) -> int:
        return self.rows - len(self.bad_lines)


def read_table(filename: str, payload: bytes) -> Table:
    """The roster as text cells, with every optional column present (empty when not given)."""
    table = read_spreadsheet(
        filename,
        payload,
        required=REQUIRED_COLUMNS,
        optional=OPTIONAL_COLUMNS,
        text_columns=TEXT_COLUMNS,
        kind="roster",
    )
    for column in OPTIONAL_COLUMNS:
        if column not in table.frame.columns:
            table.frame[column] = ""
    return table


def parse_date(text: str) -> date | None | Literal[False]:
    """2007-05-01, 2007/5/1, 2007.5.1, 2007年5月1日 or 20070501 as a date; False when it has a
    date's shape but is no day of the calendar (2005-02-30); None when it is no date at all."""
    match = DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        return date(year, month, day)
    except ValueError:
        return False


def split_dorm(text: str) -> tuple[str, str] | None:
    """A combined dorm cell (东2栋-410, 东2栋410室) as (building, room); None without a room."""
    match = DORM.fullmatch(text.strip())
    if match is None:
        return None
    building = match["building"].rstrip(" -－—_/")
    return (building, match["room"]) if building else None


def derive_grade(class_name: str, student_number: str, today: date) -> int | None:
    """The year of entry the class name (2026级, 计科2601班) and student number (2026001…) both
    point to; None when they point nowhere or to different years."""
    plausible = range(today.year - 12, today.year + 2)
    years = {int(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", class_name)}
    found = {y for y in years if y in plausible}
    if not found:
        found = {2000 + int(y) for y in re.findall(r"(?<!\d)(\d{2})(?:\d{2}|级)(?!\d)", class_name)}
    from_number = re.match(r"(20\d{2})", student_number)
    if from_number:
        found.add(int(from_number[1]))
    found &= set(plausible)
    return found.pop() if len(found) == 1 else None


def written_phone(text: str) -> str:
    """A phone number as typed, in half-width characters and single spaces: full-width digits
    (a Chinese keyboard's full-width mode) and a full-width hyphen become the ones a `tel:` link
    dials."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def phone_problem(text: str) -> Message | None:
    """Why `text` cannot be a guardian's phone number, in the roster import and in a
    counsellor's correction alike (a mobile, with or without +86 or 0086, or an area code and
    number; spaces, hyphens, brackets and full-width digits allowed); None when it can."""
    compact = re.sub(r"[\s()]", "", written_phone(text))
    if MOBILE.fullmatch(compact.replace("-", "")) or LANDLINE.fullmatch(compact):
        return None
    return Message(
        N_("'%(value)s' is not a phone number (a mobile or an area code and number)"), value=text
    )


def prepare(table: Table, grade: int | None, today: date) -> list[int]:
    """Fill what the file implies: building and room from a combined dorm column, the grade
    from this import's answer or, where unambiguous, the class name and student number.
    Returns the rows whose grade is still unknown."""
    frame = table.frame
    for index in frame.index[(frame["dorm"] != "") & (frame["dorm_building"] == "")]:
        parts = split_dorm(frame.at[index, "dorm"])
        if parts:
            frame.at[index, "dorm_building"], frame.at[index, "room"] = parts
    missing = []
    for index in frame.index[frame["grade"] == ""]:
        found = grade or derive_grade(
            frame.at[index, "class"], frame.at[index, "student_number"], today
        )
        if found:
            frame.at[index, "grade"] = str(found)
        else:
            missing.append(int(index) + 2)
    return missing


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


def _row_errors(
    row: pd.Series, units: _Units, create_units: bool, today: date
) -> list[tuple[str, Message]]:
    """(column, reason) for every problem of one row."""
    reasons = [
        (column, Message(N_("required, but the cell is empty")))
        for column in REQUIRED_COLUMNS
        if not row[column]
    ]
    if row["gender"] and row["gender"].lower() not in GENDERS:
        reasons.append(
            (
                "gender",
                Message(N_("'%(value)s' is not 男 or 女 (or M/F)"), value=row["gender"]),
            )
        )
    if row["student_number"] and (problem := number_problem(row["student_number"])):
        reasons.append(("student_number", problem))
    reasons.extend(("birth_date", r) for r in _birth_errors(row["birth_date"], today))
    if row["grade"] and not (row["grade"].isdigit() and 1990 <= int(row["grade"]) <= 2100):
        reasons.append(
            ("grade", Message(N_("'%(value)s' is not a year of entry"), value=row["grade"]))
        )
    status = row["enrolment_status"] or EnrolmentStatus.ENROLLED.value
    if status.lower() not in STATUSES:
        reasons.append(
            (
                "enrolment_status",
                Message(
                    N_("'%(value)s' is not an enrolment status (在读/休学/毕业/退学)"),
                    value=status,
                ),
            )
        )
    if row["guardian_phone"] and (bad_phone := phone_problem(row["guardian_phone"])):
        reasons.append(("guardian_phone", bad_phone))
    if row["dorm"] and not row["dorm_building"]:
        reasons.append(
            (
                "dorm",
                Message(
                    N_("'%(value)s' names no room (write it as 东2栋-410 or 东2栋410室)"),
                    value=row["dorm"],
                ),
            )
        )
    elif bool(row["dorm_building"]) != bool(row["room"]):
        reasons.append(("dorm_building", Message(N_("building and room must be given together"))))
    reasons.extend(_unit_errors(row, units, create_units))
    reasons.extend(("peer_role", r) for r in _peer_errors(row, status))
    return reasons


def peer_roles(cell: str) -> set[Role]:
    """The peer roles a 职务 cell names (「心理委员、班长」 names one)."""
    words = (word.strip() for word in POSITIONS.split(cell.lower()))
    return {PEER_ROLES[word] for word in words if word in PEER_ROLES}


def _peer_errors(row: pd.Series, status: str) -> list[Message]:
    roles = peer_roles(row["peer_role"])
    if roles and STATUSES.get(status.lower()) not in (None, EnrolmentStatus.ENROLLED):
        return [Message(N_("only an enrolled student can be a committee member or informant"))]
    if Role.DORM_INFORMANT in roles and not row["dorm_building"]:
        return [Message(N_("a dorm informant needs the room they live in (宿舍)"))]
    return []


def _birth_errors(text: str, today: date) -> list[Message]:
    if not text:
        return []
    birth = parse_date(text)
    if birth is None:
        return [Message(N_("'%(value)s' is not a date (YYYY-MM-DD)"), value=text)]
    if birth is False:
        return [Message(N_("'%(value)s' is not a day of the calendar"), value=text)]
    if not date(1900, 1, 1) <= birth <= today:
        return [Message(N_("'%(value)s' is out of range"), value=text)]
    return []


def _unit_errors(row: pd.Series, units: _Units, create_units: bool) -> list[tuple[str, Message]]:
    department, class_name = row["department"], row["class"]
    if not department or not class_name:
        return []
    if (
        not create_units
        and department not in units.departments
        and (like := lookalike(department, units.departments))
    ):
        return [
            (
                "department",
                Message(
                    N_(
                        "unknown department '%(department)s': did you mean '%(like)s'? Correct "
                        "the file and import again"
                    ),
                    department=department,
                    like=like,
                ),
            )
        ]
    elsewhere = units.class_department.get(class_name, set()) - {department}
    if elsewhere and (department, class_name) not in units.classes:
        return [
            (
                "class",
                Message(
                    N_("class '%(class_name)s' belongs to %(elsewhere)s, not %(department)s"),
                    class_name=class_name,
                    elsewhere=", ".join(sorted(elsewhere)),
                    department=department,
                ),
            )
        ]
    if create_units:
        return []
    reasons = []
    if department not in units.departments:
        reasons.append(
            (
                "department",
                Message(
                    N_(
                        "unknown department '%(department)s': %(create)s, or add it on the "
                        "Structure page"
                    ),
                    department=department,
                    create=TICK_CREATE_UNITS,
                ),
            )
        )
    elif (department, class_name) not in units.classes:
        like = lookalike(class_name, (c for d, c in units.classes if d == department))
        reasons.append(
            (
                "class",
                Message(
                    N_(
                        "unknown class '%(class_name)s' in %(department)s: did you mean "
                        "'%(like)s'? Correct the file and import again"
                    ),
                    class_name=class_name,
                    department=department,
                    like=like,
                )
                if like
                else Message(
                    N_(
                        "unknown class '%(class_name)s' in %(department)s: %(create)s, or add it "
                        "on the Structure page"
                    ),
                    class_name=class_name,
                    department=department,
                    create=TICK_CREATE_UNITS,
                ),
            )
        )
    building, room = row["dorm_building"], row["room"]
    if building and (building, room) not in units.rooms:
        # A new room of a known building is common (rooms are added as they fill); a building
        # the campus lacks but one of its names resembles is a typo.
        like = None if building in units.buildings else lookalike(building, units.buildings)
        reasons.append(
            (
                "dorm" if row["dorm"] else "dorm_building",
                Message(
                    N_(
                        "unknown dorm building '%(building)s': did you mean '%(like)s'? Correct "
                        "the file and import again"
                    ),
                    building=building,
                    like=like,
                )
                if like
                else Message(
                    N_(
                        "unknown dorm room %(building)s-%(room)s: %(create)s, or add the room on "
                        "the Structure page"
                    ),
                    building=building,
                    room=room,
                    create=TICK_CREATE_UNITS,
                ),
            )
        )
    return reasons


def _digits(name: str) -> list[str]:
    return re.findall(r"\d+", name)


def lookalike(name: str, known: Iterable[str]) -> str | None:
    """The existing unit name that `name` most likely mistypes, or None when it looks new.

    Numbers tell units apart (计科2601班 and 计科2602班 are two classes, 6栋 and 16栋 two
    buildings), so only a name with the same numbers is a candidate: the only such one, or the
    one whose words are a close match (计算机2601班 for 计算2601班, 计算机学员 for 计算机学院)."""
    digits = _digits(name)
    same = [k for k in known if k != name and _digits(k) == digits]
    if digits and len(same) == 1:
        return same[0]
    words = {re.sub(r"\d+", "", k): k for k in same}
    close = difflib.get_close_matches(re.sub(r"\d+", "", name), list(words), n=1, cutoff=0.6)
    return words[close[0]] if close else None


def _names_on_record(session: Session, institution: Institution) -> dict[str, str]:
    """The institution's student numbers on record, each with its student's name."""
    rows = session.execute(
        select(Student.student_number, Student.name).where(Student.institution_id == institution.id)
    )
    return {number: name for number, name in rows}


def swapped_neighbours(number: str) -> list[str]:
    """`number` with two adjacent characters swapped, each way it can be (2024010132 →
    0224010132, …, 2024010123): the commonest slip in typing a long number."""
    return [
        number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        for i in range(len(number) - 1)
        if number[i] != number[i + 1]
    ]


def mistyped_number(number: str, name: str, on_record: dict[str, str]) -> str | None:
    """The number on record that `number` most likely mistypes, or None when it looks new.

    A roster's numbers run in sequence, so a new number one slip away from one on record is
    usually another student (2024010124 after 2024010123); `difflib` finds them all alike. A new
    number is a typo when the student it names is on record under the number with two adjacent
    digits the other way round (张三 as 2024010132, on record as 2024010123): importing it would
    add her a second time."""
    if not number or number in on_record:
        return None
    return next((n for n in swapped_neighbours(number) if on_record.get(n) == name), None)


def on_the_command_line(reason: str) -> str:
    """A row's problem as `flask campus import-roster` prints it: a unit the campus lacks names
    the command's `--create-units`, not the import page's box."""
    if isinstance(reason, Message) and reason.params.get("create") == TICK_CREATE_UNITS:
        return str(Message(reason.key, **{**reason.params, "create": GIVE_CREATE_UNITS}))
    return str(reason)


def validate(
    session: Session,
    institution: Institution,
    table: Table,
    *,
    create_units: bool,
    today: date,
) -> list[RowError]:
    """Every problem of every row, formula cells included, each named by row and column."""
    units = _load_units(session, institution)
    frame = table.frame
    errors: list[RowError] = []
    numbers = frame["student_number"]
    duplicated = numbers[numbers.duplicated(keep=False) & (numbers != "")]
    on_record = _names_on_record(session, institution)
    for index, row in frame.iterrows():
        line = int(index) + 2
        reasons = _row_errors(row, units, create_units, today)
        if (like := mistyped_number(row["student_number"], row["name"], on_record)) is not None:
            reasons.append(
                (
                    "student_number",
                    Message(
                        N_(
                            "student number %(number)s is not on record, but %(name)s is, as "
                            "%(like)s: did you mean '%(like)s'? Correct the file and import again"
                        ),
                        number=row["student_number"],
                        name=row["name"],
                        like=like,
                    ),
                )
            )
        if index in duplicated.index:
            others = [
                int(i) + 2
                for i in duplicated.index[duplicated == row["student_number"]]
                if i != index
            ]
            reasons.append(
                (
                    "student_number",
                    Message(
                        N_("student number %(number)s is also on row(s) %(lines)s"),
                        number=row["student_number"],
                        lines=", ".join(map(str, others)),
                    ),
                )
            )
        errors.extend(RowError(line, row["student_number"], r, table.header(c)) for c, r in reasons)
    errors.extend(TEMPLATE.example_errors(table))
    return sorted(table.cell_errors() + table.without_formula_cells(errors), key=lambda e: e.line)


def import_roster(
    session: Session,
    institution: Institution,
    actor: User | None,
    table: Table,
    *,
    create_units: bool = False,
    clean_rows_only: bool = False,
    grade: int | None = None,
    today: date,
    joining: Sequence[Joining] = (),
) -> RosterImport:
    """Validate the whole file; write all of it, the clean rows if asked, or nothing.

    `grade` is this import's answer for rows without a year of entry that neither the class name
    nor the student number gives unambiguously; while such rows remain nothing is written (the
    question is asked once for the file, never guessed per row). Each of `joining` (the domains'
    `register_joining` rules) takes the students in before the commit."""
    frame = table.frame
    report = RosterImport(rows=len(frame), unused=table.unused_notes())
    report.grade_missing = prepare(table, grade, today)
    report.errors = validate(session, institution, table, create_units=create_units, today=today)
    if report.grade_missing or (report.errors and not clean_rows_only):
        return report
    bad_lines = {e.line for e in report.errors}
    clean = frame[[int(i) + 2 not in bad_lines for i in frame.index]]
    units = _load_units(session, institution)
    # With their accounts and working roles, which every updated row reads (names, peer roles):
    # three statements for the file, not two a student.
    known = (
        select(Student)
        .where(Student.institution_id == institution.id)
        .options(selectinload(Student.user).selectinload(User.roles))
    )
    existing = {s.student_number: s for s in session.scalars(known)}
    appointed: dict[Role, list[User]] = {}
    given = {
        field for field, columns in KEPT_UNLESS_GIVEN.items() if set(columns) & table.headers.keys()
    }
    for _, row in clean.iterrows():
        student = _upsert_student(session, institution, row, units, existing, report, given=given)
        report.peers_ended += end_peer_roles_left_behind(session, institution, actor, student)
        roles = peer_roles(row["peer_role"])
        for role in _appoint_peer(session, institution, actor, student, roles, report):
            assert student.user is not None  # every imported student has an account
            appointed.setdefault(role, []).append(student.user)
    session.flush()  # the new students' accounts get their ids, to be told of their role
    notify_many(
        session,
        [(sorted(u.id for u in users), APPOINTED_TEXT[r], "/") for r, users in appointed.items()],
    )
    now = clock.now()
    report.joined = [joined for join in joining for joined in join(session, institution, now)]
    counts = (
        f"rows={report.rows} created={report.created} updated={report.updated} "
        f"peers={report.peers_appointed} peers_ended={report.peers_ended} "
        f"skipped={len(bad_lines)} joined={sum(j.students for j in report.joined)} "
        f"guardians_kept={len(report.guardians_kept)}"
    )
    return commit_import(session, report, actor, institution.id, counts)


def import_file(
    session: Session,
    institution: Institution,
    actor: User | None,
    filename: str,
    payload: bytes,
    *,
    create_units: bool,
    clean_rows_only: bool,
    grade: int | None,
    joining: Sequence[Joining] = (),
) -> RosterImport:
    """Read a roster file and import it, as the roster page and `flask campus import-roster` do:
    birth dates and years of entry are judged by the institution's own calendar day."""
    return import_roster(
        session,
        institution,
        actor,
        read_table(filename, payload),
        create_units=create_units,
        clean_rows_only=clean_rows_only,
        grade=grade,
        today=admin.local_today(institution, clock.now()),
        joining=joining,
    )


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
    *,
    given: set[str] | None = None,
) -> Student:
    """Add or update the row's student; for one on record, a field whose columns the file lacks
    (`KEPT_UNLESS_GIVEN`) stays as it is (`given`: the fields the file has; None, all)."""
    department, group, room = _unit(session, institution, row, units, report)
    student = existing.get(row["student_number"])
    kept = set() if student is None or given is None else KEPT_UNLESS_GIVEN.keys() - given
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
    birth = parse_date(row["birth_date"])
    assert birth, "only rows whose birth date validated are written"
    student.birth_date = birth
    student.department = department
    student.class_group = group
    if "room" not in kept:
        student.room = room
    if "guardian" not in kept:
        _upsert_guardian(
            student,
            row["guardian_name"] or None,
            written_phone(row["guardian_phone"]) or None,
            report,
        )
    if "enrolment_status" not in kept:
        student.enrolment_status = STATUSES[(row["enrolment_status"] or "enrolled").lower()]
    return student


def _same_guardian(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    """Whether two (name, phone) pairs are one guardian, as written differently (spaces,
    brackets, dashes in the number)."""

    def compact(text: str | None) -> str:
        return re.sub(r"[\s()（）-]", "", text or "")

    return (a[0] or "").strip() == (b[0] or "").strip() and compact(a[1]) == compact(b[1])


def _upsert_guardian(
    student: Student, name: str | None, phone: str | None, report: RosterImport
) -> None:
    """Store the file's guardian, unless a counsellor corrected the one on file and the file
    gives another: the person who called the family learnt the number from it, and the registry's
    file, exported again each term, keeps the number that was wrong. That correction stays (and
    the report names the student); a file that gives the corrected guardian has caught up, and
    the roster is again the source."""
    if student.guardian_corrected_at is not None:
        if not _same_guardian((name, phone), (student.guardian_name, student.guardian_phone)):
            report.guardians_kept.append(student.student_number)
            return
        student.guardian_corrected_at = None
        student.guardian_corrected_by_id = None
    student.guardian_name = name
    student.guardian_phone = phone


def end_peer_roles_left_behind(
    session: Session, institution: Institution, actor: User | None, student: Student
) -> int:
    """End the student's committee or informant role over a class or room the file moves them
    out of, or any such role once they are no longer enrolled (a roster import, a leave of
    absence): a peer sees a unit's names and tasks only as one of its members. Audited, not
    committed; returns how many ended."""
    if student.user is None:
        return 0
    enrolled = student.enrolment_status is EnrolmentStatus.ENROLLED
    left = [
        a
        for a in student.user.roles
        if (peer := PEER_OF_ROLE.get(a.role))
        and (not enrolled or peer.held_over(a) != peer.unit_of(student))
    ]
    now = clock.now()
    for assignment in left:
        admin.do_end_role(session, actor, institution, assignment, RoleEnd.LEFT_UNIT, now)
    return len(left)


def _appoint_peer(
    session: Session,
    institution: Institution,
    actor: User | None,
    student: Student,
    roles: set[Role],
    report: RosterImport,
) -> list[Role]:
    """Give the student each peer role over their own class or room that they do not hold yet;
    the roles given."""
    if not roles:
        return []
    given = []
    if student.class_group.id is None or (student.room is not None and student.room.id is None):
        session.flush()  # a class or room this import created needs its id
    user = student.user
    assert user is not None  # every imported student has an account
    for role in sorted(roles):
        peer = PEER_OF_ROLE[role]
        unit = peer.unit_of(student)
        if any(a.role is role and peer.held_over(a) == unit for a in user.roles):
            continue
        assignment = RoleAssignment(
            role=role,
            institution_id=institution.id,
            given_by_id=actor.id if actor else None,
            **{peer.held_unit.key: unit},
        )
        user.roles.append(assignment)
        given.append(role)
    report.peers_appointed += len(given)
    return given


TEMPLATE = ImportTemplate(
    headers=(
        "学号",
        "姓名",
        "性别",
        "出生日期",
        "院系",
        "班级",
        "年级",
        "宿舍",
        "监护人姓名",
        "监护人电话",
        "学籍状态",
        "职务",
    ),
    example=(
        "2026001",
        "张三",
        "男",
        "2008-03-15",
        "计算机学院",
        "计科2601班",
        "2026",
        "东2栋-410",
        "张建国",
        "13800138000",
        "在读",
        "心理委员",
    ),
    choices={
        "性别": ("男", "女"),
        "学籍状态": ("在读", "休学", "毕业", "退学"),
        "职务": ("心理委员", "宿舍长"),
    },
    title="学生名单",
    notes=(
        ("学号", "必填。按文本填写，开头的 0 会保留。"),
        ("姓名", "必填。"),
        ("性别", "必填：男 或 女。"),
        ("出生日期", "必填，如 2008-03-15。"),
        ("院系", "必填，与「组织结构」页上的院系名称一致。"),
        ("班级", "必填，与「组织结构」页上该院系的班级名称一致。"),
        ("年级", "选填：入学年份，如 2026。班级名称或学号已能看出入学年份时可不填。"),
        ("宿舍", "选填：楼栋-房间号，如 东2栋-410；也可改用「楼栋」「房间号」两列分别填写。"),
        ("监护人姓名", "选填。"),
        ("监护人电话", "选填：手机号，或区号加电话号码。"),
        ("学籍状态", "选填：在读、休学、毕业或退学；不填即为在读。"),
        (
            "职务",
            "选填：填「心理委员」即任命为本班心理委员，填「宿舍长」或「宿舍信息员」即任命为本宿舍"
            "信息员；其他职务不处理。",
        ),
        (
            "自动创建",
            "名单里的院系、班级或宿舍在系统中还没有时，导入会逐行报错；在导入页勾选「自动创建尚不"
            "存在的院系、班级和宿舍」即可一并创建，或先在「组织结构」页添加。",
        ),
    ),
)
"""The roster as the import page offers it to fill in."""
