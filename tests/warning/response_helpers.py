"""Fixtures for the intervention tests: a response network around one student, and warnings
created directly (as the early-warning service would) with their response planned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import func, select

from campus import clock
from campus.extensions import db
from campus.models import ClassGroup, Department, DormRoom, Institution, Role, Student, User
from warning.models import Deadline, EarlyWarning, WarningEvent
from warning.response import plan_response

LEVEL_WORDS = ("red", "yellow", "blue", "Red", "Yellow", "Blue", "PHQ", "score")


@dataclass
class Network:
    institution: Institution
    department: Department
    group: ClassGroup
    room: DormRoom
    student: Student
    dorm_informant: User
    class_committee: User
    dept_counsellor: User
    dept_leader: User
    school_counsellor: User
    director: User
    other_counsellor: User
    other_student: Student


@pytest.fixture
def network(campus) -> Network:
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    other_dept = campus.department(inst, "History")
    group = campus.class_group(dept, "CS-2026-1")
    other_group = campus.class_group(other_dept, "HI-2026-1")
    room = campus.room(inst, "101")
    student = campus.student(group, room, name="张三")
    other_student = campus.student(other_group, campus.room(inst, "202"), name="李四")
    net = Network(
        institution=inst,
        department=dept,
        group=group,
        room=room,
        student=student,
        dorm_informant=campus.staff(inst, Role.DORM_INFORMANT, room=room),
        class_committee=campus.staff(inst, Role.CLASS_COMMITTEE, group=group),
        dept_counsellor=campus.staff(
            inst, Role.DEPT_COUNSELLOR, department=dept, email="counsellor@xju.test"
        ),
        dept_leader=campus.staff(inst, Role.DEPT_LEADER, department=dept, email="leader@xju.test"),
        school_counsellor=campus.staff(inst, Role.SCHOOL_COUNSELLOR, email="centre@xju.test"),
        director=campus.staff(inst, Role.DIRECTOR, email="director@xju.test"),
        other_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=other_dept),
        other_student=other_student,
    )
    campus.commit()
    return net


def open_warning(student: Student, level: int, now: datetime | None = None) -> EarlyWarning:
    """An open warning at `level` with its response planned, committed."""
    now = now or clock.now()
    warning = EarlyWarning(
        student_id=student.id,
        institution_id=student.institution_id,
        department_id=student.department_id,
        level=level,
        computed_level=level,
        reason=f"level {level}: PHQ-9 = 21 in the 2026 freshman screening",
        policy_version="default-1",
        owner_tier=1,
        owner_since=now,
        opened_at=now,
    )
    db.session.add(warning)
    db.session.flush()
    plan_response(db.session, warning, None, now)
    db.session.commit()
    return warning


def open_deadlines(warning: EarlyWarning) -> dict[str, Deadline]:
    rows = db.session.scalars(
        select(Deadline).where(
            Deadline.warning_id == warning.id,
            Deadline.met_at.is_(None),
            Deadline.escalated_at.is_(None),
            Deadline.superseded_at.is_(None),
        )
    ).all()
    return {d.kind: d for d in rows}


def events(warning: EarlyWarning, kind: str) -> int:
    return db.session.scalar(
        select(func.count(WarningEvent.id)).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == kind
        )
    )
