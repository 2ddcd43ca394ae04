"""Reports from the class and dorm tiers: weekly reports (zero reports) and concern reports.

A class psychology committee member reports for their class, a dorm informant for their room. They
see their own roster and what they filed, never levels or signals. A concern report becomes a
signal (the policy makes suicidal talk, self-harm and crisis behaviour red at once). A weekly report
is about the unit; a reporter who is worried about someone names them in it, and each named student
gets a ``weekly_report`` signal in the same commit, so the note reaches the department on that
student's timeline instead of sitting unread. A zero report counts as the week's report; its
reporter may add a note to it later in the week, which makes it a note report.

The loop is closed for whoever filed a concern report: an inbox note at once that it was received,
and another when it has been followed up, which is when a staff member first acts on the warning
it fed after it was filed: acknowledges the warning, records a contact or an assessment, or
closes it. A peer's check-in is not a teacher's follow-up and does not count. Neither note (nor
the reporter's list) says who acted, how, the level or anything they found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import clock
from campus.extensions import set_once
from campus.i18n import N_
from campus.models import WITH_ENDED_ROLES
from campus.models import ClassGroup
from campus.models import DormRoom
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify_digest
from campus.notifications import notify_many
from campus.scope import Capability
from campus.scope import student_filter
from campus.submissions import stored_once
from warning import labels
from warning import response
from warning import services
from warning.models import DANGER_CONCERNS
from warning.models import ConcernCategory
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WeeklyReport
from warning.policy import Level
from warning.response_policy import active_response_policy

RECEIVED_TEXT = N_("The concern you reported has been received. Thank you for your care.")
FOLLOWED_UP_TEXT = N_("The concern you reported has been followed up by a teacher.")


class ReportError(ValueError):
    """A report that cannot be filed (already filed this week, empty note); the message says why."""


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week: the week a weekly report is for."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class ReportingUnit:
    """A class or a dorm room, the unit a weekly report is filed for: one its reporter files for
    (`units_of`), or one whose reports the department reads (`weekly_reading.units_in_reach`)."""

    kind: str  # "class" or "room"
    id: int
    institution_id: int
    label: str


def units_of(session: Session, user: User) -> list[ReportingUnit]:
    """The classes and rooms ``user`` reports for, from their role assignments."""
    units = []
    for a in user.assignments(Role.CLASS_COMMITTEE):
        group = session.get_one(ClassGroup, a.class_id)  # a class committee's scope is its class
        units.append(ReportingUnit("class", group.id, a.institution_id, group.name))
    for a in user.assignments(Role.DORM_INFORMANT):
        room = session.get_one(DormRoom, a.room_id)  # a dorm informant's scope is their room
        units.append(ReportingUnit("room", room.id, a.institution_id, room.label))
    return units


def unit_of(session: Session, user: User, kind: str, unit_id: int) -> ReportingUnit | None:
    """The unit if ``user`` reports for it; None for a forged or foreign id."""
    return next((u for u in units_of(session, user) if (u.kind, u.id) == (kind, unit_id)), None)


def _unit_clause(unit: ReportingUnit):
    return Student.class_id == unit.id if unit.kind == "class" else Student.room_id == unit.id


def _reports_of(unit: ReportingUnit):
    """SQL: the unit's weekly reports, keyed by its class or its room as `new_report` keys them."""
    column = WeeklyReport.class_id if unit.kind == "class" else WeeklyReport.room_id
    return column == unit.id


def roster(session: Session, user: User, unit: ReportingUnit) -> list[Student]:
    """The unit's students (names only are shown), through the viewer's roster scope."""
    return list(
        session.scalars(
            select(Student)
            .where(_unit_clause(unit), student_filter(user, Capability.ROSTER))
            .order_by(Student.name)
        )
    )


def roster_student(
    session: Session, user: User, unit: ReportingUnit, student_id: int
) -> Student | None:
    """One student of the unit, or None when the id is outside it (the view answers 404)."""
    return session.scalar(
        select(Student).where(
            Student.id == student_id,
            _unit_clause(unit),
            student_filter(user, Capability.ROSTER),
        )
    )


