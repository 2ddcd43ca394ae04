"""A department's progress in the screening campaigns, for its counsellor and leader (辅导员 and
院系分管领导), who chase their students to complete them: the counts on their home page and the
list of who has not completed a campaign yet.

Both are the campaign pages' count (`campaigns.tally`, over the students the viewer may see),
narrowed to one department and to the students due: those who completed it, and those who still
owe it by the reminders' rule (`campaigns.still_owed`: enrolled, not withdrawn from screening). A
student on leave or who withdrew consent is not someone to chase, so the department's figures
leave them out where the campaign page counts every assignment.

What is shown is completion only (started, completed, when): never a score, a band or an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import ClassGroup
from campus.models import Department
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from screening import campaigns
from screening.campaigns import Coverage
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import InstrumentResponse
from screening.models import ScreeningResult

DEPARTMENT_ROLES = (Role.DEPT_COUNSELLOR, Role.DEPT_LEADER)


@dataclass(frozen=True)
class DepartmentProgress:
    """How far one department's students due in one campaign have got."""

    campaign: Campaign
    department: Department
    coverage: Coverage

    @property
    def remaining(self) -> int:
        return self.coverage.due + self.coverage.started + self.coverage.expired


@dataclass(frozen=True)
class StillToComplete:
    """One student of the department who has not completed the campaign: who, and how far."""

    student_id: int
    name: str
    student_number: str
    class_name: str
    started: bool
    last_activity: datetime | None  # consent given, a part saved or submitted, the latest
    last_reminded_at: datetime | None


def followed_departments(user: User, institution_id: int | None = None) -> list[int]:
    """The departments whose progress `user` follows: those they hold a department counsellor's
    or leader's role over (of `institution_id`, when given)."""
    return sorted(
        {
            a.department_id
            for a in user.assignments(*DEPARTMENT_ROLES)
            if a.department_id is not None
            and (institution_id is None or a.institution_id == institution_id)
        }
    )


def _due() -> ColumnElement[bool]:
    return or_(CampaignAssignment.completed_at.is_not(None), campaigns.still_owed())


def open_progress(session: Session, user: User, now: datetime) -> list[DepartmentProgress]:
    """Each campaign open now with students due in one of `user`'s departments, per department:
    three queries however many campaigns, departments and students. Soonest to close first."""
    departments = followed_departments(user)
    if not departments:
        return []
    counts = campaigns.tally(
        session,
        user,
        now,
        campaigns.open_now(now),
        Student.department_id.in_(departments),
        _due(),
        keys=(Campaign.id, Student.department_id),
    )
    if not counts:
        return []
    found = {
        c.id: c
        for c in session.scalars(select(Campaign).where(Campaign.id.in_({k[0] for k in counts})))
    }
    named = {
        d.id: d for d in session.scalars(select(Department).where(Department.id.in_(departments)))
    }
    rows = [
        DepartmentProgress(found[campaign_id], named[department_id], cover)
        for (campaign_id, department_id), cover in counts.items()
    ]
    return sorted(rows, key=lambda p: (p.campaign.closes_at, p.campaign.id, p.department.name))


def department_campaign(
    session: Session, user: User, campaign_id: int, department_id: int, now: datetime
) -> DepartmentProgress | None:
    """The campaign and department `user` follows, with the department's counts; None for a
    campaign of another institution or not open yet, a department not theirs, or a campaign
    with no student of the department due (its cohort leaves the department out)."""
    department = session.get(Department, department_id)
    if department is None or department_id not in followed_departments(
        user, department.institution_id
    ):
        return None
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id,
            Campaign.institution_id == department.institution_id,
            Campaign.opens_at <= now,
        )
    )
    if campaign is None:
        return None
    cover = campaigns.tally(
        session,
        user,
        now,
        CampaignAssignment.campaign_id == campaign.id,
        Student.department_id == department.id,
        _due(),
    ).get((), Coverage())
    if not cover.total:
        return None
    return DepartmentProgress(campaign, department, cover)


@dataclass(frozen=True)
class ClassToComplete:
    """A class of the department with students still to complete the campaign: the list's
    class filter."""

    id: int
    name: str
    remaining: int


def _owing(user: User, found: DepartmentProgress) -> list[ColumnElement[bool]]:
    """The department's assignments still owed, of the students `user` may see."""
    return [
        CampaignAssignment.campaign_id == found.campaign.id,
        Student.department_id == found.department.id,
        student_filter(user, Capability.ROSTER),
        campaigns.still_owed(),
    ]


def classes_to_complete(
    session: Session, user: User, found: DepartmentProgress
) -> list[ClassToComplete]:
    """The department's classes with a student still owing the campaign, by name, each with
    how many (one query)."""
    rows = session.execute(
        select(ClassGroup.id, ClassGroup.name, func.count())
        .select_from(CampaignAssignment)
        .join(Student, CampaignAssignment.student_id == Student.id)
        .join(ClassGroup, Student.class_id == ClassGroup.id)
        .where(*_owing(user, found))
        .group_by(ClassGroup.id, ClassGroup.name)
        .order_by(ClassGroup.name, ClassGroup.id)
    ).all()
    return [ClassToComplete(class_id, name, count) for class_id, name, count in rows]


def still_to_complete(
    session: Session, user: User, found: DepartmentProgress, class_id: int | None = None
) -> list[StillToComplete]:
    """The department's students who still owe the campaign (of class `class_id` only, when
    given), by class then name: the same students the counts call started and not started
    (or, once it closed, expired)."""
    saved = (
        select(func.max(InstrumentResponse.updated_at))
        .where(InstrumentResponse.assignment_id == CampaignAssignment.id)
        .scalar_subquery()
    )
    submitted = (
        select(func.max(ScreeningResult.completed_at))
        .where(ScreeningResult.assignment_id == CampaignAssignment.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Student.id,
            Student.name,
            Student.student_number,
            ClassGroup.name,
            CampaignAssignment.started_at,
            CampaignAssignment.last_reminded_at,
            saved,
            submitted,
        )
        .select_from(CampaignAssignment)
        .join(Student, CampaignAssignment.student_id == Student.id)
        .join(ClassGroup, Student.class_id == ClassGroup.id)
        .where(
            *_owing(user, found),
            *([Student.class_id == class_id] if class_id is not None else []),
        )
        .order_by(ClassGroup.name, Student.name, Student.student_number)
    ).all()
    return [
        StillToComplete(
            student_id=student_id,
            name=name,
            student_number=number,
            class_name=class_name,
            started=started_at is not None,
            last_activity=max((t for t in (started_at, saved_at, submitted_at) if t), default=None),
            last_reminded_at=reminded_at,
        )
        for (
            student_id,
            name,
            number,
            class_name,
            started_at,
            reminded_at,
            saved_at,
            submitted_at,
        ) in rows
    ]
