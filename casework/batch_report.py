"""A campaign's batch screening report (批量筛查报告), for the whole campaign or one department:
coverage, result bands per instrument compared with the previous campaign of the same
instruments, and — for readers of the interview list — whom to interview, by name.

Screening's results are read here, never the other way round (screening does not import
casework). The band tables are counts only; names appear solely in the interview list, read
through `interview_permissions.entry_scope`, so its rules decide who sees whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from flask_babel import pgettext
from markupsafe import Markup
from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session
from sqlalchemy.orm import contains_eager

from campus.i18n import shown_name
from campus.models import Department
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import institution_ids
from casework import interview_permissions as permissions
from casework import interviews
from casework.models import InterviewEntry
from oversight.charts import percent_bars
from screening.instruments import UnknownInstrument
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from screening.vocabulary import instrument_abbreviation
from screening.vocabulary import instrument_name

# Who may print a report: the centre and the administrator for any department of their
# institution, a department counsellor for their own department only.
WHOLE_CAMPAIGN_ROLES = (Role.ADMIN, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)
REPORT_ROLES = (*WHOLE_CAMPAIGN_ROLES, Role.DEPT_COUNSELLOR)


def may_print(user: User, campaign: Campaign, department: Department | None) -> bool:
    """Whether `user` may print `campaign`'s report for `department` (None: the whole campaign)."""
    if campaign.institution_id in institution_ids(user, *WHOLE_CAMPAIGN_ROLES):
        return department is None or department.institution_id == campaign.institution_id
    if department is None or department.institution_id != campaign.institution_id:
        return False
    return any(
        a.department_id == department.id
        for a in user.assignments(Role.DEPT_COUNSELLOR)
        if a.institution_id == campaign.institution_id
    )


def sees_names(user: User, campaign: Campaign) -> bool:
    """Whether the report names whom to interview for `user`: the interview list's readers (the
    administrator gets the figures only)."""
    return any(
        a.role in permissions.LIST_ROLES and a.institution_id == campaign.institution_id
        for a in user.roles
    )


@dataclass(frozen=True)
class BandFigure:
    label: str
    count: int
    percent: float
    previous_percent: float | None  # None: no earlier campaign to compare with

    @property
    def change(self) -> float | None:
        """The difference from last time in percentage points."""
        if self.previous_percent is None:
            return None
        return round(self.percent - self.previous_percent, 1)


@dataclass(frozen=True)
class InstrumentFigures:
    name: str
    screened: int
    previous_screened: int | None
    bands: list[BandFigure]

    def chart(self, key: str) -> Markup:
        """The bands' shares as horizontal bars (inline SVG: the renderer fetches nothing)."""
        return percent_bars(
            key,
            self.name,
            [b.label for b in self.bands],
            [b.percent / 100 for b in self.bands],
            desc=self.name,
        )


@dataclass(frozen=True)
class ToInterview:
    """One student on the interview list: who, where, which bands (no score, no answer)."""

    student_id: int
    name: str
    number: str
    department: str
    class_name: str
    bands: str
    state: str
    due_at: datetime


@dataclass(frozen=True)
class BatchReport:
    campaign: str
    opens_at: datetime
    closes_at: datetime
    department: str | None
    assigned: int
    completed: int
    instruments: list[InstrumentFigures]
    previous: str | None
    interview_total: int
    to_interview: list[ToInterview] | None  # None: this reader is not shown names

    @property
    def percent_completed(self) -> float:
        return round(100 * self.completed / self.assigned, 1) if self.assigned else 0.0


def _in_department(department: Department | None) -> ColumnElement[bool]:
    return Student.department_id == department.id if department is not None else true()


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def _band_counts(
    session: Session, campaign_id: int, instrument: str, department: Department | None
) -> dict[str | None, int]:
    rows = session.execute(
        select(ScreeningResult.band, func.count())
        .join(Student, Student.id == ScreeningResult.student_id)
        .where(
            ScreeningResult.campaign_id == campaign_id,
            ScreeningResult.instrument == instrument,
            _in_department(department),
        )
        .group_by(ScreeningResult.band)
    ).all()
    return {band: count for band, count in rows}


def previous_campaign(
    session: Session, campaign: Campaign, department: Department | None
) -> Campaign | None:
    """The latest earlier campaign of the institution with the same instruments and results for
    `department` (or anyone, for the whole campaign): "last year" to compare with."""
    earlier = session.scalars(
        select(Campaign)
        .where(
            Campaign.institution_id == campaign.institution_id,
            Campaign.opens_at < campaign.opens_at,
            Campaign.id != campaign.id,
        )
        .order_by(Campaign.opens_at.desc())
    )
    for candidate in earlier:
        if sorted(candidate.instruments) != sorted(campaign.instruments):
            continue
        has_results = session.scalar(
            select(ScreeningResult.id)
            .join(Student, Student.id == ScreeningResult.student_id)
            .where(ScreeningResult.campaign_id == candidate.id, _in_department(department))
            .limit(1)
        )
        if has_results is not None:
            return candidate
    return None