def file_weekly_report(
    session: Session,
    *,
    user: User,
    unit: ReportingUnit,
    week: date,
    zero_report: bool,
    note: str | None,
    now: datetime,
    students: Sequence[Student] = (),
) -> WeeklyReport:
    """File the unit's report for ``week`` (a Monday); once per unit and week. Commits.

    Each of ``students`` (already checked to be in the unit) becomes a weekly-report signal in the
    same commit; a double submit fails on the unique week and writes neither report nor signals.
    A note (naming someone or no one) is told to the unit's department counsellors
    (`tell_note`) in the same commit, so a refused second report tells no one again.
    """
    note = (note or "").strip() or None
    if not zero_report and note is None:
        raise ReportError(N_("Write what you noticed, or file a zero report if all is well."))
    if zero_report and students:
        raise ReportError(N_("A zero report names no one; describe what worries you instead."))
    existing = this_weeks_report(session, unit, week)
    if existing is not None:
        report = _add_note(
            session, existing, user=user, zero_report=zero_report, note=note, now=now
        )
    else:
        report = new_report(
            unit, week, user, now, zero_report=zero_report, note=None if zero_report else note
        )
        session.add(report)
        try:
            session.flush()
        except IntegrityError:
            # Filed in the meantime (a double submit, a concern report): say which it was.
            session.rollback()
            raced = this_weeks_report(session, unit, week)
            raise ReportError(_refusal(session, raced, zero_report=zero_report)) from None
    if report.note:
        tell_note(session, report, unit, now)
    for student in {s.id: s for s in students}.values():
        services.record_signal(
            session,
            student=student,
            source=SignalSource.WEEKLY_REPORT,
            observed_at=now,
            label=labels.weekly_report(unit.kind, week),
            evidence_type="weekly_report",
            evidence_id=report.id,
            recorded_by=user,
            now=now,
        )
    session.commit()
    return report


NOTE_DIGEST_TEXT = N_("A weekly report in your department has a note for you to read")
NOTE_ITEM_TEXT = {
    "class": N_("Class %(unit)s wrote a note in its weekly report for the week of %(week)s"),
    "room": N_("Dorm room %(unit)s wrote a note in its weekly report for the week of %(week)s"),
}


def note_readers(session: Session, unit: ReportingUnit) -> dict[int, list[int]]:
    """department id -> its active department counsellors, for every department with a student
    in the class or the room: a room is each of its students' departments', as the
    weekly-reports page reaches it (`weekly_reading.units_in_reach`) and as a missing report is
    escalated (`escalation.sweep_missing_reports`), so the link opens for each of them. An
    ended role is not among them."""
    departments = select(Student.department_id).where(
        _unit_clause(unit), Student.institution_id == unit.institution_id
    )
    readers: dict[int, list[int]] = {}
    for department_id, user_id in session.execute(
        select(RoleAssignment.department_id, RoleAssignment.user_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.role == Role.DEPT_COUNSELLOR,
            RoleAssignment.institution_id == unit.institution_id,
            RoleAssignment.department_id.in_(departments),
            User.active.is_(True),
        )
        .distinct()
        .order_by(RoleAssignment.department_id, RoleAssignment.user_id)
    ):
        readers.setdefault(department_id, []).append(user_id)
    return readers


def tell_note(session: Session, report: WeeklyReport, unit: ReportingUnit, now: datetime) -> None:
    """Tell the unit's department counsellors that its weekly report came with a note: one note
    a day per department, gathering that day's notes (a digest, as the day's missing reports
    are: `escalation.sweep_missing_reports`), each unit linked to its page of the report's week.
    A note is not a warning: not urgent, no signal, no task. Neither the note's words nor who
    filed it are in the notification: the counsellor reads them on the weekly-reports page,
    whose read is audited; mail says only that a report has a note, a channel only that
    something is new. In the caller's transaction."""
    institution = session.get_one(Institution, unit.institution_id)
    today = clock.local_date(now, clock.institution_zone(institution)).isoformat()
    week = report.week_start.isoformat()
    item: dict[str, object] = {
        "text": NOTE_ITEM_TEXT[unit.kind],
        "params": {"unit": unit.label, "week": week},
        "link": f"/warnings/weekly-reports/{unit.kind}/{unit.id}?week={week}",
    }
    for department_id, counsellors in note_readers(session, unit).items():
        notify_digest(
            session,
            counsellors,
            f"weekly_note:department:{department_id}:{today}",
            NOTE_DIGEST_TEXT,
            f"/warnings/weekly-reports?department={department_id}&week={week}",
            [item],
        )


