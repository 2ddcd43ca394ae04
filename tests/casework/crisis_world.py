"""The people around one crisis: a student with a red warning, roommates and classmates, the
staff who read the record and those who must not, and the peers who check in."""

from __future__ import annotations

from dataclasses import dataclass

from campus.models import Caseload
from campus.models import Role
from campus.models import Student
from campus.models import User
from tests.conftest import Campus
from tests.factories import open_warning
from warning.models import EarlyWarning
from warning.policy import Level


@dataclass
class CrisisWorld:
    student: Student
    roommates: list[Student]
    classmate: Student
    elsewhere: Student  # another department: a witness found by student number
    counsellor: User  # school counsellor with the student on the caseload
    other_counsellor: User  # school counsellor without: no clinical scope
    director: User
    dept_counsellor: User
    other_dept_counsellor: User
    dept_leader: User
    committee: User
    dorm: User
    other_dorm: User
    warning: EarlyWarning


def crisis_world(campus: Campus, *, level: int = Level.RED) -> CrisisWorld:
    inst = campus.institution("XJU", "湘江大学")
    inst.on_duty_phone = "0731-8888-0000"
    computing = campus.department(inst, "Computing")
    history = campus.department(inst, "History")
    group = campus.class_group(computing, "CS2601")
    room = campus.room(inst, "305")
    other_room = campus.room(inst, "306")
    student = campus.student(group, room, name="李晓雨", number="2026001")
    student.guardian_name = "李建国"
    roommates = [
        campus.student(group, room, name="王明", number="2026002"),
        campus.student(group, room, name="张伟", number="2026003"),
    ]
    classmate = campus.student(group, other_room, name="陈静", number="2026004")
    elsewhere = campus.student(campus.class_group(history, "HI2601"), name="赵雷", number="2026099")
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    people = {
        "other_counsellor": campus.staff(inst, Role.SCHOOL_COUNSELLOR),
        "director": campus.staff(inst, Role.DIRECTOR),
        "dept_counsellor": campus.staff(inst, Role.DEPT_COUNSELLOR, department=computing),
        "other_dept_counsellor": campus.staff(inst, Role.DEPT_COUNSELLOR, department=history),
        "dept_leader": campus.staff(inst, Role.DEPT_LEADER, department=computing),
        "committee": campus.staff(inst, Role.CLASS_COMMITTEE, group=group),
        "dorm": campus.staff(inst, Role.DORM_INFORMANT, room=room),
        "other_dorm": campus.staff(inst, Role.DORM_INFORMANT, room=other_room),
    }
    campus.session.add(Caseload(counsellor_id=counsellor.id, student_id=student.id))
    campus.commit()
    return CrisisWorld(
        student=student,
        roommates=roommates,
        classmate=classmate,
        elsewhere=elsewhere,
        counsellor=counsellor,
        warning=open_warning(student, level),
        **people,
    )


ENTRY = {
    "submission": "first-entry-token",
    "occurred_at": "2026-09-14T08:30",
    "place": "宿舍 305",
    "narrative": "Found by roommates at 08:20 on the balcony railing; talked down by staff.",
    "present": "王明, 张伟, dorm manager",
    "actions": ["accompanied", "hospital"],
    "hospital": "湖南省脑科医院",
    # The call to the family, saved as a family contact that meets the guardian step.
    "family_outcome": "reached",
    "family_name": "李建国",
    "family_relation": "父亲",
    "family_channel": "phone",
    "family_at": "2026-09-14T08:50",
}
