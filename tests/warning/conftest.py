"""Warning-domain fixtures: a small university with a student in a class and a dorm room, and the
response network of people around one student."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormRoom
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from tests.factories import TERM_START
from tests.factories import went_live


@dataclass
class Unit:
    institution: Institution
    department: Department
    group: ClassGroup
    room: DormRoom
    student: Student


@pytest.fixture
def unit(campus) -> Unit:
    """One institution, one department, one class, one room and a student living in it."""
    inst = campus.institution("XJU")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept, "CS-2026-1")
    room = campus.room(inst, "101")
    student = campus.student(group, room, name="Li Hua")
    campus.commit()
    return Unit(inst, dept, group, room, student)


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
    # In use since the start of term: the reporters owe the reports of the weeks before today.
    went_live(TERM_START, inst, net.dorm_informant, net.class_committee)
    campus.commit()
    return net
