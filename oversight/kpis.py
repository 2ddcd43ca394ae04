"""The oversight KPIs: what each figure counts, and its computation as SQL aggregates + pandas.

Every KPI is a function `(session, view, now) -> pandas.DataFrame` with one row per group of the
view (institution, department or month, `View.by`) and the figure's numerator, denominator and
rate. Counting happens in the database (GROUP BY); pandas only joins the counts to the full list of
groups, so an empty month or a department with nothing in it is a row whose rate is NaN ("—"),
never a missing row and never 0 %. No KPI loops over rows in Python.

Each frame carries a `students` column: how many students the group's figure is about. The
province view suppresses a group when it is below the small-group threshold.

The written definitions shown on the page live in `KPIS`, next to the code they describe; a
number in one that is a setting is a placeholder `oversight.definitions` fills with the setting in
force, so the text never states a number the computation does not use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import ColumnElement
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import union_all
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session
from sqlalchemy.orm import join

from campus import staffing
from campus.i18n import N_
from campus.i18n import name_column
from campus.models import WITH_ENDED_ROLES
from campus.models import ClassGroup
from campus.models import Department
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import StaffingEntry
from campus.models import Student
from campus.staffing import MINIMUM_TEACHERS
from campus.staffing import STUDENTS_PER_TEACHER
from casework import family_contacts
from casework.models import FamilyContact
from casework.models import InterviewEntry
from casework.models import InterviewState
from referrals.metrics import JUST_AFTER
from referrals.models import Referral
from referrals.services import ReferralSettings
from referrals.services import stalled_clause
from referrals.states import CLOSED_LOOP
from referrals.states import TERMINAL
from screening.models import Campaign
from screening.models import CampaignAssignment
from warning.escalation import REPORT_GRACE
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import WeeklyReport
from warning.policy import Level
from warning.response_policy import default_response_policy
from warning.response_policy import response_policies

BY = ("institution", "department", "month")
LEVELS = (Level.RED, Level.YELLOW, Level.BLUE)
LEVEL_NAMES = {level: level.code for level in LEVELS}
ON_ROLL = (EnrolmentStatus.ENROLLED, EnrolmentStatus.ON_LEAVE)


@dataclass(frozen=True)
class View:
    """Which groups a dashboard shows: institutions, an optional department, a month range.

    Months are the institution's calendar months: `utc_offset` is its zone's offset from UTC
    (Chinese universities keep one offset all year, +8 hours), so a warning opened at 00:30 on
    1 March in Shanghai counts in March although it is still February in UTC."""

    institution_ids: tuple[int, ...]
    first_month: date  # first day of the first month shown
    last_month: date  # first day of the last month shown (included)
    by: str = "department"
    department_id: int | None = None
    utc_offset: timedelta = timedelta(0)

    @property
    def start(self) -> datetime:
        """Local midnight of the first day, as the naive UTC instant the database stores."""
        return datetime.combine(self.first_month, datetime.min.time()) - self.utc_offset

    @property
    def end(self) -> datetime:
        """The first instant after the last month (naive UTC)."""
        return datetime.combine(_next_month(self.last_month), datetime.min.time()) - self.utc_offset

    @property
    def last_day(self) -> date:
        """The last calendar day of the last month (local)."""
        return _next_month(self.last_month) - timedelta(days=1)

    @property
    def months(self) -> list[str]:
        months, month = [], self.first_month
        while month <= self.last_month:
            months.append(month.strftime("%Y-%m"))
            month = _next_month(month)
        return months

    def grouped(self, by: str) -> View:
        return replace(self, by=by)

    def months_of(self, first: date, last: date) -> View:
        """The same view over other months."""
        return replace(self, first_month=first, last_month=last)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def offset_of(zone: ZoneInfo, today: date) -> timedelta:
    """The zone's offset from UTC on `today`, for `View.utc_offset`."""
    return zone.utcoffset(datetime.combine(today, datetime.min.time())) or timedelta(0)


def default_period(today: date, months: int = 6) -> tuple[date, date]:
    """The months a dashboard shows unless asked otherwise: the last `months`, this one included."""
    last = date(today.year, today.month, 1)
    first = last
    for _step in range(months - 1):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return first, last


def month_of(text: str) -> date:
    """'2026-09' -> 2026-09-01; ValueError for anything else."""
    parsed = datetime.strptime(text, "%Y-%m")
    return date(parsed.year, parsed.month, 1)


# --- groups --------------------------------------------------------------------------------------


def _month(session: Session, column, offset: timedelta) -> ColumnElement[str]:
    """'YYYY-MM' of a naive UTC timestamp column on the local calendar (`offset` from UTC), in
    the database's own dialect."""
    minutes = int(offset.total_seconds() // 60)
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column + func.make_interval(0, 0, 0, 0, 0, minutes), "YYYY-MM")
    return func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


@dataclass(frozen=True)
class Grouping:
    """The columns that place a KPI's rows: institution, department, and the moment that puts a
    row in a month (and in the period)."""

    institution: Any
    department: Any
    when: Any


WARNINGS_OPENED = Grouping(
    EarlyWarning.institution_id, EarlyWarning.department_id, EarlyWarning.opened_at
)
CAMPAIGNS_OPENED = Grouping(Campaign.institution_id, Student.department_id, Campaign.opens_at)


def _group_keys(session: Session, view: View, grouping: Grouping) -> list:
    keys = [grouping.institution.label("institution_id")]
    if view.by == "department":
        keys.append(grouping.department.label("department_id"))
    elif view.by == "month":
        keys.append(_month(session, grouping.when, view.utc_offset).label("month"))
    return keys


def in_view(view: View, grouping: Grouping, until: datetime | None = None) -> ColumnElement[bool]:
    """Rows of the view's institutions (and department) whose moment falls in the period, and
    before `until` when that comes first."""
    end = view.end if until is None else min(view.end, until)
    return and_(
        grouping.institution.in_(view.institution_ids),
        grouping.when >= view.start,
        grouping.when < end,
        _department_clause(view, grouping.department),
    )


