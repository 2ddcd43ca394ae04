"""Prevention fixtures: a school with freshman and older classes, staff, campaigns by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from campus import clock
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from screening import campaigns
from screening.models import Campaign

NOW = datetime(2026, 9, 14, 2, 0, 0)


@dataclass
class School:
    institution: Institution
    computing: Department
    maths: Department
    freshmen: ClassGroup
    seniors: ClassGroup
    maths_freshmen: ClassGroup
    student: Student
    minor: Student
    classmate: Student
    senior: Student
    mathematician: Student
    admin: User
    counsellor: User
    committee: User


@pytest.fixture
def school(campus) -> School:
    inst = campus.institution("XJU")
    inst.on_duty_phone = "0731-1234-5678"
    computing = campus.department(inst, "Computing")
    maths = campus.department(inst, "Mathematics")
    freshmen = campus.class_group(computing, "CS2601", grade=2026)
    seniors = campus.class_group(computing, "CS2501", grade=2025)
    maths_freshmen = campus.class_group(maths, "MA2601", grade=2026)
    student = campus.student(freshmen, name="Adult Freshman", birth_date=date(2007, 3, 1))
    minor = campus.student(freshmen, name="Minor Freshman", birth_date=date(2009, 1, 1))
    classmate = campus.student(freshmen, name="Classmate", birth_date=date(2007, 5, 1))
    senior = campus.student(seniors, name="Senior", birth_date=date(2006, 5, 1))
    mathematician = campus.student(maths_freshmen, name="Mathematician")
    committee = campus.staff(inst, Role.CLASS_COMMITTEE, group=freshmen, user=classmate.user)
    school = School(
        institution=inst,
        computing=computing,
        maths=maths,
        freshmen=freshmen,
        seniors=seniors,
        maths_freshmen=maths_freshmen,
        student=student,
        minor=minor,
        classmate=classmate,
        senior=senior,
        mathematician=mathematician,
        admin=campus.staff(inst, Role.ADMIN, login="admin"),
        counsellor=campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01"),
        committee=committee,
    )
    campus.commit()
    return school


@pytest.fixture
def make_campaign(school):
    """Save a campaign through the service, so its assignments exist as in production."""

    def _make(
        name: str = "2026 freshman intake",
        instruments: tuple[str, ...] = ("phq9",),
        *,
        grades: tuple[int, ...] = (2026,),
        opens: datetime | None = None,
        closes: datetime | None = None,
        departments: tuple[Department, ...] = (),
        reminder_every_days: int = 3,
    ) -> Campaign:
        spec = campaigns.CampaignSpec(
            name=name,
            instruments=list(instruments),
            opens_at=opens or clock.now() - timedelta(days=1),
            closes_at=closes or clock.now() + timedelta(days=14),
            grades=list(grades),
            department_ids=[d.id for d in departments],
            reminder_every_days=reminder_every_days,
        )
        now = clock.now()
        if spec.closes_at <= now:
            # An earlier round, saved back when it was planned (a new campaign must still run).
            clock.set_now(spec.opens_at - timedelta(days=1))
        try:
            return campaigns.save_campaign(db.session, school.institution, school.admin, spec)
        finally:
            clock.set_now(now)

    return _make