def _instrument_figures(
    session: Session,
    campaign: Campaign,
    previous: Campaign | None,
    department: Department | None,
    locale: str,
) -> list[InstrumentFigures]:
    figures = []
    for code in campaign.instruments:
        try:
            bands = load_instrument(code).bands
        except UnknownInstrument:
            continue
        if not bands:
            continue  # a knowledge check has a score, not bands
        counts = _band_counts(session, campaign.id, code, department)
        screened = sum(counts.values())
        before = _band_counts(session, previous.id, code, department) if previous else None
        before_total = sum(before.values()) if before is not None else None
        figures.append(
            InstrumentFigures(
                name=instrument_name(code),
                screened=screened,
                previous_screened=before_total,
                bands=[
                    BandFigure(
                        label=band.label.get(locale),
                        count=counts.get(band.code, 0),
                        percent=_percent(counts.get(band.code, 0), screened),
                        previous_percent=_percent(before.get(band.code, 0), before_total or 0)
                        if before is not None
                        else None,
                    )
                    for band in bands
                ],
            )
        )
    return figures


def _student_bands(
    session: Session, campaign_id: int, student_ids: list[int], locale: str
) -> dict[int, str]:
    """Each student's result bands in the round, as "PHQ-9：中度抑郁" words (no totals)."""
    shown: dict[int, list[str]] = {}
    for result in session.scalars(
        select(ScreeningResult)
        .where(
            ScreeningResult.campaign_id == campaign_id,
            ScreeningResult.student_id.in_(student_ids),
            ScreeningResult.band.is_not(None),
        )
        .order_by(ScreeningResult.id)
    ):
        try:
            instrument = load_instrument(result.instrument)
        except UnknownInstrument:
            continue
        label = next((b.label.get(locale) for b in instrument.bands if b.code == result.band), None)
        if label:
            words = f"{instrument_abbreviation(result.instrument)} {label}"
            shown.setdefault(result.student_id, []).append(words)
    separator = pgettext("list separator", "; ")
    return {student_id: separator.join(words) for student_id, words in shown.items()}


def _to_interview(
    session: Session,
    user: User,
    campaign: Campaign,
    department: Department | None,
    locale: str,
) -> list[ToInterview]:
    entries = list(
        session.scalars(
            select(InterviewEntry)
            .join(Student, Student.id == InterviewEntry.student_id)
            .where(
                InterviewEntry.campaign_id == campaign.id,
                permissions.entry_scope(user),
                _in_department(department),
            )
            .options(contains_eager(InterviewEntry.student))
            .order_by(InterviewEntry.due_at, Student.name)
        )
    )
    bands = _student_bands(session, campaign.id, [e.student_id for e in entries], locale)
    return [
        ToInterview(
            student_id=e.student_id,
            name=e.student.name,
            number=e.student.student_number,
            department=e.student.department.name,
            class_name=e.student.class_group.name,
            bands=bands.get(e.student_id, ""),
            state=gettext(interviews.STATE_WORDS[e.state]),
            due_at=e.due_at,
        )
        for e in entries
    ]


def build(
    session: Session,
    user: User,
    campaign: Campaign,
    department: Department | None,
    locale: str,
) -> BatchReport:
    """The report `user` may print (check `may_print` first): names only for `sees_names`."""
    assigned, completed = session.execute(
        select(func.count(), func.count(CampaignAssignment.completed_at))
        .select_from(CampaignAssignment)
        .join(Student, Student.id == CampaignAssignment.student_id)
        .where(CampaignAssignment.campaign_id == campaign.id, _in_department(department))
    ).one()
    previous = previous_campaign(session, campaign, department)
    interview_total = session.scalar(
        select(func.count())
        .select_from(InterviewEntry)
        .where(
            InterviewEntry.campaign_id == campaign.id,
            InterviewEntry.department_id == department.id if department is not None else true(),
        )
    )
    return BatchReport(
        campaign=shown_name(campaign),
        opens_at=campaign.opens_at,
        closes_at=campaign.closes_at,
        department=department.name if department is not None else None,
        assigned=assigned,
        completed=completed,
        instruments=_instrument_figures(session, campaign, previous, department, locale),
        previous=shown_name(previous) if previous is not None else None,
        interview_total=interview_total or 0,
        to_interview=_to_interview(session, user, campaign, department, locale)
        if sees_names(user, campaign)
        else None,
    )
