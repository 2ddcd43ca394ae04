"""Security fixtures: one school with a user for every role, and sensitive records that carry
canary strings, so a test can crawl every page as a role and look for what must not be there."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import timedelta

import pytest

from campus import clock
from campus.extensions import db
from campus.models import Caseload
from campus.models import Hospital
from campus.models import Role
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from casework.models import ContagionFollowUp
from casework.models import ContagionRelation
from casework.models import CrisisDocument
from casework.models import CrisisDocumentKind
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveReason
from referrals.models import PlanSection
from referrals.models import ReferralStatus
from referrals.models import ReturnPlanItem
from referrals.models import Urgency
from screening import campaigns
from screening import intake
from screening.models import ScreeningResult
from tests.factories import referral_row
from warning.models import EarlyWarning
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import Task
from warning.models import WarningEvent
from warning.policy import DEFAULT_POLICY_PATH

# Each sensitive field gets its own canary so a leak names the field that leaked.
CANARIES = {
    "score": "1975.25",
    "signal": "CANARY-SIGNAL-7c1e",
    "warning_reason": "CANARY-REASON-3b9d",
    "counsellor_note": "CANARY-NOTE-91af",
    "referral_reason": "CANARY-REFERRAL-REASON-55e0",
    "referral_summary": "CANARY-REFERRAL-SUMMARY-0d4c",
    "referral_internal": "CANARY-REFERRAL-INTERNAL-a2f7",
    "hospital_statement": "CANARY-STATEMENT-e6b3",
    "return_assessment": "CANARY-ASSESSMENT-4c8a",
    "crisis_narrative": "CANARY-CRISIS-NARRATIVE-1f3e",
}


@dataclass
class World:
    """The school, its people by role and the ids that fill URL parameters."""

    student: Student
    users: dict[Role, User]
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(campus) -> World:
    inst = campus.institution("XJU")
    province = campus.institution("HUNAN", name="Hunan Education Department", kind="province")
    dept = campus.department(inst, "Computing")
    group = campus.class_group(dept, "CS2601", grade=2026)
    room = campus.room(inst, "101")
    referred_to = campus.hospital(inst, "Xiangya Second Hospital")
    other_hospital = campus.hospital(inst, "Another Hospital")
    student = campus.student(group, room, name="Wang Fang", birth_date=date(2007, 3, 1))
    users = {
        Role.STUDENT: student.user,
        Role.DORM_INFORMANT: campus.staff(inst, Role.DORM_INFORMANT, room=room),
        Role.CLASS_COMMITTEE: campus.staff(inst, Role.CLASS_COMMITTEE, group=group),
        Role.DEPT_COUNSELLOR: campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept),
        Role.DEPT_LEADER: campus.staff(inst, Role.DEPT_LEADER, department=dept),
        Role.SCHOOL_COUNSELLOR: campus.staff(inst, Role.SCHOOL_COUNSELLOR),
        Role.DIRECTOR: campus.staff(inst, Role.DIRECTOR),
        Role.HOSPITAL_LIAISON: campus.staff(inst, Role.HOSPITAL_LIAISON, hospital=other_hospital),
        Role.ADMIN: campus.staff(inst, Role.ADMIN),
        Role.PROVINCE_AUDITOR: campus.staff(province, Role.PROVINCE_AUDITOR),
    }
    counsellor = users[Role.SCHOOL_COUNSELLOR]
    campus.session.add(Caseload(counsellor_id=counsellor.id, student_id=student.id))
    campus.commit()

    world = World(student=student, users=users)
    world.ids.update(
        student_id=student.id,
        class_id=group.id,
        department_id=dept.id,
        room_id=room.id,
        user_id=users[Role.DEPT_LEADER].id,
        role_assignment_id=users[Role.DEPT_LEADER].roles[0].id,
    )
    _screen_with_safety_answer(world, users[Role.ADMIN])
    _add_clinical_records(world, referred_to.id)
    campus.commit()
    return world


def _screen_with_safety_answer(world: World, admin: User) -> None:
    """A freshman campaign where the student answers PHQ-9 item 9 = 2: a red warning."""
    session = db.session
    spec = campaigns.CampaignSpec(
        name="2026 freshman intake",
        instruments=["phq9"],
        opens_at=clock.now() - timedelta(days=1),
        closes_at=clock.now() + timedelta(days=14),
        grades=[2026],
        department_ids=[],
        reminder_every_days=3,
    )
    campaign = campaigns.save_campaign(session, admin.institution, admin, spec)
    assignment = intake.own_assignments(session, world.student.user)[0]
    intake.give_consent(
        session,
        assignment,
        intake.ConsentAnswers(informed=True, sensitive_data=True),
        text="consent",
        locale="en",
        ip=None,
        now=clock.now(),
    )
    answers = dict.fromkeys(range(1, 9), 2) | {9: 2}
    result = intake.submit(
        session,
        assignment,
        intake.instrument("phq9"),
        answers,
        token="t1",
        locale="en",
        now=clock.now(),
    )
    world.ids.update(campaign_id=campaign.id, screening_assignment_id=assignment.id)
    world.ids["result_id"] = result.id


def _add_clinical_records(world: World, hospital_id: int) -> None:
    session = db.session
    student, counsellor = world.student, world.users[Role.SCHOOL_COUNSELLOR]
    session.get(ScreeningResult, world.ids["result_id"]).total = float(CANARIES["score"])
    warning = session.query(EarlyWarning).filter_by(student_id=student.id).one()
    warning.reason = f"red: {CANARIES['warning_reason']}"
    for signal in warning.signals:
        signal.label = CANARIES["signal"]
    session.add(
        WarningEvent(
            warning_id=warning.id,
            actor_id=counsellor.id,
            kind="contact",
            method="phone",
            note=CANARIES["counsellor_note"],
        )
    )
    task = Task(
        institution_id=student.institution_id,
        student_id=student.id,
        warning_id=warning.id,
        kind="peer_watch",
        text="Please keep company with your classmate this week",
        assignee_class_id=student.class_id,
        due_at=clock.now() + timedelta(days=7),
    )
    referral = referral_row(
        student,
        session.get(Hospital, hospital_id),
        counsellor,
        clock.now(),
        ReferralStatus.SENT,
        warning_id=warning.id,
        reason=CANARIES["referral_reason"],
        screening_summary=CANARIES["referral_summary"],
        internal_note=CANARIES["referral_internal"],
        urgency=Urgency.URGENT,
        disclosed_fields="reason",
    )
    session.add(task)
    session.flush()
    leave = LeaveOfAbsence(
        institution_id=student.institution_id,
        student_id=student.id,
        referral_id=referral.id,
        start_date=clock.now().date(),
        expected_return_date=clock.now().date() + timedelta(days=180),
        reason_category=LeaveReason.MENTAL_HEALTH,
        created_by_id=counsellor.id,
        statement_received_on=clock.now().date(),
        statement_hospital="Xiangya Second Hospital",
        statement_summary=CANARIES["hospital_statement"],
        assessment_note=CANARIES["return_assessment"],
    )
    draft = PolicyVersion(
        institution_id=student.institution_id,
        version="2026-draft",
        yaml_text=DEFAULT_POLICY_PATH.read_text(encoding="utf-8"),
        status=PolicyStatus.DRAFT,
        created_by_id=world.users[Role.ADMIN].id,
    )
    note = Notification(user_id=world.users[Role.CLASS_COMMITTEE].id, text="A task for you")
    session.add_all([leave, draft, note])
    session.flush()
    plan_task = Task(
        institution_id=student.institution_id,
        student_id=student.id,
        kind="return_plan",
        text="Help with the timetable",
        assignee_user_id=counsellor.id,
        due_at=clock.now() + timedelta(days=30),
    )
    session.add(plan_task)
    session.flush()
    item = ReturnPlanItem(
        leave_id=leave.id,
        section=PlanSection.ACADEMIC,
        text="Help with the timetable",
        owner_id=counsellor.id,
        due_date=clock.now().date() + timedelta(days=30),
        task_id=plan_task.id,
    )
    session.add(item)
    session.flush()
    world.ids.update(_add_crisis_record(world, warning, counsellor))
    world.ids.update(
        warning_id=warning.id,
        task_id=task.id,
        referral_id=referral.id,
        leave_id=leave.id,
        item_id=item.id,
        version_id=draft.id,
        note_id=note.id,
    )


def _add_crisis_record(world: World, warning: EarlyWarning, counsellor: User) -> dict[str, int]:
    """A crisis record on the red warning, with one entry, a guardian notice and a follow-up."""
    session = db.session
    student = world.student
    record = CrisisRecord(
        institution_id=student.institution_id,
        student_id=student.id,
        warning_id=warning.id,
        opened_by_id=counsellor.id,
    )
    session.add(record)
    session.flush()
    document = CrisisDocument(
        record_id=record.id,
        institution_id=student.institution_id,
        student_id=student.id,
        kind=CrisisDocumentKind.GUARDIAN_NOTICE,
        generated_by_id=counsellor.id,
    )
    follow_up = ContagionFollowUp(
        record_id=record.id,
        institution_id=student.institution_id,
        student_id=student.id,
        relation=ContagionRelation.WITNESS,
        added_by_id=counsellor.id,
    )
    session.add_all(
        [
            CrisisEntry(
                record_id=record.id,
                institution_id=student.institution_id,
                student_id=student.id,
                occurred_at=clock.now() - timedelta(hours=2),
                place="Dorm 101",
                narrative=CANARIES["crisis_narrative"],
                actions=["accompanied"],
                submission="security-world",
                author_id=counsellor.id,
            ),
            document,
            follow_up,
        ]
    )
    session.flush()
    return {"record_id": record.id, "document_id": document.id, "follow_up_id": follow_up.id}
