"""A realistic demo university: departments, classes, dorms, ~2,000 students, staff in every role.

Demo accounts share one password so a newcomer can try every role; each domain then adds its own
demo data through its `demo.seed(session, institution)`.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.auth import hash_password
from campus.models import ClassGroup
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import Hospital
from campus.models import Institution
from campus.models import MfaPolicy
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import StaffingEntry
from campus.models import StaffPost
from campus.models import Student
from campus.models import User

DEMO_PASSWORD = "xinqiao-demo"  # noqa: S105 - printed for newcomers on purpose
DEMO_CODE = "XJU"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁"
    "谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
# Given-name characters by the gender they are read as, so a name never contradicts the gender on
# the record (a 吕艳 recorded as 男 confuses everyone who looks at the demo).
GIVEN = {
    "M": "伟强磊军洋勇杰涛明超刚彬鹏浩宇轩俊博凯斌峰毅",
    "F": "芳娜敏静丽艳娟秀霞桂英玉萍红玲芬燕欣怡涵萱婷雪琳",
}
DEPARTMENTS = (
    "计算机学院",
    "数学与统计学院",
    "外国语学院",
    "经济管理学院",
    "土木工程学院",
    "医学院",
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    institution: str
    login: str


def _name(rng: random.Random, gender: str, surname: str | None = None) -> str:
    """A name read as `gender` ("M" or "F"), with `surname` or a drawn one."""
    given = "".join(rng.choice(GIVEN[gender]) for _ in range(rng.choice((1, 2))))
    return (surname or rng.choice(SURNAMES)) + given


def guardian_relation(guardian_name: str) -> str:
    """母亲 or 父亲, as the demo guardian's name reads: the demo's family contacts must agree."""
    return "母亲" if guardian_name[-1] in GIVEN["F"] else "父亲"


def _staff(
    session: Session,
    institution: Institution,
    login: str,
    name: str,
    password_hash: str,
    *assignments: RoleAssignment,
) -> User:
    user = User(
        institution_id=institution.id,
        login=login,
        name=name,
        password_hash=password_hash,
        must_change_password=False,
        email=f"{login}@{institution.code.lower()}.example.edu.cn",
    )
    user.roles.extend(assignments)
    session.add(user)
    return user


def seed(session: Session, students: int = 2000, today: date | None = None) -> list[DemoLogin]:
    """Create the demo university unless it exists; returns the demo logins to print."""
    today = today or date.today()
    if session.scalar(select(Institution).where(Institution.code == DEMO_CODE)):
        return demo_logins(session)
    rng = random.Random(20260901)
    password_hash = hash_password(DEMO_PASSWORD)  # hashed once: argon2 is slow on purpose
    province = Institution(
        code="HUNAN",
        name="湖南省教育厅",
        name_en="Hunan Provincial Department of Education",
        kind="province",
    )
    uni = Institution(
        code=DEMO_CODE,
        name="湘江大学",
        name_en="Xiangjiang University",
        on_duty_phone="0731-8888-0000",
    )
    other = Institution(
        code="LSU", name="麓山学院", name_en="Lushan College", on_duty_phone="0731-8666-0000"
    )
    session.add_all([province, uni, other])
    session.flush()
    # Two-factor sign-in is off in the demo, so every demo login works with the shared password;
    # the administrator's settings page says so in a banner (see `campus.mfa`).
    session.add_all(
        MfaPolicy(institution_id=i.id, required_roles="") for i in (province, uni, other)
    )
    rooms = _dorms(session, uni, buildings=6, rooms_per_building=90)
    classes = _classes(session, uni, today.year)
    _students(session, uni, classes, rooms, students, rng, password_hash, today)
    _demo_staff(session, uni, classes, rooms, password_hash)
    _other_institution(session, other, rng, password_hash, today)
    _staff(
        session,
        province,
        "auditor",
        "省厅审计员",
        password_hash,
        RoleAssignment(role=Role.PROVINCE_AUDITOR, institution_id=province.id),
    )
    session.flush()
    from campus import DOMAINS

    for domain in DOMAINS[1:]:
        if importlib.util.find_spec(f"{domain}.demo") is not None:
            importlib.import_module(f"{domain}.demo").seed(session, uni)
    session.commit()
    return demo_logins(session)


def _dorms(
    session: Session, uni: Institution, buildings: int, rooms_per_building: int
) -> list[DormRoom]:
    rooms = []
    for b in range(1, buildings + 1):
        building = DormBuilding(institution_id=uni.id, name=f"{b}栋")
        session.add(building)
        for r in range(rooms_per_building):
            rooms.append(DormRoom(building=building, number=f"{100 * (r // 30 + 1) + r % 30 + 1}"))
    session.add_all(rooms)
    return rooms


def _classes(session: Session, uni: Institution, year: int) -> list[ClassGroup]:
    classes = []
    for name in DEPARTMENTS:
        department = Department(institution=uni, name=name)
        session.add(department)
        for grade in (year, year - 1):
            for n in (1, 2):
                classes.append(
                    ClassGroup(
                        department=department, grade=grade, name=f"{name[:2]}{grade % 100}{n:02d}班"
                    )
                )
    session.add_all(classes)
    session.flush()
    return classes


def _students(
    session: Session,
    uni: Institution,
    classes: list[ClassGroup],
    rooms: list[DormRoom],
    count: int,
    rng: random.Random,
    password_hash: str,
    today: date,
) -> None:
    # Dorms are single-gender: men fill the first half of the rooms, women the second, four to a
    # room in the order they enrol.
    half = len(rooms) // 2
    filled = {"M": 0, "F": 0}
    for i in range(count):
        group = classes[i % len(classes)]
        age = 18 if group.grade == today.year else 19
        birth = date(today.year - age, 1, 1) + timedelta(days=rng.randrange(0, 365))
        student = _student(session, uni, f"{group.grade}{i + 1:05d}", group, rng, password_hash)
        student.birth_date = birth
        first = 0 if student.gender == "M" else half
        student.room = rooms[first + filled[student.gender] // 4 % half]
        filled[student.gender] += 1
        # The guardian is the father (the student's surname) or the mother (her own).
        if rng.random() < 0.5:
            student.guardian_name = _name(rng, "M", surname=student.name[0])
        else:
            student.guardian_name = _name(rng, "F")
        student.guardian_phone = f"139{rng.randrange(10**7, 10**8)}"
    session.flush()


def _student(
    session: Session,
    institution: Institution,
    number: str,
    group: ClassGroup,
    rng: random.Random,
    password_hash: str,
) -> Student:
    """A demo student of `group` who signs in with their student number."""
    gender = rng.choice("MF")
    user = User(
        institution_id=institution.id,
        login=number,
        name=_name(rng, gender),
        password_hash=password_hash,
        must_change_password=False,
    )
    user.roles.append(RoleAssignment(role=Role.STUDENT, institution_id=institution.id))
    student = Student(
        institution_id=institution.id,
        student_number=number,
        name=user.name,
        user=user,
        gender=gender,
        department=group.department,
        class_group=group,
    )
    session.add(student)
    return student


def _demo_staff(
    session: Session,
    uni: Institution,
    classes: list[ClassGroup],
    rooms: list[DormRoom],
    password_hash: str,
) -> None:
    hospital = Hospital(
        institution_id=uni.id,
        name="湖南省脑科医院",
        name_en="Hunan Brain Hospital",
        department="心理科",
        department_en="Department of Psychology",
        green_channel_contact="0731-8500-0000",
    )
    session.add(hospital)
    session.flush()
    inst = uni.id
    _staff(
        session,
        uni,
        "admin",
        "系统管理员",
        password_hash,
        RoleAssignment(role=Role.ADMIN, institution_id=inst),
    )
    _staff(
        session,
        uni,
        "director",
        "中心主任",
        password_hash,
        RoleAssignment(role=Role.DIRECTOR, institution_id=inst),
    )
    teachers = [
        _staff(
            session,
            uni,
            f"sc0{n}",
            f"专职心理教师{n}",
            password_hash,
            RoleAssignment(role=Role.SCHOOL_COUNSELLOR, institution_id=inst),
        )
        for n in (1, 2)
    ]
    for n, teacher in enumerate(teachers, start=1):
        teacher.phone = f"0731-8888-010{n}"
    _staffing_register(session, uni, teachers)
    _staff(
        session,
        uni,
        "liaison",
        "医院联络员",
        password_hash,
        RoleAssignment(role=Role.HOSPITAL_LIAISON, institution_id=inst, hospital_id=hospital.id),
    )
    departments = sorted({c.department for c in classes}, key=lambda d: d.id)
    for n, department in enumerate(departments, start=1):
        _staff(
            session,
            uni,
            f"dc{n:02d}",
            f"{department.name}辅导员",
            password_hash,
            RoleAssignment(
                role=Role.DEPT_COUNSELLOR, institution_id=inst, department_id=department.id
            ),
        )
        _staff(
            session,
            uni,
            f"dl{n:02d}",
            f"{department.name}分管领导",
            password_hash,
            RoleAssignment(role=Role.DEPT_LEADER, institution_id=inst, department_id=department.id),
        )
    # Committee members and dorm informants are students with an extra role, each one of them:
    # an informant who also sat on her class's committee would read her whole class's tasks.
    committee: set[int] = set()
    for group in classes:
        member = session.scalar(
            select(Student).where(Student.class_id == group.id).order_by(Student.student_number)
        )
        # `_students` filled every class, and gave every student an account.
        assert member is not None
        assert member.user is not None
        member.user.roles.append(
            RoleAssignment(role=Role.CLASS_COMMITTEE, institution_id=inst, class_id=group.id)
        )
        committee.add(member.id)
    half = len(rooms) // 2
    for room in rooms[:100] + rooms[half : half + 100]:  # men's rooms and women's
        head = session.scalar(
            select(Student)
            .where(Student.room_id == room.id, Student.id.not_in(committee))
            .order_by(Student.student_number)
        )
        if head is not None:
            assert head.user is not None  # `_students` gave every student an account
            head.user.roles.append(
                RoleAssignment(role=Role.DORM_INFORMANT, institution_id=inst, room_id=room.id)
            )


def _staffing_register(session: Session, uni: Institution, teachers: list[User]) -> None:
    """The centre's teachers: the two full-time ones with accounts, one who left last summer and
    a part-time teacher without an account (neither counts towards the 1 : 4000 ratio today)."""
    session.flush()
    session.add_all(
        [
            *(
                StaffingEntry(
                    institution_id=uni.id,
                    user_id=teacher.id,
                    person_name=teacher.name,
                    post=StaffPost.FULL_TIME,
                    starts_on=date(2021, 9, 1),
                )
                for teacher in teachers
            ),
            StaffingEntry(
                institution_id=uni.id,
                person_name="周老师",
                post=StaffPost.FULL_TIME,
                starts_on=date(2019, 9, 1),
                ends_on=date(2025, 7, 31),
            ),
            StaffingEntry(
                institution_id=uni.id,
                person_name="吴老师",
                post=StaffPost.PART_TIME,
                starts_on=date(2023, 3, 1),
            ),
        ]
    )


def _other_institution(
    session: Session, other: Institution, rng: random.Random, password_hash: str, today: date
) -> None:
    """A second, small school so every scope test and demo shows two institutions apart."""
    department = Department(institution=other, name="文学院")
    group = ClassGroup(department=department, grade=today.year, name="文学2601班")
    session.add_all([department, group])
    for i in range(40):
        student = _student(session, other, f"L{today.year}{i + 1:04d}", group, rng, password_hash)
        student.birth_date = date(today.year - 18, 6, 1)
    _staff(
        session,
        other,
        "admin",
        "麓山管理员",
        password_hash,
        RoleAssignment(role=Role.ADMIN, institution_id=other.id),
    )
    session.flush()


PEER_ROLES = (Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)


def peer_holders(institution_id: int) -> Select[tuple[int]]:
    """The accounts holding a class committee member's or dorm informant's role there."""
    return select(RoleAssignment.user_id).where(
        RoleAssignment.institution_id == institution_id, RoleAssignment.role.in_(PEER_ROLES)
    )


def printed_informant(session: Session, institution_id: int) -> RoleAssignment | None:
    """The dorm informant's role the demo prints: the first (by account) with a roommate who
    holds no peer role, so the warning demo can give her room a case (`warning.demo`) and her
    task list shows her work; the first room heads' roommates all sit on class committees."""
    roommate = select(Student.id).where(
        Student.room_id == RoleAssignment.room_id,
        Student.user_id.not_in(peer_holders(institution_id)),
    )
    return session.scalar(
        select(RoleAssignment)
        .where(
            RoleAssignment.institution_id == institution_id,
            RoleAssignment.role == Role.DORM_INFORMANT,
            roommate.exists(),
        )
        .order_by(RoleAssignment.user_id)
        .limit(1)
    )