def _key_names(view: View) -> list[str]:
    return {
        "institution": ["institution_id"],
        "department": ["institution_id", "department_id"],
        "month": ["institution_id", "month"],
    }[view.by]


def groups(session: Session, view: View) -> pd.DataFrame:
    """Every group of the view, with its display names, whether or not it has any data."""
    institutions = pd.DataFrame(
        session.execute(
            select(
                Institution.id.label("institution_id"),
                name_column(Institution).label("institution"),
            )
            .where(Institution.id.in_(view.institution_ids))
            .order_by(Institution.name)
        ).all(),
        columns=["institution_id", "institution"],
    )
    if view.by == "department":
        stmt = select(
            Department.institution_id, Department.id.label("department_id"), Department.name
        ).where(Department.institution_id.in_(view.institution_ids))
        if view.department_id is not None:
            stmt = stmt.where(Department.id == view.department_id)
        departments = pd.DataFrame(
            session.execute(stmt.order_by(Department.name)).all(),
            columns=["institution_id", "department_id", "department"],
        )
        return institutions.merge(departments, on="institution_id")
    if view.by == "month":
        months = pd.DataFrame({"month": view.months})
        return institutions.merge(months, how="cross")
    return institutions


def _aggregate(
    session: Session, keys: list, columns: list, *where: Any, source: Any = None
) -> pd.DataFrame:
    """The GROUP BY skeleton every KPI shares: `columns` aggregated per group key, in the database,
    over the rows of `source` (a table or join) that meet `where`."""
    stmt = select(*keys, *columns)
    if source is not None:
        stmt = stmt.select_from(source)
    stmt = stmt.where(*where).group_by(*keys)
    return pd.DataFrame(session.execute(stmt).all(), columns=list(stmt.selected_columns.keys()))


def _onto_groups(
    session: Session, view: View, found: pd.DataFrame, counts: list[str], on: list[str]
) -> pd.DataFrame:
    """Join counts onto every group of the view: a group with no rows counts 0, not missing."""
    out = groups(session, view).merge(found, on=on, how="left")
    out[counts] = out[counts].astype(float).fillna(0).astype(int)
    return out


def _count_by_group(
    session: Session,
    view: View,
    grouping: Grouping,
    columns: list,
    *where: Any,
    source: Any = None,
) -> pd.DataFrame:
    """Count `columns` per group over the rows placed in the view by `grouping` (and `where`)."""
    keys = _group_keys(session, view, grouping)
    found = _aggregate(session, keys, columns, in_view(view, grouping), *where, source=source)
    return _onto_groups(session, view, found, [c.name for c in columns], _key_names(view))


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator ÷ denominator, NaN where the denominator is 0: shown as "—", never as 0 %."""
    return (numerator / denominator.where(denominator > 0)).astype(float)


def _department_clause(view: View, column) -> ColumnElement[bool]:
    return column == view.department_id if view.department_id is not None else true()


# --- enrolment (the denominator of several KPIs) --------------------------------------------------


def enrolment(session: Session, view: View) -> pd.DataFrame:
    """Students on the roll (enrolled or on leave) per group; a month group counts today's roll."""
    keys = [Student.institution_id.label("institution_id")]
    if view.by == "department":
        keys.append(Student.department_id.label("department_id"))
    found = _aggregate(
        session,
        keys,
        [func.count(Student.id).label("enrolled")],
        Student.institution_id.in_(view.institution_ids),
        Student.enrolment_status.in_(ON_ROLL),
        _department_clause(view, Student.department_id),
    )
    return _onto_groups(session, view, found, ["enrolled"], [k.name for k in keys])


# --- screening coverage ---------------------------------------------------------------------------


