"""Warning-domain fixtures: a small university with a student in a class and a dorm room."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campus.models import ClassGroup, Department, DormRoom, Institution, Student


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
