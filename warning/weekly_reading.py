"""The department's reading of its classes' and dorm rooms' weekly reports.

A class committee member and a dorm informant file a weekly report (a zero report when all is
well, or a note, naming anyone it is about) and concern reports; a concern report counts as the
week's report (`warning.reports`). Named students and concerns become signals on each student's
record, but a note about the room or class as a whole names no one: this page is where the
department reads it (its counsellors are told a note came in, never its words:
`reports.tell_note`). Department counsellors and leaders see their department's units, the school
centre's counsellors and the director the institution's (`permissions.WEEKLY_REPORT_READERS`).

A unit is in the viewer's reach when a student the viewer may see at the warning tier is in it
(a room is every department's whose students live there), so the scope is the query's, the same
as every list of students. Each week a unit reads as one state: a concern report in the week
makes it `concern` whatever else was filed, a zero report `zero`, a note `filed`; a week gone by
without the report a reporter owed is `missing`, this week's `due`. A unit with no reporter owes
nothing and is listed only if something was filed.

What the page shows is what the department may see: who filed, the note, whom the note named and
whom a concern was about (with its category), each student only when in the viewer's scope (one
outside it is counted, so a note naming a student of another department never reads as naming
no one: a room is shared by departments). Never
a concern's own words (clinical free text, read on the student's record by those who may), levels
or scores.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import contains_eager

from campus import clock
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from warning.models import ConcernReport
from warning.models import Signal
from warning.models import WeeklyReport
from warning.reports import ReportingUnit
from warning.reports import week_start
from warning.reports import weekly_report_status

WEEKS_SHOWN = 4  # the overview: this week and the three before it
UNIT_WEEKS = 12  # one unit's page: about a term's half


class WeekState(enum.StrEnum):
    CONCERN = "concern"
    MISSING = "missing"
    FILED = "filed"
    DUE = "due"
    ZERO = "zero"


# The order a week's units are listed in: what needs reading first.
STATE_ORDER = list(WeekState)


@dataclass
class UnitWeek:
    """One unit's report for one week, as the viewer may read it."""

    unit: ReportingUnit
    state: WeekState
    report: WeeklyReport | None = None
    filed_by: str | None = None
    named: list[Student] = field(default_factory=list)  # students the note named, in scope
    named_elsewhere: int = 0  # named by the note, outside the viewer's scope: counted, not named
    concerns: list[ConcernReport] = field(default_factory=list)  # about students in scope
    concerns_elsewhere: int = 0  # about students outside the viewer's scope: counted, not named

    @property
    def zero_then_concern(self) -> bool:
        """All was well when first reported, and a concern came later in the week."""
        return self.state is WeekState.CONCERN and bool(self.report and self.report.zero_report)


@dataclass
class ReportWeek:
    week: date
    current: bool
    units: list[UnitWeek]

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    @property
    def to_read(self) -> list[UnitWeek]:
        """The units with something to read or chase: every state but "all is well"."""
        return [u for u in self.units if u.state != WeekState.ZERO]

    @property
    def all_well(self) -> list[UnitWeek]:
        return [u for u in self.units if u.state == WeekState.ZERO]


def units_in_reach(
    session: Session, user: User, department_id: int | None = None
) -> list[ReportingUnit]:
    """The classes and rooms holding a student ``user`` may see at the warning tier (of
    ``department_id`` only, when given), classes first, each by name."""
    seen = [student_filter(user, Capability.WARNING)]
    if department_id is not None:
        seen.append(Student.department_id == department_id)
    classes = session.execute(
        select(ClassGroup.id, Department.institution_id, ClassGroup.name)
        .join(Department, Department.id == ClassGroup.department_id)
        .where(ClassGroup.id.in_(select(Student.class_id).where(*seen)))
        .order_by(ClassGroup.name, ClassGroup.id)
    ).all()
    rooms = session.execute(
        select(DormRoom.id, DormBuilding.institution_id, DormBuilding.name, DormRoom.number)
        .join(DormBuilding, DormBuilding.id == DormRoom.building_id)
        .where(DormRoom.id.in_(select(Student.room_id).where(*seen, Student.room_id.is_not(None))))
        .order_by(DormBuilding.name, DormRoom.number, DormRoom.id)
    ).all()
    return [ReportingUnit("class", i, inst, name) for i, inst, name in classes] + [
        ReportingUnit("room", i, inst, DormRoom.label_of(building, number))
        for i, inst, building, number in rooms
    ]


def unit_in_reach(session: Session, user: User, kind: str, unit_id: int) -> ReportingUnit | None:
    """One class or room in ``user``'s reach; None for a forged id or another department's."""
    seen = student_filter(user, Capability.WARNING)
    column = Student.class_id if kind == "class" else Student.room_id
    if session.scalar(select(Student.id).where(column == unit_id, seen).limit(1)) is None:
        return None
    if kind == "class":
        group = session.get_one(ClassGroup, unit_id)
        return ReportingUnit("class", group.id, group.department.institution_id, group.name)
    room = session.get_one(DormRoom, unit_id)
    return ReportingUnit("room", room.id, room.building.institution_id, room.label)