def screening_coverage(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Screened ÷ enrolled in the cohorts of campaigns that opened in the period."""
    completed = case((CampaignAssignment.completed_at.is_not(None), CampaignAssignment.student_id))
    out = _count_by_group(
        session,
        view,
        CAMPAIGNS_OPENED,
        [
            func.count(distinct(CampaignAssignment.student_id)).label("cohort"),
            func.count(distinct(completed)).label("screened"),
        ],
        source=join(
            CampaignAssignment, Campaign, Campaign.id == CampaignAssignment.campaign_id
        ).join(Student, Student.id == CampaignAssignment.student_id),
    )
    out["not_screened"] = out["cohort"] - out["screened"]
    out["coverage"] = ratio(out["screened"], out["cohort"])
    out["students"] = out["cohort"]
    return out


# --- post-screening interviews --------------------------------------------------------------------

INTERVIEWS_LISTED = Grouping(
    Campaign.institution_id, InterviewEntry.department_id, Campaign.opens_at
)


def interview_coverage(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Students interviewed (on time) ÷ students on the interview lists of campaigns that
    opened in the period."""
    done = InterviewEntry.state == InterviewState.DONE
    on_time = and_(done, InterviewEntry.held_at <= InterviewEntry.due_at)
    out = _count_by_group(
        session,
        view,
        INTERVIEWS_LISTED,
        [
            func.count(InterviewEntry.id).label("to_interview"),
            func.count(case((done, InterviewEntry.id))).label("interviewed"),
            func.count(case((on_time, InterviewEntry.id))).label("on_time"),
            func.count(case((InterviewEntry.no_shows > 0, InterviewEntry.id))).label("no_shows"),
        ],
        source=join(InterviewEntry, Campaign, Campaign.id == InterviewEntry.campaign_id),
    )
    out["coverage"] = ratio(out["interviewed"], out["to_interview"])
    out["on_time_rate"] = ratio(out["on_time"], out["to_interview"])
    out["students"] = out["to_interview"]
    return out


# --- service coverage -----------------------------------------------------------------------------


# A warning whose student has been reached: the one rule the KPI, its drill-down and the
# warning's "last contact" share. `last_contact_at` is written by what reached the student herself
# (a contact that reached her, a professional assessment, a post-screening interview held with
# her: `warning.actions`), never by a call to her guardian or an unanswered attempt.
CONTACTED = EarlyWarning.last_contact_at.is_not(None)


def service_coverage(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Warned students who have been seen (`CONTACTED`) ÷ students with a warning opened."""
    out = _count_by_group(
        session,
        view,
        WARNINGS_OPENED,
        [
            func.count(distinct(EarlyWarning.student_id)).label("warned"),
            func.count(distinct(case((CONTACTED, EarlyWarning.student_id)))).label("contacted"),
        ],
    )
    out["not_contacted"] = out["warned"] - out["contacted"]
    out["coverage"] = ratio(out["contacted"], out["warned"])
    out["students"] = out["warned"]
    return out


# --- family contact for key students ------------------------------------------------------------


def family_contact(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Key students (a red or yellow warning opened in the period) whose family was reached
    since the warning opened ÷ key students: whether each warning's family was ever reached.
    Only a contact that reached the family counts, as the log now stands
    (`casework.family_contacts.as_it_stands`): an unanswered call or a guardian who would not
    talk is an attempt, not a contact, and an entry corrected since counts as its correction
    says. The home page's figure (`casework.family_contacts.key_students_contacted`) counts the
    same contacts over the month's round instead: open warnings, this calendar month only."""
    contacted = (
        select(FamilyContact.id)
        .where(
            FamilyContact.student_id == EarlyWarning.student_id,
            FamilyContact.at >= EarlyWarning.opened_at,
            *family_contacts.as_it_stands(reached=True),
        )
        .exists()
    )
    out = _count_by_group(
        session,
        view,
        WARNINGS_OPENED,
        [
            func.count(distinct(EarlyWarning.student_id)).label("key_students"),
            func.count(distinct(case((contacted, EarlyWarning.student_id)))).label(
                "family_contacted"
            ),
        ],
        EarlyWarning.level >= Level.YELLOW,
    )
    out["family_not_contacted"] = out["key_students"] - out["family_contacted"]
    out["coverage"] = ratio(out["family_contacted"], out["key_students"])
    out["students"] = out["key_students"]
    return out


# --- full-time mental-health teachers per student -------------------------------------------------


def teacher_ratio(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Full-time mental-health teachers in post on the period's last day (today, if that is
    sooner) from the staffing register, against 1 : 4000 and at least two per school.

    Per institution only: staffing is a school's, not a department's or a month's, figure. A
    headcount on one day, because the requirement is about the teachers a school has: one whose
    post ended mid-period no longer counts; part-time teachers and department counsellors never do.
    """
    per_institution = view.grouped("institution")
    as_of = min(view.last_day, (now + view.utc_offset).date())
    found = _aggregate(
        session,
        [StaffingEntry.institution_id.label("institution_id")],
        [func.count(StaffingEntry.id).label("teachers")],
        StaffingEntry.institution_id.in_(view.institution_ids),
        staffing.full_time_on(as_of),
    )
    out = _onto_groups(session, per_institution, found, ["teachers"], ["institution_id"])
    out["enrolled"] = enrolment(session, per_institution)["enrolled"]
    out["needed"] = compliant_minimum(out["enrolled"])
    out["students_per_teacher"] = ratio(out["enrolled"], out["teachers"])
    out["ratio_met"] = out["teachers"] * STUDENTS_PER_TEACHER >= out["enrolled"]
    out["two_met"] = out["teachers"] >= MINIMUM_TEACHERS
    out["compliant"] = out["ratio_met"] & out["two_met"]
    out["students"] = out["enrolled"]
    return out


def compliant_minimum(enrolled: pd.Series) -> pd.Series:
    """Full-time teachers a school needs: one per `STUDENTS_PER_TEACHER` students (rounded up),
    at least `MINIMUM_TEACHERS`."""
    per_ratio = enrolled.map(lambda n: math.ceil(n / STUDENTS_PER_TEACHER))
    return per_ratio.clip(lower=MINIMUM_TEACHERS).astype(int)


# --- crisis incidents -----------------------------------------------------------------------------


def crisis_rate(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Red warnings opened in the period per 10,000 students on the roll."""
    out = _count_by_group(
        session,
        view,
        WARNINGS_OPENED,
        [func.count(EarlyWarning.id).label("incidents")],
        EarlyWarning.level == Level.RED,
    )
    out = out.merge(_roll(session, view), on=_enrolment_keys(view), how="left")
    out["per_10000"] = ratio(out["incidents"] * 10_000, out["enrolled"])
    out["students"] = out["enrolled"]
    return out


def _enrolment_keys(view: View) -> list[str]:
    return ["institution_id", "department_id"] if view.by == "department" else ["institution_id"]


def _roll(session: Session, view: View) -> pd.DataFrame:
    """Students on the roll keyed by institution (and department): one row per key."""
    keyed = view if view.by == "department" else view.grouped("institution")
    return enrolment(session, keyed)[[*_enrolment_keys(view), "enrolled"]]


# --- warnings by level ----------------------------------------------------------------------------


def warnings_by_level(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Warnings opened in the period, by their (effective) level."""
    counts = [
        func.count(case((EarlyWarning.level == level, EarlyWarning.id))).label(LEVEL_NAMES[level])
        for level in LEVELS
    ]
    students = func.count(distinct(EarlyWarning.student_id)).label("students")
    out = _count_by_group(session, view, WARNINGS_OPENED, [*counts, students])
    out["total"] = out[list(LEVEL_NAMES.values())].sum(axis=1)
    return out


# --- response-deadline compliance -----------------------------------------------------------------


def _levels_of_kinds(levels: dict[str, Level]) -> ColumnElement[int] | InstrumentedAttribute[int]:
    """Each first-response kind at the level `levels` gives it; anything else (follow-ups, a kind
    that policy does not owe) at the warning's level."""
    if not levels:
        return EarlyWarning.level
    return case(
        *[(Deadline.kind == kind, int(level)) for kind, level in levels.items()],
        else_=EarlyWarning.level,
    )


def _deadline_level(
    session: Session, institution_ids: tuple[int, ...]
) -> ColumnElement[int] | InstrumentedAttribute[int]:
    """The level a deadline belongs to: its kind's level under the response policy that set it
    (the version it records, else its institution's policy in force: `ResponsePolicies`), so a
    red acknowledgement stays a red deadline after a downgrade and a campus whose own policy
    owes other deadlines at other levels is counted by its own; follow-ups take the warning's
    level.

    Deadlines set by a policy that places kinds as the shipped default does fall to the last
    branch; each other placement in use gets one branch, naming the institutions and versions
    that use it, so the expression grows with the campuses that differ, not with all of them."""
    default = default_response_policy().first_response_levels()
    placements: dict[tuple[tuple[str, Level], ...], list[ColumnElement[bool]]] = {}
    institution = EarlyWarning.institution_id
    version = Deadline.response_policy_version
    for institution_id, policies in response_policies(session, set(institution_ids)).items():
        for name, policy in policies.by_version.items():
            levels = policy.first_response_levels()
            if levels != default:
                placements.setdefault(tuple(levels.items()), []).append(
                    and_(institution == institution_id, version == name)
                )
        levels = policies.active.first_response_levels()
        if levels != default:  # deadlines naming no version of the institution's
            known = [*policies.by_version, *policies.default_versions()]
            placements.setdefault(tuple(levels.items()), []).append(
                and_(institution == institution_id, or_(version.is_(None), version.not_in(known)))
            )
    if not placements:
        return _levels_of_kinds(default)
    return case(
        *[(or_(*where), _levels_of_kinds(dict(levels))) for levels, where in placements.items()],
        else_=_levels_of_kinds(default),
    )


def deadline_compliance(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Deadlines met on time ÷ deadlines that fell due in the period (and before now), per level.

    A superseded deadline (the level changed or the warning closed first) was never owed and is
    left out; one met late or escalated counts as missed.
    """
    level = _deadline_level(session, view.institution_ids).label("level")
    grouping = Grouping(EarlyWarning.institution_id, EarlyWarning.department_id, Deadline.due_at)
    on_time = and_(Deadline.met_at.is_not(None), Deadline.met_at <= Deadline.due_at)
    found = _aggregate(
        session,
        [*_group_keys(session, view, grouping), level],
        [
            func.count(Deadline.id).label("due"),
            func.count(case((on_time, Deadline.id))).label("met"),
            func.count(distinct(EarlyWarning.student_id)).label("students"),
        ],
        in_view(view, grouping, until=now),
        Deadline.superseded_at.is_(None),
        source=join(Deadline, EarlyWarning, EarlyWarning.id == Deadline.warning_id),
    )
    frame = groups(session, view).merge(pd.DataFrame({"level": list(LEVELS)}), how="cross")
    out = frame.merge(found, on=[*_key_names(view), "level"], how="left")
    out[["due", "met", "students"]] = (
        out[["due", "met", "students"]].astype(float).fillna(0).astype(int)
    )
    out["level_name"] = out["level"].map(LEVEL_NAMES)
    out["compliance"] = ratio(out["met"], out["due"])
    return out


# --- referrals ------------------------------------------------------------------------------------

CLOSED, LOST, OVERDUE = 1, 2, 3  # why a referral is placed in a group: `_placed_referrals`


def referral_closure(
    session: Session, view: View, now: datetime, settings: ReferralSettings
) -> pd.DataFrame:
    """The closure audit per group, with the definitions of `referrals.metrics`, in SQL.

    The referral stage computes the same figures with pandas over one row per referral; at a
    million referrals that is too slow for a page, so the counts are GROUP BY aggregates here and
    the median / 90th percentile are `percentile_cont` (PostgreSQL) — both interpolate linearly
    between the nearest ranks, as pandas does. `test_referral_closure_matches_the_referral_stage`
    holds the two to the same numbers. No identities are selected.

    A referral is placed in a group by what it did there: ended in the period (closed, or lost to
    follow-up), or overdue at the audit's moment (the period's end, or now while it runs). By
    month, each month is such an audit, so a referral overdue through three months is in each.
    """
    placed = _placed_referrals(session, view, now, settings)
    keys = [placed.c.institution_id.label("institution_id")]
    if view.by == "department":
        keys.append(placed.c.department_id.label("department_id"))
    elif view.by == "month":
        keys.append(placed.c.month.label("month"))
    # Each placed row counted by its student (never NULL), so the index alone serves the count.
    student = placed.c.student_id
    counts = [
        func.count(case((placed.c.kind == CLOSED, student))).label("closed"),
        func.count(case((and_(placed.c.kind == CLOSED, placed.c.late == 1), student))).label(
            "closed_late"
        ),
        func.count(case((placed.c.kind == LOST, student))).label("lost"),
        func.count(case((placed.c.kind == OVERDUE, student))).label("overdue"),
        func.count(distinct(student)).label("students"),
    ]
    found = _aggregate(session, keys, counts, source=placed)
    found = found.merge(_closure_days(session, view, placed, keys), on=_key_names(view), how="left")
    found = found.merge(
        _stalled_now(session, view, now, settings), on=_key_names(view), how="outer"
    )
    out = groups(session, view).merge(found, on=_key_names(view), how="left")
    counts_shown = ["closed", "closed_late", "lost", "overdue", "students", "stalled"]
    out[counts_shown] = out[counts_shown].astype(float).fillna(0).astype(int)
    out["due"] = out["closed"] + out["lost"] + out["overdue"]
    out["closure_rate"] = ratio(out["closed"], out["due"])
    # PostgreSQL's percentiles are Decimal, or None over no closed referral: NaN ("—") as pandas'.
    days = ["median_days", "p90_days"]
    out[days] = out[days].astype(float)
    return out


def _placed_referrals(session: Session, view: View, now: datetime, settings: ReferralSettings):
    """One row per referral and group it counts in (UNION ALL): those that ended in the period
    (closed or lost, placed by when they ended) and those overdue at each audit's moment."""
    ended = _ended_rows(session, view, settings)
    moments = _audit_moments(view, now, settings)
    if not moments:
        return ended.subquery("placed")
    return union_all(ended, _overdue_rows(view, moments)).subquery("placed")


def _ended_rows(session: Session, view: View, settings: ReferralSettings):
    """Sent referrals that ended in the period: closed (closed loop) or lost, late or not."""
    when = Grouping(Referral.institution_id, Referral.department_id, Referral.ended_at)
    month = (
        _month(session, Referral.ended_at, view.utc_offset)
        if view.by == "month"
        else cast(null(), String)
    )
    expected_day = _local_day(
        session, Referral.sent_at, view.utc_offset, settings.expected_closure_days
    )
    late = _local_day(session, Referral.ended_at, view.utc_offset) > expected_day
    return select(
        Referral.institution_id,
        Referral.department_id,
        month.label("month"),
        Referral.student_id,
        case((Referral.status.in_(CLOSED_LOOP), CLOSED), else_=LOST).label("kind"),
        case((late, 1), else_=0).label("late"),
        _days_to_closure(session).label("days"),
    ).where(in_view(view, when), Referral.sent_at.is_not(None), Referral.status.in_(TERMINAL))


def _overdue_rows(view: View, moments: list[tuple[str, datetime, datetime]]):
    """Sent referrals overdue at each audit's moment: sent before its `sent_before` and not
    ended by its `as_of`, one row per audit they are overdue in."""
    audits = union_all(
        *[
            select(
                cast(literal(key), String).label("month"),
                literal(as_of, DateTime).label("as_of"),
                literal(sent_before, DateTime).label("sent_before"),
            )
            for key, as_of, sent_before in moments
        ]
    ).subquery("audits")
    candidates = _open_at(view, moments[0][1])
    return (
        select(
            candidates.c.institution_id,
            candidates.c.department_id,
            audits.c.month if view.by == "month" else cast(null(), String),
            candidates.c.student_id,
            literal(OVERDUE),
            literal(0),
            null(),
        )
        .select_from(candidates)
        .join(audits, true())
        .where(
            candidates.c.sent_at < audits.c.sent_before,
            or_(candidates.c.ended_at.is_(None), candidates.c.ended_at >= audits.c.as_of),
        )
    )


def _open_at(view: View, moment: datetime):
    """The view's sent referrals not ended at `moment` (the earliest audit's), read once: two
    ranges of the closure index (not ended, ended since), which each audit then narrows."""
    columns = (
        Referral.institution_id,
        Referral.department_id,
        Referral.student_id,
        Referral.sent_at,
        Referral.ended_at,
    )
    scope = (
        Referral.institution_id.in_(view.institution_ids),
        _department_clause(view, Referral.department_id),
        Referral.sent_at.is_not(None),
    )
    return (
        union_all(
            select(*columns).where(*scope, Referral.ended_at.is_(None)),
            select(*columns).where(*scope, Referral.ended_at >= moment),
        )
        .cte("open_then")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )


def _audit_moments(
    view: View, now: datetime, settings: ReferralSettings
) -> list[tuple[str, datetime, datetime]]:
    """The moments the view's audits are read at, earliest first, one per audit (per month, by
    month; its key "YYYY-MM", else ""): `as_of` the period's end, or now while it runs, and
    `sent_before` the first send time whose expected closure day is not yet over then (naive
    UTC). A period that has not begun has none."""
    offset, days = view.utc_offset, timedelta(days=settings.expected_closure_days)
    if view.by == "month":
        periods = [(key, view.months_of(month_of(key), month_of(key))) for key in view.months]
    else:
        periods = [("", view)]
    moments = []
    for key, period in periods:
        if now < period.start:
            continue
        as_of = min(now + JUST_AFTER, period.end)
        local_day = (as_of + offset).date() - days
        moments.append((key, as_of, datetime.combine(local_day, datetime.min.time()) - offset))
    return moments


def _local_day(session: Session, column, offset: timedelta, plus_days: int = 0):
    """The local calendar day of a naive UTC timestamp column (`offset` from UTC), plus
    `plus_days`, comparable with another such day in the database's own dialect."""
    minutes = int(offset.total_seconds() // 60)
    if session.get_bind().dialect.name == "postgresql":
        return cast(column + func.make_interval(0, 0, 0, plus_days, 0, minutes), Date)
    return func.date(column, f"{minutes:+d} minutes", f"{plus_days:+d} days")


def _days_to_closure(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Referral.ended_at - Referral.sent_at) / 86_400
    return func.julianday(Referral.ended_at) - func.julianday(Referral.sent_at)


def _closure_days(session: Session, view: View, placed, keys: list) -> pd.DataFrame:
    """Median and 90th percentile of days to closure over the closed referrals of each group:
    `percentile_cont` on PostgreSQL, pandas over the days on SQLite, which has none."""
    closed = placed.c.kind == CLOSED
    if session.get_bind().dialect.name == "postgresql":
        percentiles = [
            func.percentile_cont(0.5).within_group(placed.c.days).label("median_days"),
            func.percentile_cont(0.9).within_group(placed.c.days).label("p90_days"),
        ]
        return _aggregate(session, keys, percentiles, closed, source=placed)
    names = _key_names(view)
    stmt = select(*keys, placed.c.days).where(closed)
    frame = pd.DataFrame(session.execute(stmt).all(), columns=[*names, "days"])
    frame["days"] = frame["days"].astype(float)
    grouped = frame.groupby(names)["days"]
    return pd.DataFrame(
        {"median_days": grouped.median(), "p90_days": grouped.quantile(0.9)}
    ).reset_index()


def _stalled_now(
    session: Session, view: View, now: datetime, settings: ReferralSettings
) -> pd.DataFrame:
    """Referrals stalled right now per institution (and department), whatever the period; by
    month, in the month that holds today."""
    keys = [Referral.institution_id.label("institution_id")]
    if view.by == "department":
        keys.append(Referral.department_id.label("department_id"))
    found = _aggregate(
        session,
        keys,
        [func.count(Referral.id).label("stalled")],
        Referral.institution_id.in_(view.institution_ids),
        stalled_clause(now, settings),
        _department_clause(view, Referral.department_id),
    )
    if view.by == "month":
        found.insert(1, "month", (now + view.utc_offset).strftime("%Y-%m"))
    return found


# --- weekly reports -------------------------------------------------------------------------------


def _weeks_due(view: View, now: datetime) -> pd.DataFrame:
    """Every ISO week (its Monday) starting in the period whose report was due by `now`: by noon
    on the Monday after (`warning.escalation.REPORT_GRACE`), as the missing-report sweep asks.
    `cutoff` (the end of the Monday) and `week_end` are naive UTC, as the roles' times are."""
    first = view.first_month + timedelta(days=(7 - view.first_month.weekday()) % 7)
    mondays = pd.Series(pd.date_range(first, view.last_day, freq="7D"))
    local_start = mondays - pd.Timedelta(view.utc_offset)
    weeks = pd.DataFrame(
        {
            "week_start": mondays.dt.date,
            "month": mondays.dt.strftime("%Y-%m"),
            "cutoff": local_start + pd.Timedelta(days=1),
            "week_end": local_start + pd.Timedelta(days=7),
        }
    )
    return weeks[weeks["week_end"] + pd.Timedelta(REPORT_GRACE) <= pd.Timestamp(now)]


def report_compliance(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """Weeks reported ÷ weeks expected, for classes and for dorm rooms.

    A unit owes a week's report on the rule of the missing-report sweep
    (`warning.reports.weekly_report_status`): someone held its reporting role (a class committee
    member, a dorm informant) from before the end of the week's Monday to the week's end, and the
    institution was live by then; and only once the report is due (noon on the Monday after). So
    no week counts before a class's first reporter was appointed, nor before the institution went
    live. The product keeps no term calendar: the sweep owes a report in every week, the summer
    included, and so does this figure. A report filed for a week not (yet) owed is not counted.
    Dorm rooms belong to no department, so in the department view, and for one department in any
    view, only classes are counted.
    """
    owed = _owed_weeks(session, view, now)
    reported = _reported_weeks(session, view)
    expected = owed.merge(reported, on=["kind", "unit_id", "week_start"], how="left")
    expected["reported"] = expected["reported"].eq(True)
    keys = _key_names(view)
    counts = expected.pivot_table(
        index=keys, columns="kind", values="reported", aggfunc=["size", "sum"], fill_value=0
    )
    counts.columns = [f"{'expected' if f == 'size' else 'reported'}_{k}" for f, k in counts.columns]
    out = groups(session, view).merge(counts.reset_index(), on=keys, how="left")
    for column in ("expected_class", "reported_class", "expected_room", "reported_room"):
        out[column] = out[column].fillna(0).astype(int) if column in out else 0
    out["class_compliance"] = ratio(out["reported_class"], out["expected_class"])
    out["room_compliance"] = ratio(out["reported_room"], out["expected_room"])
    out["students"] = out.merge(_roll(session, view), on=_enrolment_keys(view), how="left")[
        "enrolled"
    ].to_numpy()
    return out


def _owed_weeks(session: Session, view: View, now: datetime) -> pd.DataFrame:
    """One row per unit and week owed: each reporting assignment against each week due, kept
    where it covered the week (and the institution was live), then once per unit and week."""
    weeks = _weeks_due(view, now)
    terms = _reporting_terms(session, view)
    pairs = terms.merge(weeks, how="cross")
    ends = pairs["ends_at"]
    covered = (
        (pairs["since"] < pairs["cutoff"])
        & (pairs["live_since"] < pairs["cutoff"])
        & (ends.isna() | (ends >= pairs["week_end"]))
    )
    columns = ["institution_id", "department_id", "kind", "unit_id", "week_start", "month"]
    return pairs.loc[covered, columns].drop_duplicates(["kind", "unit_id", "week_start"])


def _reporting_terms(session: Session, view: View) -> pd.DataFrame:
    """Every class committee and dorm informant assignment of the view's institutions, ended ones
    too (a past week is judged by who held the role then), with when it began and ended and when
    its institution went live."""
    classes = (
        select(
            RoleAssignment.institution_id,
            ClassGroup.department_id,
            RoleAssignment.class_id.label("unit_id"),
            RoleAssignment.since,
            RoleAssignment.ends_at,
            Institution.live_since,
        )
        .join(ClassGroup, ClassGroup.id == RoleAssignment.class_id)
        .where(RoleAssignment.role == Role.CLASS_COMMITTEE)
    )
    rooms = select(
        RoleAssignment.institution_id,
        null(),  # a room has no department
        RoleAssignment.room_id.label("unit_id"),
        RoleAssignment.since,
        RoleAssignment.ends_at,
        Institution.live_since,
    ).where(RoleAssignment.role == Role.DORM_INFORMANT, RoleAssignment.room_id.is_not(None))
    columns = ["institution_id", "department_id", "unit_id", "since", "ends_at", "live_since"]
    frames = []
    for kind, stmt in (("class", classes), ("room", rooms)):
        stmt = (
            stmt.join(Institution, Institution.id == RoleAssignment.institution_id)
            .where(RoleAssignment.institution_id.in_(view.institution_ids))
            .execution_options(**{WITH_ENDED_ROLES: True})
        )
        frame = pd.DataFrame(session.execute(stmt).all(), columns=columns)
        # Typed before they are put together: a column of Nones (a room's department, a role
        # that never ended) is a column of missing values, not of objects.
        frame["department_id"] = frame["department_id"].astype("Int64")
        for column in ("since", "ends_at", "live_since"):
            frame[column] = pd.to_datetime(frame[column])
        frames.append(frame.assign(kind=kind))
    units = pd.concat(frames, ignore_index=True)
    if view.by == "department" or view.department_id is not None:
        units = units[units["kind"] == "class"]
    if view.department_id is not None:
        units = units[units["department_id"] == view.department_id]
    return units


def _reported_weeks(session: Session, view: View) -> pd.DataFrame:
    stmt = select(WeeklyReport.class_id, WeeklyReport.room_id, WeeklyReport.week_start).where(
        WeeklyReport.institution_id.in_(view.institution_ids),
        WeeklyReport.week_start >= view.first_month,
        WeeklyReport.week_start <= view.last_day,
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=["class_id", "room_id", "week_start"])
    frame["kind"] = frame["class_id"].notna().map({True: "class", False: "room"})
    frame["unit_id"] = frame["class_id"].fillna(frame["room_id"]).astype("Int64")
    frame["reported"] = True
    return frame[["kind", "unit_id", "week_start", "reported"]].drop_duplicates()


# --- the catalogue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """One dashboard table: its computation, its columns and its written definition."""

    key: str
    title: object
    # The written definition: a message id, shown translated with the settings it quotes filled
    # in (`oversight.definitions`: "%(stalled_days)s days" is the setting in force, not a number).
    definition: str
    compute: Callable[..., pd.DataFrame]
    columns: tuple[tuple[str, object, str], ...]  # (column, label, format)
    groupings: tuple[str, ...] = BY
    drill: dict[str, str] = field(default_factory=dict)  # column -> drill-down list
    needs_settings: bool = False


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "screening",
        _l("Screening coverage"),
        N_(
            "Screened ÷ enrolled in the cohort. Cohort: the students assigned to screening "
            "campaigns that opened in the period (each student once). Screened: those who "
            "completed every instrument of the campaign. Month: the month the campaign opened."
        ),
        screening_coverage,
        (
            ("cohort", _l("In cohort"), "int"),
            ("screened", _l("Screened"), "int"),
            ("not_screened", _l("Not screened"), "int"),
            ("coverage", _l("Coverage"), "pct"),
        ),
        drill={"not_screened": "unscreened"},
    ),
    Kpi(
        "interviews",
        _l("Post-screening interview coverage"),
        N_(
            "Interviewed ÷ students on the interview lists of screening campaigns that opened in "
            "the period (each student once per campaign, picked by the campaign's interview "
            "rules). Interviewed: the outcome is recorded; on time: held no later than the entry's "
            "deadline (%(interview_deadline)s, or a safety answer's red deadline). No-shows: "
            "students who missed an invitation at least once. Month: the month the campaign "
            "opened."
        ),
        interview_coverage,
        (
            ("to_interview", _l("To interview"), "int"),
            ("interviewed", _l("Interviewed"), "int"),
            ("on_time", _l("On time"), "int"),
            ("no_shows", _l("No-shows"), "int"),
            ("coverage", _l("Coverage"), "pct"),
            ("on_time_rate", _l("On-time rate"), "pct"),
        ),
    ),
    Kpi(
        "service",
        _l("Service coverage"),
        N_(
            "Warned students with at least one contact ÷ warned students. Warned: students with "
            "a warning opened in the period (any level). Contact: the student herself reached on "
            "that warning at any time so far (a contact that reached her, a professional "
            "assessment or a post-screening interview held with her), as its last contact shows; "
            "a call to her guardian or an unanswered attempt is not a contact with her. Month: "
            "the month the warning opened."
        ),
        service_coverage,
        (
            ("warned", _l("Warned students"), "int"),
            ("contacted", _l("Contacted"), "int"),
            ("not_contacted", _l("Not contacted"), "int"),
            ("coverage", _l("Coverage"), "pct"),
        ),
        drill={"warned": "warned", "not_contacted": "uncontacted"},
    ),
    Kpi(
        "family",
        _l("Family contact since the warning (key students)"),
        N_(
            "Key students whose family was contacted ÷ key students. Key students: students with "
            "a warning opened in the period whose level is red or yellow now, open or closed. "
            "Contacted: an entry in the family-contact log since the warning opened, in any "
            "month, that reached the family; a call no one answered or a guardian who would not "
            "talk is an attempt and does not count, and a corrected entry counts as corrected. "
            "Month: the month the warning opened. Not the home page's monthly figure, which "
            "counts the key students with a warning open now whose family was reached in the "
            "current calendar month."
        ),
        family_contact,
        (
            ("key_students", _l("Key students"), "int"),
            ("family_contacted", _l("Family contacted"), "int"),
            ("family_not_contacted", _l("Family not contacted"), "int"),
            ("coverage", _l("Coverage"), "pct"),
        ),
    ),
    Kpi(
        "staffing",
        _l("Full-time mental-health teachers"),
        N_(
            "Full-time mental-health teachers in post on the last day of the period (today, if "
            "sooner), from the staffing register; part-time teachers and department counsellors "
            "are not counted. Students: on the roll today (enrolled or on leave). Compliant when "
            "there is at least one full-time teacher per %(students_per_teacher)s students and at "
            "least %(minimum_teachers)s in the school, as the national requirement says: "
            '"Universities shall staff full-time mental-health teachers at a teacher-student ratio '
            'of no less than 1:4000, and at least 2 in every school" (Ministry of Education and 16 '
            "other departments, Special Action Plan for Comprehensively Strengthening and "
            "Improving Student Mental Health Work in the New Era, 2023–2025)."
        ),
        teacher_ratio,
        (
            ("enrolled", _l("Students"), "int"),
            ("teachers", _l("Full-time teachers"), "int"),
            ("needed", _l("Needed"), "int"),
            ("students_per_teacher", _l("Students per full-time teacher"), "num"),
            ("ratio_met", _l("1 : %(students)s met", students=STUDENTS_PER_TEACHER), "bool"),
            ("two_met", _l("At least %(teachers)s", teachers=MINIMUM_TEACHERS), "bool"),
            ("compliant", _l("Compliant"), "bool"),
        ),
        groupings=("institution",),
    ),
    Kpi(
        "crisis",
        _l("Crisis incidents"),
        N_(
            "Red warnings opened in the period per 10,000 students on the roll today (enrolled "
            "or on leave). A warning counts in the month it opened if its level is red now."
        ),
        crisis_rate,
        (
            ("incidents", _l("Red warnings"), "int"),
            ("enrolled", _l("Students"), "int"),
            ("per_10000", _l("Per 10,000"), "num"),
        ),
        drill={"incidents": "red"},
    ),
    Kpi(
        "levels",
        _l("Warnings by level"),
        N_(
            "Warnings opened in the period, by their level now (an override counts). Month: the "
            "month the warning opened."
        ),
        warnings_by_level,
        (
            ("red", _l("Red"), "int"),
            ("yellow", _l("Yellow"), "int"),
            ("blue", _l("Blue"), "int"),
            ("total", _l("Total"), "int"),
        ),
        drill={"red": "red", "yellow": "yellow", "blue": "blue", "total": "warned"},
    ),
    Kpi(
        "deadlines",
        _l("Response-deadline compliance"),
        N_(
            "Deadlines met on time ÷ deadlines that fell due in the period, per level. Due: the "
            "deadline's time is in the period and already past. Met on time: done no later than "
            "its due time; late or escalated counts as missed. Deadlines no longer owed (the level "
            "changed or the warning closed first) are left out. A first-response deadline belongs "
            "to the level that set it; follow-ups to the warning's level now. %(response_windows)s"
        ),
        deadline_compliance,
        (
            ("level_name", _l("Level"), "level"),
            ("due", _l("Due"), "int"),
            ("met", _l("Met on time"), "int"),
            ("compliance", _l("Compliance"), "pct"),
        ),
    ),
    Kpi(
        "referrals",
        _l("Referral closure"),
        N_(
            "Closure rate = referrals closed ÷ referrals due to close in the period. Due to close: "
            "closed or lost to follow-up in the period, or overdue at its end (now, while the "
            "period runs). Closed: sent to a hospital and ended in the period as closed, declined "
            "(documented) or withdrawn, however early or late; lost to follow-up is not closed. "
            "Closed late: after the expected closure date (sent + %(expected_closure_days)s days). "
            "Overdue: past the expected closure date and not yet ended, whenever it was sent. Days "
            "to closure: from sent to closed, median and 90th percentile. Stalled: open with no "
            "update for %(stalled_days)s days or more, now. Month: each month is audited on its "
            "own, so a referral overdue through several months counts in each."
        ),
        referral_closure,
        (
            ("due", _l("Due to close"), "int"),
            ("closed", _l("Closed"), "int"),
            ("closure_rate", _l("Closure rate"), "pct"),
            ("closed_late", _l("Closed late"), "int"),
            ("lost", _l("Lost to follow-up"), "int"),
            ("overdue", _lp("closure audit", "Overdue"), "int"),
            ("median_days", _l("Median days"), "num"),
            ("p90_days", _l("90th percentile days"), "num"),
            ("stalled", _l("Stalled now"), "int"),
        ),
        drill={"stalled": "stalled"},
        needs_settings=True,
    ),
    Kpi(
        "reports",
        _l("Weekly-report compliance"),
        N_(
            "Weeks reported ÷ weeks expected, for classes and for dorm rooms. Expected: each "
            "week whose Monday is in the period and whose report was due by now (noon on the "
            "Monday after), for every class and room whose reporter (class committee member, "
            "dorm informant) was appointed by that Monday and still held the role at the week's "
            "end, once the school was live: the weeks the missing-report reminder chases, the "
            "summer included, none before the reporter was appointed. A zero report counts. "
            "Rooms belong to no department, so the department view counts classes only."
        ),
        report_compliance,
        (
            ("expected_class", _l("Class weeks expected"), "int"),
            ("reported_class", _l("Class weeks reported"), "int"),
            ("class_compliance", _l("Class report rate"), "pct"),
            ("expected_room", _l("Room weeks expected"), "int"),
            ("reported_room", _l("Room weeks reported"), "int"),
            ("room_compliance", _l("Room report rate"), "pct"),
        ),
    ),
)
BY_KEY = {kpi.key: kpi for kpi in KPIS}


def compute(
    session: Session,
    kpi: Kpi,
    view: View,
    now: datetime,
    settings: ReferralSettings | None = None,
) -> pd.DataFrame:
    """One KPI table for `view` (grouped as the KPI allows)."""
    if view.by not in kpi.groupings:
        view = view.grouped(kpi.groupings[0])
    if kpi.needs_settings:
        out = kpi.compute(session, view, now, settings or ReferralSettings())
    else:
        out = kpi.compute(session, view, now)
    return out


def compute_all(
    session: Session, view: View, now: datetime, settings: ReferralSettings | None = None
) -> dict[str, pd.DataFrame]:
    """Every KPI table of a dashboard for `view`, by KPI key."""
    return {kpi.key: compute(session, kpi, view, now, settings) for kpi in KPIS}
