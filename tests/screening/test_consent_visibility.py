"""The consent's "who sees what" says what each role really sees: it is compared here with the
queries and predicates that decide access, for a student with a red warning from a safety answer,
peer tasks, and a referral sent to a hospital."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from referrals.disclosure import DISCLOSABLE
from referrals.models import Referral
from referrals.permissions import liaison_clause
from screening import visibility
from screening.models import Consent
from screening.visibility import Seen
from tests.conftest import sign_in
from tests.factories import S
from tests.factories import referral_in
from tests.factories import signal
from tests.screening.test_intake import _assignment
from tests.screening.test_intake import _consent
from warning import actions
from warning import services
from warning.models import EarlyWarning
from warning.models import Task
from warning.permissions import allowed_actions
from warning.permissions import can_complete_task


@dataclass
class World:
    student: Student
    staff: dict[Role, User]
    case_counsellor: User


@pytest.fixture
def world(campus, school) -> World:
    """`school.student` in room 101 with a red warning raised by PHQ-9 item 9, the peer tasks
    her department counsellor hands out for its peer watch, and a referral sent to a hospital;
    one user per staff role."""
    student = school.student
    room = campus.room(school.institution, "101")
    student.room_id = room.id
    hospital = campus.hospital(school.institution, "Brain Hospital")
    inst = school.institution
    staff = {
        Role.DORM_INFORMANT: campus.staff(inst, Role.DORM_INFORMANT, room=room),
        Role.CLASS_COMMITTEE: school.committee,
        Role.DEPT_COUNSELLOR: campus.staff(inst, Role.DEPT_COUNSELLOR, department=school.computing),
        Role.DEPT_LEADER: campus.staff(inst, Role.DEPT_LEADER, department=school.computing),
        Role.SCHOOL_COUNSELLOR: school.counsellor,
        Role.DIRECTOR: campus.staff(inst, Role.DIRECTOR),
        Role.HOSPITAL_LIAISON: campus.staff(inst, Role.HOSPITAL_LIAISON, hospital=hospital),
        Role.ADMIN: school.admin,
        Role.PROVINCE_AUDITOR: campus.staff(inst, Role.PROVINCE_AUDITOR),
    }
    case_counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    safety = frozenset({"phq9_item9", "safety"})
    label = services.screening_label("phq9", safety, None, "2026 intake", clock.now())
    warning = signal(student, label, instrument="phq9", total=8, flags=safety)
    actions.assign_peer_watch(
        db.session,
        staff[Role.DEPT_COUNSELLOR],
        warning,
        warning.version,
        clock.now(),
        due_at=clock.now() + timedelta(days=7),
    )
    db.session.add(Caseload(counsellor_id=case_counsellor.id, student_id=student.id))
    db.session.commit()
    referral_in(S.SENT, warning, case_counsellor, hospital, liaison=staff[Role.HOSPITAL_LIAISON])
    return World(student, staff, case_counsellor)


def _sees(user: User, student: Student, need: Capability) -> bool:
    found = db.session.scalar(
        select(Student.id).where(Student.id == student.id, student_filter(user, need))
    )
    return found is not None


def _really_seen(user: User, student: Student) -> set[Seen]:
    """What `user` can actually reach of `student`, asked of the live rules."""
    seen = set()
    if _sees(user, student, Capability.ROSTER):
        seen.add(Seen.ROSTER)
    if _sees(user, student, Capability.WARNING):
        seen.add(Seen.WARNING)
    if _sees(user, student, Capability.CLINICAL):
        seen.add(Seen.ANSWERS)
    tasks = db.session.scalars(select(Task).where(Task.student_id == student.id)).all()
    if any(can_complete_task(user, task) for task in tasks) and not seen & {Seen.WARNING}:
        seen.add(Seen.TASKS)
    referrals = db.session.scalars(select(Referral).where(liaison_clause(user))).all()
    if any(r.student_id == student.id for r in referrals):
        seen.add(Seen.REFERRAL)
    return seen


def _stated(role: Role) -> set[Seen]:
    stated = set(visibility.seen_by(role)) - {Seen.AGGREGATES}
    return {Seen.ANSWERS if s is Seen.CASELOAD_ANSWERS else s for s in stated}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.STUDENT])
def test_the_consent_states_what_each_role_really_sees(world, role):
    # A school counsellor's answers are stated "on their caseload": compare with one who has it.
    user = world.case_counsellor if role is Role.SCHOOL_COUNSELLOR else world.staff[role]
    assert _stated(role) == _really_seen(user, world.student)


def test_a_school_counsellor_sees_answers_only_on_their_caseload(world):
    assert Seen.ANSWERS not in _really_seen(world.staff[Role.SCHOOL_COUNSELLOR], world.student)
    assert Seen.ANSWERS in _really_seen(world.case_counsellor, world.student)
    assert Seen.CASELOAD_ANSWERS in visibility.seen_by(Role.SCHOOL_COUNSELLOR)


def test_the_department_counsellor_sees_the_safety_flag_and_the_consent_says_so(
    world, client, login, school, make_campaign
):
    counsellor = login(world.staff[Role.DEPT_COUNSELLOR])
    page = counsellor.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    assert "PHQ-9 safety item positive" in page

    assignment = _assignment(make_campaign(), world.student)
    sign_in(client, world.student.user)
    client.post("/language/zh_CN", data={"next": "/"})
    consent = client.get(f"/screening/a/{assignment.id}/consent").get_data(as_text=True)
    assert "院系辅导员、院系分管领导" in consent
    assert "关于自伤或自杀想法的题目的作答需要关注" in consent
    assert "仅心理中心的专业人员可以查看" not in consent
    assert "宿舍信息员" in consent
    assert "请他们陪伴你或关心你近况的任务" in consent
    assert "您" not in consent


def test_the_consent_record_keeps_the_statement_the_student_agreed_to(world, client, make_campaign):
    assignment = _assignment(make_campaign(), world.student)
    sign_in(client, world.student.user)
    client.post("/language/zh_CN", data={"next": "/"})
    assert _consent(client, assignment).status_code == 302
    stored = db.session.scalar(select(Consent.consent_text))
    assert "院系辅导员、院系分管领导" in stored
    assert "关于自伤或自杀想法的题目的作答需要关注" in stored


def test_nothing_is_promised_of_a_hospital_that_may_be_sent_a_screening_summary():
    assert "screening_summary" in DISCLOSABLE
    (hospital,) = [a for a in visibility.audiences() if Role.HOSPITAL_LIAISON in a.roles]
    assert hospital.never == ()


def test_the_administrator_is_said_to_oversee_warnings_and_can_act_on_none(world):
    warning = db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.student_id == world.student.id)
    )
    assert allowed_actions(world.staff[Role.ADMIN], warning) == []
    assert allowed_actions(world.staff[Role.DEPT_COUNSELLOR], warning) != []
    (admin,) = [a for a in visibility.audiences() if Role.ADMIN in a.roles]
    assert admin.oversees
    assert Seen.ANSWERS in admin.never
    assert not any(a.oversees for a in visibility.audiences() if Role.DEPT_COUNSELLOR in a.roles)


def test_a_phone_reads_the_essentials_first_and_the_record_keeps_them(world, client, make_campaign):
    assignment = _assignment(make_campaign(), world.student)
    sign_in(client, world.student.user)
    client.post("/language/en", data={"next": "/"})
    page = client.get(f"/screening/a/{assignment.id}/consent").get_data(as_text=True)
    doc = lxml.html.fromstring(page)
    [short] = doc.xpath("//section[@aria-labelledby='in-short-h']")
    said = short.text_content()
    assert "Administrator: sees whether you have a warning" in said
    assert "never your answers or scores. Every look is logged." in said
    assert "Dorm informant, Class psychology committee member never see your answers" in said
    assert "400-161-9995" in said
    # The full statement is all there, folded under the essentials, before the form.
    [full] = doc.xpath("//details[contains(@class, 'consent-full')]")
    assert full.xpath(".//section[@aria-labelledby='who-sees-h']//dl[@class='who-sees']")
    assert "do not handle your warning themselves" in full.text_content()
    assert page.index("in-short-h") < page.index("consent-full") < page.index("consent-form")

    assert _consent(client, assignment).status_code == 302
    stored = db.session.scalar(select(Consent.consent_text))
    assert stored.startswith("What this is: 1 short questionnaire")
    assert "Administrator: sees whether you have a warning" in stored
    assert "do not handle your warning themselves" in stored
    assert "withdraw your consent later under My data and consent." in stored
    assert "<a" not in stored
