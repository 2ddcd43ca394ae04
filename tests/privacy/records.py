"""Named factories of a student's whole record, for the retention and erasure tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from campus.extensions import db
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from casework.models import FamilyContact
from privacy.retention_models import StudentDeparture
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import Consent
from screening.models import ScreeningResult
from tests.factories import open_warning
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningEvent
from warning.models import WarningStatus
from warning.policy import Level

# Long enough ago that every "after leaving" clock of the default schedule (at most 15 years)
# has run out by the frozen test clock (2026-09-14).
LONG_AGO = date(2010, 6, 30)
RECENTLY = date(2025, 6, 30)


@dataclass
class School:
    institution: Institution
    director: User
    counsellor: User
    campaign: Campaign


def school(campus, code: str = "XJU") -> School:
    institution = campus.institution(code)
    director = campus.staff(institution, Role.DIRECTOR)
    counsellor = campus.staff(institution, Role.SCHOOL_COUNSELLOR)
    intake = Campaign(
        institution_id=institution.id,
        name="2009 intake",
        instruments=["phq9"],
        opens_at=datetime(2009, 9, 1),
        closes_at=datetime(2009, 9, 30),
    )
    db.session.add(intake)
    db.session.flush()
    return School(institution, director, counsellor, intake)


def left(student: Student, on: date) -> Student:
    """The student graduated on `on` (the roster's status and the day the clock starts)."""
    student.enrolment_status = EnrolmentStatus.GRADUATED
    db.session.add(StudentDeparture(student_id=student.id, left_on=on, source="recorded"))
    db.session.flush()
    return student


def campaign(where: School, name: str, opens: datetime) -> Campaign:
    found = Campaign(
        institution_id=where.institution.id,
        name=name,
        instruments=["phq9"],
        opens_at=opens,
        closes_at=opens + timedelta(days=14),
    )
    db.session.add(found)
    db.session.flush()
    return found


def screened(
    student: Student, where: School, at: datetime, round_: Campaign | None = None
) -> ScreeningResult:
    """A consented, scored PHQ-9 with its raw answers, in `round_` (the school's 2009 intake)."""
    round_ = round_ or where.campaign
    assignment = CampaignAssignment(
        campaign_id=round_.id, student_id=student.id, started_at=at, completed_at=at
    )
    db.session.add(assignment)
    db.session.flush()
    db.session.add(
        Consent(
            assignment_id=assignment.id,
            student_id=student.id,
            informed=True,
            sensitive_data=True,
            consent_text="I agree",
            locale="zh_CN",
            agreed_at=at,
        )
    )
    result = ScreeningResult(
        assignment_id=assignment.id,
        campaign_id=round_.id,
        student_id=student.id,
        institution_id=student.institution_id,
        instrument="phq9",
        instrument_version="1",
        answers={str(i): 2 for i in range(1, 10)},
        total=18,
        band="moderately_severe",
        completed_at=at,
    )
    db.session.add(result)
    db.session.flush()
    return result


def closed_warning(student: Student, where: School, opened: datetime) -> EarlyWarning:
    """A red warning opened at `opened` and closed a month later, with a noted contact."""
    warning = open_warning(
        student,
        Level.RED,
        opened,
        planned=False,
        status=WarningStatus.CLOSED,
        closed_at=opened + timedelta(days=30),
        close_outcome="Recovered; family informed of 张三's progress",
    )
    db.session.add(
        WarningEvent(
            warning_id=warning.id,
            kind="contact",
            at=opened + timedelta(days=1),
            actor_id=where.counsellor.id,
            note="Talked about the break-up with her boyfriend",
        )
    )
    db.session.flush()
    return warning


def crisis(student: Student, where: School, warning: EarlyWarning) -> CrisisRecord:
    record = CrisisRecord(
        institution_id=student.institution_id,
        student_id=student.id,
        warning_id=warning.id,
        opened_at=warning.opened_at,
        opened_by_id=where.counsellor.id,
    )
    db.session.add(record)
    db.session.flush()
    db.session.add(
        CrisisEntry(
            record_id=record.id,
            institution_id=student.institution_id,
            student_id=student.id,
            occurred_at=warning.opened_at,
            place="Dorm 101",
            narrative="Found on the roof at night",
            actions=["accompanied"],
            submission=f"t{record.id}",
            author_id=where.counsellor.id,
            created_at=warning.opened_at,
        )
    )
    db.session.flush()
    return record


def whole_record(student: Student, where: School, at: datetime) -> EarlyWarning:
    """A screening, a closed red warning with a crisis record, a concern report and a family
    contact, all at `at`."""
    screened(student, where, at)
    warning = closed_warning(student, where, at)
    crisis(student, where, warning)
    db.session.add_all(
        [
            ConcernReport(
                institution_id=student.institution_id,
                student_id=student.id,
                category="other",
                text="Cries at night",
                filed_by_id=where.counsellor.id,
                filed_at=at,
                via="web",
            ),
            Task(
                institution_id=student.institution_id,
                student_id=student.id,
                kind="contagion_check_in",
                text=f"Please check in with {student.name} this week",
                assignee_user_id=where.counsellor.id,
                due_at=at,
                created_at=at,
            ),
            FamilyContact(
                institution_id=student.institution_id,
                student_id=student.id,
                at=at,
                author_id=where.counsellor.id,
                direction="we_called",
                guardian_name="Mother",
                channel="phone",
                summary="Mother worried about her sleep",
                outcome="reached",
                submission=f"fc{student.id}",
                created_at=at,
            ),
        ]
    )
    db.session.flush()
    return warning