CONCERN_COUNTS_TEXT = N_(
    "Your concern report counts as this week's report, so this week cannot also be marked "
    '"all is well". Nothing more is needed this week.'
)
ALREADY_FILED_TEXT = N_("This week's report for this unit has already been filed.")


def _refusal(session: Session, report: WeeklyReport | None, *, zero_report: bool) -> str:
    """Why a second weekly report for the week is refused: a week with a concern report is never
    "all is well", and the reporter is told so rather than only "already filed"."""
    if zero_report and report is not None and has_concern(session, report):
        return CONCERN_COUNTS_TEXT
    return ALREADY_FILED_TEXT


def has_concern(session: Session, report: WeeklyReport) -> bool:
    """Whether a concern report was filed through the unit in the report's week."""
    return (
        session.scalar(
            select(ConcernReport.id).where(ConcernReport.weekly_report_id == report.id).limit(1)
        )
        is not None
    )


def _add_note(
    session: Session,
    report: WeeklyReport,
    *,
    user: User,
    zero_report: bool,
    note: str | None,
    now: datetime,
) -> WeeklyReport:
    """The week's report is in already: an "all is well" or what a concern report made. It can
    still take the week's note from the one who filed it (a remark on a good week, or what
    worries them about the room or class as a whole); the note makes it a note report
    (`zero_report` false), so it reads as one everywhere, the department's page included. Any
    other second report is refused, a zero report with the reason when the week has a concern.
    The note is written by a conditional UPDATE, so a double submit writes it once."""
    if zero_report or report.filed_by_id != user.id or report.note:
        raise ReportError(_refusal(session, report, zero_report=zero_report))
    if not set_once(
        session, WeeklyReport.note, report.id, note=note, zero_report=False, added_to_at=now
    ):
        session.rollback()
        raise ReportError(ALREADY_FILED_TEXT)
    session.refresh(report)
    return report


def new_report(
    unit: ReportingUnit,
    week: date,
    user: User,
    now: datetime,
    *,
    zero_report: bool = False,
    note: str | None = None,
) -> WeeklyReport:
    """The unit's report row for ``week``: a class's report is keyed by its class, a room's by
    its room, so the unique week holds per unit. The report, a concern's week and the demo's
    past weeks make their rows here."""
    return WeeklyReport(
        institution_id=unit.institution_id,
        class_id=unit.id if unit.kind == "class" else None,
        room_id=unit.id if unit.kind == "room" else None,
        week_start=week,
        zero_report=zero_report,
        note=note,
        filed_by_id=user.id,
        filed_at=now,
    )


def _week_of_report(
    session: Session, unit: ReportingUnit, user: User, now: datetime
) -> WeeklyReport:
    """The unit's report for the week ``now`` falls in (the institution's calendar), made for a
    concern report when the week has none yet: the concern is that week's report. A zero report
    filed earlier stays as it was (the concern is linked to it, and the week reads as having a
    concern). Inside the caller's unit of work; a report made at the same moment by a double
    submit is found instead of failing the concern."""
    institution = session.get_one(Institution, unit.institution_id)
    week = week_start(clock.local_date(now, clock.institution_zone(institution)))
    found = this_weeks_report(session, unit, week)
    if found is not None:
        found.added_to_at = now
        return found
    report = new_report(unit, week, user, now)
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:
        found = this_weeks_report(session, unit, week)
        assert found is not None  # the unique week that refused it is this row
        found.added_to_at = now
        return found
    return report