def demo_logins(session: Session) -> list[DemoLogin]:
    """The logins to print: one per role, with real numbers for the student-held roles."""

    def holder(role: Role) -> str:
        login = session.scalar(
            select(User.login)
            .join(User.roles)
            .join(Institution)
            .where(Institution.code == DEMO_CODE, RoleAssignment.role == role)
            .order_by(User.id)
        )
        return login or "-"

    uni = session.scalar(select(Institution.id).where(Institution.code == DEMO_CODE))
    informant = printed_informant(session, uni) if uni is not None else None
    freshman = session.scalar(
        select(Student.student_number)
        .join(Institution, Institution.id == Student.institution_id)
        .where(Institution.code == DEMO_CODE)
        .order_by(Student.student_number.desc())
    )
    return [
        DemoLogin("administrator", DEMO_CODE, "admin"),
        DemoLogin("centre director", DEMO_CODE, "director"),
        DemoLogin("school counsellor", DEMO_CODE, "sc01"),
        DemoLogin("trainee counsellor, sc01 supervises", DEMO_CODE, "sc02"),
        DemoLogin("department counsellor", DEMO_CODE, "dc01"),
        DemoLogin("department leader", DEMO_CODE, "dl01"),
        DemoLogin("class psychology committee member", DEMO_CODE, holder(Role.CLASS_COMMITTEE)),
        DemoLogin("dorm informant", DEMO_CODE, informant.user.login if informant else "-"),
        DemoLogin("hospital liaison", DEMO_CODE, "liaison"),
        DemoLogin("student", DEMO_CODE, freshman or "-"),
        DemoLogin("province auditor", "HUNAN", "auditor"),
    ]
