"""Casework fixtures: a student with the people around them, and screening rounds by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

import pytest

from campus.extensions import db
from campus.models import Caseload
from campus.models import ClassGroup
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from screening.scoring import load_instrument


@dataclass
class World:
    institution: Institution
    department: Department
    group: ClassGroup
    student: Student
    other_student: Student
    class_committee: User
    dept_counsellor: User
    dept_leader: User
    school_counsellor: User  # the student is on their caseload
    off_caseload: User  # a school counsellor without the student on their caseload
    director: User
    other_counsellor: User  # a department counsellor of another department


@pytest.fixture
def world(campus) -> World:
    inst = campus.institution("XJU", name="湘江示范大学")
    dept = campus.department(inst, "Computing")
    other_dept = campus.department(inst, "History")
    group = campus.class_group(dept, "CS-2026-1")
    room = campus.room(inst, "101")
    student = campus.student(group, room, name="张三")
    student.guardian_name = "张父"
    other_student = campus.student(campus.class_group(other_dept, "HI-2026-1"), name="李四")
    w = World(
        institution=inst,
        department=dept,
        group=group,
        student=student,
        other_student=other_student,
        class_committee=campus.staff(inst, Role.CLASS_COMMITTEE, group=group),
        dept_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept),
        dept_leader=campus.staff(inst, Role.DEPT_LEADER, department=dept),
        school_counsellor=campus.staff(inst, Role.SCHOOL_COUNSELLOR),
        off_caseload=campus.staff(inst, Role.SCHOOL_COUNSELLOR),
        director=campus.staff(inst, Role.DIRECTOR),
        other_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=other_dept),
    )
    db.session.add(Caseload(counsellor_id=w.school_counsellor.id, student_id=student.id))
    campus.commit()
    return w


def campaign(
    institution: Institution, name: str, opens: datetime, *, students_see_report: bool = False
) -> Campaign:
    """A closed screening round named `name` that ran for two weeks from `opens`."""
    found = Campaign(
        institution_id=institution.id,
        name=name,
        instruments=["phq9", "gad7"],
        opens_at=opens,
        closes_at=opens + timedelta(days=14),
        students_see_report=students_see_report,
    )
    db.session.add(found)
    db.session.flush()
    return found


def _band(code: str, total: float) -> str | None:
    for band in load_instrument(code).bands:
        if band.value is not None and band.value.contains(total):
            return band.code
    return None


def screened(
    student: Student, round_: Campaign, at: datetime, flags: str = "", **totals: float
) -> list[ScreeningResult]:
    """The student's results in `round_` completed at `at`: one per instrument code given as a
    keyword (`phq9=12`), banded as the instrument bands its total; nothing is triaged."""
    assignment = CampaignAssignment(
        campaign_id=round_.id, student_id=student.id, started_at=at, completed_at=at
    )
    db.session.add(assignment)
    db.session.flush()
    results = []
    for code, total in totals.items():
        result = ScreeningResult(
            assignment_id=assignment.id,
            campaign_id=round_.id,
            student_id=student.id,
            institution_id=student.institution_id,
            instrument=code,
            instrument_version=load_instrument(code).version,
            answers={"1": 1},
            total=total,
            band=_band(code, total),
            flags=flags,
            completed_at=at,
        )
        db.session.add(result)
        results.append(result)
    db.session.commit()
    return results