def file_concern_report(
    session: Session,
    *,
    user: User,
    unit: ReportingUnit,
    student: Student,
    category: ConcernCategory | str,
    text: str,
    now: datetime,
    submission: str | None = None,
) -> ConcernReport:
    """File a concern about a student of the unit; it becomes a signal in the same commit.

    `submission` is the form's one-time token: the same form sent again (a double tap, a resend)
    returns the report it filed and writes nothing, because two reports within 30 days raise the
    student to yellow and one tap must not count twice."""
    text = (text or "").strip()
    category = ConcernCategory(category)
    if not text and category not in DANGER_CONCERNS:
        # Someone in danger now is reported without words rather than a minute later.
        raise ReportError(N_("Describe what you noticed."))

    def file() -> ConcernReport:
        report = ConcernReport(
            institution_id=student.institution_id,
            student_id=student.id,
            category=category,
            text=text[:2000],
            filed_by_id=user.id,
            filed_at=now,
            via=unit.kind,
            submission=submission,
            weekly_report_id=_week_of_report(session, unit, user, now).id,
        )
        session.add(report)
        session.flush()
        services.record_signal(
            session,
            student=student,
            source=SignalSource.CONCERN_REPORT,
            observed_at=now,
            label=labels.concern_report(unit.kind, category.value, now),
            flags=[f"concern:{category.value}"],
            evidence_type="concern_report",
            evidence_id=report.id,
            recorded_by=user,
            now=now,
        )
        notify_many(session, [([user.id], RECEIVED_TEXT, unit_link(unit.kind, unit.id))])
        return report

    mine = ConcernReport.filed_by_id == user.id
    return stored_once(session, ConcernReport, submission, mine, file).record


def graded_red(session: Session, report: ConcernReport) -> bool:
    """Whether the policy graded ``report``'s own signal red when it was filed. That grade is the
    category the reporter chose read through the triage policy (suicidal talk, self-harm and
    crisis behaviour by default), never the student's level, so telling the reporter what to do
    now reveals nothing they did not say themself."""
    return (
        session.scalar(
            select(Signal.id).where(
                Signal.evidence_type == "concern_report",
                Signal.evidence_id == report.id,
                Signal.implied_level == int(Level.RED),
            )
        )
        is not None
    )


@dataclass(frozen=True)
class UrgentReceipt:
    """What the reporter of a concern graded red is told right after filing it."""

    student_name: str
    centre_told: bool  # the red response tells the centre; `services` tells it of red evidence


def urgent_receipt(
    session: Session, user: User, unit: ReportingUnit, report_id: int
) -> UrgentReceipt | None:
    """The receipt of ``user``'s report ``report_id`` filed through ``unit`` when it was graded
    red; None for a report of another reporter or unit, or one graded lower (its receipt is the
    ordinary one). A red signal reaches the centre in its own commit: a new or raised red warning
    tells the tiers of the institution's red response, evidence on a warning already red tells
    the centre (`response.notify_red_evidence`)."""
    report = session.scalar(
        select(ConcernReport)
        .join(Student, Student.id == ConcernReport.student_id)
        .where(
            ConcernReport.id == report_id,
            ConcernReport.filed_by_id == user.id,
            ConcernReport.via == unit.kind,
            _unit_clause(unit),
            student_filter(user, Capability.ROSTER),
        )
    )
    if report is None or not graded_red(session, report):
        return None
    red = active_response_policy(session, report.institution_id).for_level(Level.RED)
    return UrgentReceipt(
        student_name=report.student.name,
        centre_told=OwnerTier.SCHOOL in response.told_tiers(red),
    )


def unit_link(kind: str, unit_id: int) -> str:
    """The reporter's page of the unit, where their reports and their state are listed."""
    return f"/warnings/units/{kind}/{unit_id}"


def mark_followed_up(session: Session, warning: EarlyWarning, now: datetime) -> None:
    """A staff member acted on `warning`: the concern reports that fed it and were filed before
    now become followed up, and each reporter is told once per unit, without any detail. Part of
    the caller's unit of work; commits nothing."""
    fed = select(Signal.evidence_id).where(
        Signal.warning_id == warning.id, Signal.evidence_type == "concern_report"
    )
    reports = session.scalars(
        select(ConcernReport).where(
            ConcernReport.id.in_(fed),
            ConcernReport.followed_up_at.is_(None),
            ConcernReport.filed_at <= now,
        )
    ).all()
    units: set[tuple[int, str]] = set()
    for report in reports:
        report.followed_up_at = now
        student = report.student
        unit_id = student.class_id if report.via == "class" else student.room_id
        if unit_id is not None:
            units.add((report.filed_by_id, unit_link(report.via, unit_id)))
    notify_many(session, [([reporter], FOLLOWED_UP_TEXT, link) for reporter, link in sorted(units)])