def weeks_of(
    session: Session,
    user: User,
    units: list[ReportingUnit],
    newest: date,
    current: date,
    count: int,
) -> list[ReportWeek]:
    """``count`` weeks of the units' reports, newest first, from the week of Monday ``newest``;
    ``current`` is this week's Monday (its absent reports are due, not missing)."""
    weeks = [newest - timedelta(weeks=n) for n in range(count)]
    if not units:
        return [ReportWeek(w, w == current, []) for w in weeks]
    class_ids = [u.id for u in units if u.kind == "class"]
    room_ids = [u.id for u in units if u.kind == "room"]
    reports = session.scalars(
        select(WeeklyReport).where(
            WeeklyReport.week_start.in_(weeks),
            or_(WeeklyReport.class_id.in_(class_ids), WeeklyReport.room_id.in_(room_ids)),
        )
    ).all()
    by_unit = {
        ("class" if r.class_id is not None else "room", r.class_id or r.room_id, r.week_start): r
        for r in reports
    }
    ids = [r.id for r in reports]
    filers: dict[int, str] = {
        user_id: name
        for user_id, name in session.execute(
            select(User.id, User.name).where(User.id.in_({r.filed_by_id for r in reports}))
        )
    }
    seen = student_filter(user, Capability.WARNING)
    named: dict[int, list[Student]] = defaultdict(list)
    for report_id, student in session.execute(
        select(Signal.evidence_id, Student)
        .join(Student, Student.id == Signal.student_id)
        .where(Signal.evidence_type == "weekly_report", Signal.evidence_id.in_(ids), seen)
        .order_by(Student.name)
    ).all():
        if student not in named[report_id]:
            named[report_id].append(student)
    named_all: dict[int, int] = defaultdict(int)
    for report_id, students in session.execute(
        select(Signal.evidence_id, func.count(func.distinct(Signal.student_id)))
        .where(Signal.evidence_type == "weekly_report", Signal.evidence_id.in_(ids))
        .group_by(Signal.evidence_id)
    ).all():
        named_all[report_id] = students
    concerns: dict[int, list[ConcernReport]] = defaultdict(list)
    for concern in session.scalars(
        select(ConcernReport)
        .join(Student, Student.id == ConcernReport.student_id)
        .options(contains_eager(ConcernReport.student))
        .where(ConcernReport.weekly_report_id.in_(ids), seen)
        .order_by(ConcernReport.filed_at)
    ):
        assert concern.weekly_report_id is not None  # selected by it
        concerns[concern.weekly_report_id].append(concern)
    all_concerns: dict[int, int] = defaultdict(int)
    for report_id, filed in session.execute(
        select(ConcernReport.weekly_report_id, func.count())
        .where(ConcernReport.weekly_report_id.in_(ids))
        .group_by(ConcernReport.weekly_report_id)
    ).all():
        all_concerns[report_id] = filed
    owed = _owed(session, units, weeks)
    shown = []
    for week in weeks:
        rows = []
        for unit in units:
            report = by_unit.get((unit.kind, unit.id, week))
            if report is None:
                if (unit.kind, unit.id) not in owed[week]:
                    continue  # no reporter that week: nothing was owed
                state = WeekState.DUE if week >= current else WeekState.MISSING
                rows.append(UnitWeek(unit, state))
                continue
            mine = concerns.get(report.id, [])
            state = (
                WeekState.CONCERN
                if all_concerns[report.id]
                else WeekState.ZERO
                if report.zero_report
                else WeekState.FILED
            )
            rows.append(
                UnitWeek(
                    unit,
                    state,
                    report=report,
                    filed_by=filers.get(report.filed_by_id),
                    named=named.get(report.id, []),
                    named_elsewhere=named_all[report.id] - len(named.get(report.id, [])),
                    concerns=mine,
                    concerns_elsewhere=all_concerns[report.id] - len(mine),
                )
            )
        rows.sort(key=lambda r: STATE_ORDER.index(r.state))  # stable: by kind and name within
        shown.append(ReportWeek(week, week == current, rows))
    return shown


def first_week(session: Session, institution_id: int, current: date) -> date:
    """The Monday of the earliest week there is anything to read: the institution's first week
    live, or an earlier week a report was filed for (imported history), never after ``current``.
    The pages go back no further: before it every week is empty."""
    institution = session.get_one(Institution, institution_id)
    live = week_start(clock.local_date(institution.live_since, clock.institution_zone(institution)))
    filed = session.scalar(
        select(func.min(WeeklyReport.week_start)).where(
            WeeklyReport.institution_id == institution_id
        )
    )
    return min(live, filed or live, current)


def _owed(session: Session, units: list[ReportingUnit], weeks: list[date]) -> dict[date, set]:
    """(kind, id) of the units that owed each week's report (a reporter held the unit then)."""
    owed: dict[date, set] = {}
    for week in weeks:
        owed[week] = set()
        for institution_id in sorted({u.institution_id for u in units}):
            status = weekly_report_status(session, institution_id, week)
            owed[week] |= {("class", i) for i in status.classes_missing + status.classes_reported}
            owed[week] |= {("room", i) for i in status.rooms_missing + status.rooms_reported}
    return owed


def students_shown(session: Session, weeks: list[ReportWeek]) -> list[int]:
    """The students the page names, for its audit rows: whom notes named, whom concerns were
    about, and the reporters who filed."""
    ids: list[int] = []
    filers: set[int] = set()
    for week in weeks:
        for row in week.units:
            ids += [s.id for s in row.named] + [c.student_id for c in row.concerns]
            if row.report is not None:
                filers.add(row.report.filed_by_id)
    if filers:
        ids += session.scalars(select(Student.id).where(Student.user_id.in_(filers))).all()
    return ids
