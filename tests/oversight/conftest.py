"""Oversight fixtures: two universities with hand-countable screening, warnings, deadlines,
referrals and weekly reports in September 2026 (the clock is frozen at 2026-09-14 02:00 UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime

import pytest

from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from referrals.models import Referral
from referrals.models import ReferralStatus
from screening.models import Campaign
from screening.models import CampaignAssignment
from tests.factories import TERM_START
from tests.factories import open_warning
from tests.factories import referral_row
from tests.factories import went_live
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import WarningEvent
from warning.models import WeeklyReport

SEPT = datetime(2026, 9, 1)


@dataclass
class University:
    institution: Institution
    students: list[Student] = field(default_factory=list)
    warnings: list[EarlyWarning] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    admin: User | None = None
    director: User | None = None


@dataclass
class World:
    xju: University
    hnu: University
    province: User
    province_office: Institution
    dept_counsellor: User


def add_warning(student: Student, level: int, opened_at: datetime, **extra) -> EarlyWarning:
    """A warning alone (no response planned), so each KPI counts only what the docstring lists."""
    return open_warning(
        student,
        level,
        opened_at,
        planned=False,
        reason="test",
        owner_tier=OwnerTier.DEPARTMENT,
        **extra,
    )


@pytest.fixture
def world(campus) -> World:
    """XJU: Computing (3 students) and Maths (1 student); HNU: one department of 2 students.

    XJU, September 2026:
    - campaign "2026 intake" opened 09-01: all 4 assigned, 3 completed (Maths' one among them);
    - warnings: red for S1 (contacted), yellow for S2 (no contact), both opened in September;
      blue for S3 opened in August;
    - deadlines of S1's red warning: acknowledge met on time, assessment met late, one superseded,
      one due after now; S2's yellow contact deadline missed;
    - referrals: S1's sent 06-10 closed 07-20 (40 days), S2's sent 06-20 and untouched since;
    - a class committee member and a dorm informant, both appointed on 08-24 when XJU went live;
      the class reported the week of 09-07 only.
    """
    xju = University(campus.institution("XJU", "Xiangjiang University"))
    computing = campus.department(xju.institution, "Computing")
    maths = campus.department(xju.institution, "Maths")
    group = campus.class_group(computing, "CS-1")
    maths_group = campus.class_group(maths, "MA-1")
    room = campus.room(xju.institution, "101")
    hospital = campus.hospital(xju.institution, "Brain Hospital")
    xju.students = [
        campus.student(group, room, name="Li Hua", number="XJU001"),
        campus.student(group, room, name="Wang Fang", number="XJU002"),
        campus.student(group, name="Zhang Wei", number="XJU003"),
        campus.student(maths_group, name="Chen Jing", number="XJU004"),
    ]
    xju.admin = campus.staff(xju.institution, Role.ADMIN)
    xju.director = campus.staff(xju.institution, Role.DIRECTOR)
    campus.staff(xju.institution, Role.SCHOOL_COUNSELLOR)
    committee = campus.staff(xju.institution, Role.CLASS_COMMITTEE, group=group)
    informant = campus.staff(xju.institution, Role.DORM_INFORMANT, room=room)
    went_live(TERM_START, xju.institution, committee, informant)
    dept_counsellor = campus.staff(xju.institution, Role.DEPT_COUNSELLOR, department=computing)

    campaign = Campaign(
        institution_id=xju.institution.id,
        name="2026 intake",
        instruments=["PHQ-9"],
        opens_at=datetime(2026, 9, 1),
        closes_at=datetime(2026, 9, 30),
    )
    db.session.add(campaign)
    db.session.flush()
    for student, done in zip(xju.students, [True, False, True, True], strict=True):
        db.session.add(
            CampaignAssignment(
                campaign_id=campaign.id,
                student_id=student.id,
                completed_at=datetime(2026, 9, 5) if done else None,
            )
        )

    s1, s2, s3, _s4 = xju.students
    red = add_warning(s1, 3, datetime(2026, 9, 2, 8))
    yellow = add_warning(s2, 2, datetime(2026, 9, 3, 8))
    xju.warnings = [red, yellow, add_warning(s3, 1, datetime(2026, 8, 20))]
    red.last_contact_at = datetime(2026, 9, 2, 9)  # what logging the contact writes
    db.session.add(WarningEvent(warning_id=red.id, kind="contact", at=datetime(2026, 9, 2, 9)))
    db.session.add_all(
        [
            Deadline(
                warning_id=red.id,
                kind="acknowledge",
                tier=4,
                due_at=datetime(2026, 9, 2, 9),
                met_at=datetime(2026, 9, 2, 8, 30),
            ),
            Deadline(
                warning_id=red.id,
                kind="assessment",
                tier=4,
                due_at=datetime(2026, 9, 3, 8),
                met_at=datetime(2026, 9, 3, 10),
            ),
            Deadline(
                warning_id=red.id,
                kind="peer_watch",
                tier=2,
                due_at=datetime(2026, 9, 3, 8),
                superseded_at=datetime(2026, 9, 2, 12),
            ),
            Deadline(warning_id=red.id, kind="follow_up", tier=4, due_at=datetime(2026, 9, 20, 8)),
            Deadline(warning_id=yellow.id, kind="contact", tier=3, due_at=datetime(2026, 9, 6, 8)),
        ]
    )
    xju.referrals = [
        referral_row(
            s1,
            hospital,
            xju.director,
            datetime(2026, 6, 10),
            ReferralStatus.CLOSED,
            ended_at=datetime(2026, 7, 20),
            last_transition_at=datetime(2026, 7, 20),
        ),
        referral_row(s2, hospital, xju.director, datetime(2026, 6, 20), ReferralStatus.SENT),
    ]
    db.session.add(
        WeeklyReport(
            institution_id=xju.institution.id,
            class_id=group.id,
            week_start=date(2026, 9, 7),
            zero_report=True,
            filed_by_id=committee.id,
        )
    )

    hnu = University(campus.institution("HNU", "Hunan Normal University"))
    hnu_dept = campus.department(hnu.institution, "History")
    hnu_group = campus.class_group(hnu_dept, "HI-1")
    hnu.students = [
        campus.student(hnu_group, name="Zhao Lei", number="HNU001"),
        campus.student(hnu_group, name="Sun Mei", number="HNU002"),
    ]
    hnu.admin = campus.staff(hnu.institution, Role.ADMIN)
    hnu.warnings = [add_warning(hnu.students[0], 3, datetime(2026, 9, 4))]

    office = campus.institution("HNPRO", "Hunan Education Department", kind="province")
    province = campus.staff(office, Role.PROVINCE_AUDITOR)
    campus.commit()
    return World(xju, hnu, province, office, dept_counsellor)