def filed_by(session: Session, user: User, unit: ReportingUnit) -> dict[str, Any]:
    """What ``user`` filed for the unit: weekly reports and concern reports, newest first, and
    the ids of the weekly reports with a concern report in their week."""
    weekly = session.scalars(
        select(WeeklyReport)
        .where(WeeklyReport.filed_by_id == user.id, _reports_of(unit))
        .order_by(WeeklyReport.week_start.desc())
        .limit(20)
    ).all()
    concerns = session.scalars(
        select(ConcernReport)
        .join(Student, Student.id == ConcernReport.student_id)
        .where(
            ConcernReport.filed_by_id == user.id,
            ConcernReport.via == unit.kind,
            _unit_clause(unit),
            student_filter(user, Capability.ROSTER),
        )
        .order_by(ConcernReport.filed_at.desc())
        .limit(50)
    ).all()
    with_concern = set(
        session.scalars(
            select(ConcernReport.weekly_report_id).where(
                ConcernReport.weekly_report_id.in_([w.id for w in weekly])
            )
        )
    )
    return {"weekly": list(weekly), "concerns": list(concerns), "with_concern": with_concern}


def this_weeks_report(session: Session, unit: ReportingUnit, week: date) -> WeeklyReport | None:
    return session.scalar(
        select(WeeklyReport).where(_reports_of(unit), WeeklyReport.week_start == week)
    )


@dataclass(frozen=True)
class WeeklyReportStatus:
    """Which reporting units of an institution have and have not reported for a week (ids)."""

    week: date
    classes_reported: list[int]
    classes_missing: list[int]
    rooms_reported: list[int]
    rooms_missing: list[int]


def weekly_report_status(session: Session, institution_id: int, week: date) -> WeeklyReportStatus:
    """Reported and missing units for ``week`` (any day of it).

    A unit is expected to report only when someone holds its reporting role (a class committee
    member, a dorm informant): a room without an informant cannot report, so it is not "missing".
    Nor is a unit whose reporter was appointed after the week's Monday, or whose reporter's role
    ended before the week was out (the week after their last one owes nothing: the unit has no
    reporter), or any unit for a week whose Monday came before the institution went live: no one
    could have reported then.
    """
    week = week_start(week)
    reported = session.execute(
        select(WeeklyReport.class_id, WeeklyReport.room_id).where(
            WeeklyReport.institution_id == institution_id, WeeklyReport.week_start == week
        )
    ).all()
    classes_done = {c for c, _ in reported if c is not None}
    rooms_done = {r for _, r in reported if r is not None}
    institution = session.get_one(Institution, institution_id)
    cutoff = _reporting_cutoff(institution, week)
    if cutoff is None:
        classes, rooms = set(), set()
    else:
        zone = clock.institution_zone(institution)
        week_end = clock.to_utc(datetime.combine(week + timedelta(days=7), time(0)), zone)
        classes = _expected(session, institution_id, cutoff, week_end, Role.CLASS_COMMITTEE)
        rooms = _expected(session, institution_id, cutoff, week_end, Role.DORM_INFORMANT)
    return WeeklyReportStatus(
        week=week,
        classes_reported=sorted(classes_done),
        classes_missing=sorted(classes - classes_done),
        rooms_reported=sorted(rooms_done),
        rooms_missing=sorted(rooms - rooms_done),
    )


def _reporting_cutoff(institution: Institution, week: date) -> datetime | None:
    """The end of ``week``'s Monday (institution time, as naive UTC): a reporter appointed before
    it owes that week's report. None when the institution went live after it: nothing is owed."""
    zone = clock.institution_zone(institution)
    cutoff = clock.to_utc(datetime.combine(week + timedelta(days=1), time(0)), zone)
    return cutoff if institution.live_since < cutoff else None


def _expected(
    session: Session,
    institution_id: int,
    appointed_before: datetime,
    week_end: datetime,
    role: Role,
) -> set[int]:
    """The classes (or rooms) with a holder of ``role`` appointed before ``appointed_before``
    whose role still worked at ``week_end``. A past week is judged by who held the role then, so
    ended assignments are read too."""
    column = RoleAssignment.class_id if role == Role.CLASS_COMMITTEE else RoleAssignment.room_id
    return set(
        session.scalars(
            select(column)
            .where(
                RoleAssignment.institution_id == institution_id,
                RoleAssignment.role == role,
                RoleAssignment.since < appointed_before,
                or_(RoleAssignment.ends_at.is_(None), RoleAssignment.ends_at >= week_end),
                column.is_not(None),
            )
            .execution_options(**{WITH_ENDED_ROLES: True})
        )
    )
