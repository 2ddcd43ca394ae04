"""Contagion follow-up after a crisis: the roommates, classmates and witnesses a crisis touched.

From the crisis record the counsellor lists the affected students; each gets a check-in task
through the usual tiers, with nothing about the crisis, and stays on the follow-up list until a
counsellor clears them (with a note) or escalates them to a warning signal through the warning
domain's signal service. A dorm informant or class committee member reads it as every peer task
reads ("Please keep company with X and see how they are doing", `warning.response
.PEER_TASK_TEXT`); a department counsellor reads staff words (`STAFF_CHECK_IN_TEXT`): a check-in
is part of their work, and what they find is what the follow-up list waits for.

Which tier checks in, by relation: a roommate, the dorm informant of the room (the class
committee when the student has no room); a classmate, the class psychology committee member; a
witness, friend or anyone else, the department counsellor of the affected student's department
(they may be in no shared class or room, and seeing a crisis is more than a peer should carry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import notify
from casework.models import ContagionFollowUp
from casework.models import ContagionRelation
from casework.models import CrisisRecord
from warning import services as warnings
from warning.labels import Label
from warning.models import OwnerTier
from warning.models import SignalSource
from warning.models import Task
from warning.models import TaskClosed
from warning.policy import Level
from warning.response import TASKS_LINK
from warning.response import notify_new_tasks
from warning.response import peer_task_text

TASK_KIND = "contagion_check_in"
CHECK_IN_WITHIN = timedelta(days=7)
RELATION_TIER = {
    ContagionRelation.ROOMMATE: OwnerTier.DORM,
    ContagionRelation.CLASSMATE: OwnerTier.CLASS,
    ContagionRelation.WITNESS: OwnerTier.DEPARTMENT,
    ContagionRelation.FRIEND: OwnerTier.DEPARTMENT,
    ContagionRelation.OTHER: OwnerTier.DEPARTMENT,
}
# What a department counsellor's check-in says; the task list shows the student number beside
# it, and the note they complete it with is shown on the follow-up list.
STAFF_CHECK_IN_TEXT = N_("Check in with %(name)s and see how they are doing; record what you find")
# The label of the signal an escalation records, shown on the affected student's warning page.
ESCALATION_LABEL = N_("Follow-up after a crisis nearby: %(text)s")
ESCALATION_LEVELS = (Level.BLUE, Level.YELLOW, Level.RED)


class ContagionError(ValueError):
    """The request breaks a rule of the follow-up; the message says which (shown to the user)."""


@dataclass(frozen=True)
class Candidates:
    """Who the counsellor is offered first: the student's roommates and classmates."""

    roommates: list[Student]
    classmates: list[Student]


def candidates(session: Session, record: CrisisRecord) -> Candidates:
    """The crisis student's roommates and (other) classmates, by name, not yet listed."""
    student = record.student
    listed = select(ContagionFollowUp.student_id).where(ContagionFollowUp.record_id == record.id)
    base = select(Student).where(
        Student.institution_id == student.institution_id,
        Student.id != student.id,
        Student.id.not_in(listed),
    )
    roommates: list[Student] = []
    if student.room_id is not None:
        roommates = list(
            session.scalars(
                base.where(Student.room_id == student.room_id).order_by(Student.student_number)
            )
        )
    in_room = {s.id for s in roommates}
    classmates = [
        s
        for s in session.scalars(
            base.where(Student.class_id == student.class_id).order_by(Student.student_number)
        )
        if s.id not in in_room
    ]
    return Candidates(roommates, classmates)


def students_by_number(
    session: Session, institution_id: int, numbers: list[str]
) -> tuple[list[Student], list[str]]:
    """The institution's students with these 学号, and the numbers that match no one."""
    found = list(
        session.scalars(
            select(Student).where(
                Student.institution_id == institution_id, Student.student_number.in_(numbers)
            )
        )
    )
    known = {s.student_number for s in found}
    return found, [n for n in numbers if n not in known]


def add_affected(
    session: Session,
    actor: User,
    record: CrisisRecord,
    picks: list[tuple[Student, ContagionRelation]],
    now: datetime,
) -> list[ContagionFollowUp]:
    """List each picked student for follow-up and give their tier a neutral check-in task;
    students already listed, and the crisis student, are skipped. Audits and commits."""
    listed = set(
        session.scalars(
            select(ContagionFollowUp.student_id).where(ContagionFollowUp.record_id == record.id)
        )
    )
    added = []
    for student, relation in picks:
        if student.id in listed or student.id == record.student_id:
            continue
        if student.institution_id != record.institution_id:
            raise ContagionError(Message(N_("Only students of this institution can be listed.")))
        listed.add(student.id)
        task = _check_in_task(session, actor, student, relation, now)
        follow_up = ContagionFollowUp(
            record_id=record.id,
            institution_id=record.institution_id,
            student_id=student.id,
            relation=relation,
            task_id=task.id,
            added_at=now,
            added_by_id=actor.id,
        )
        session.add(follow_up)
        session.flush()
        audit.record_on(
            session, follow_up, actor=actor, action="contagion.add", record_type="contagion"
        )
        added.append(follow_up)
    if not added:
        session.rollback()
        raise ContagionError(Message(N_("Choose at least one student who is not listed yet.")))
    session.commit()
    return added


def _check_in_task(
    session: Session, actor: User, student: Student, relation: ContagionRelation, now: datetime
) -> Task:
    """The check-in task for `student`, addressed to the tier of `relation`, and its note."""
    tier = RELATION_TIER[relation]
    if tier is OwnerTier.DORM and student.room_id is None:
        tier = OwnerTier.CLASS
    addressee, role, unit = {
        OwnerTier.DORM: ("assignee_room_id", Role.DORM_INFORMANT, "room_id"),
        OwnerTier.CLASS: ("assignee_class_id", Role.CLASS_COMMITTEE, "class_id"),
        OwnerTier.DEPARTMENT: ("assignee_department_id", Role.DEPT_COUNSELLOR, "department_id"),
    }[tier]
    value = getattr(student, unit)
    task = Task.saying(
        _check_in_text(student, tier),
        institution_id=student.institution_id,
        student_id=student.id,
        warning_id=None,
        kind=TASK_KIND,
        due_at=now + CHECK_IN_WITHIN,
        created_at=now,
        created_by_id=actor.id,
        **{addressee: value},
    )
    session.add(task)
    session.flush()
    holders = session.scalars(
        select(RoleAssignment.user_id).where(
            RoleAssignment.institution_id == student.institution_id,
            RoleAssignment.role == role,
            getattr(RoleAssignment, unit) == value,
        )
    )
    # Not the student herself, though she may hold her class's or room's peer role. A peer hears
    # of it by her one note of new tasks, as of every other task.
    told = set(holders) - {student.user_id}
    if tier is OwnerTier.DEPARTMENT:
        notify(session, told, N_("You have a new task"), TASKS_LINK)
    else:
        notify_new_tasks(session, told, now)
    return task


def _check_in_text(student: Student, tier: OwnerTier) -> Message:
    """A department counsellor's check-in in staff words; a peer's as every peer task reads."""
    if tier is OwnerTier.DEPARTMENT:
        return Message(STAFF_CHECK_IN_TEXT, name=student.name)
    return peer_task_text(student)


def check_close(follow_up: ContagionFollowUp, note: str) -> None:
    """Raises `ContagionError` unless the follow-up is still open and the note says why."""
    if follow_up.closed_at is not None:
        raise ContagionError(Message(N_("This student is no longer on the follow-up list.")))
    if len(note.strip()) < 4:
        raise ContagionError(Message(N_("Say in a few words how the student is.")))


def clear(
    session: Session, actor: User, follow_up: ContagionFollowUp, note: str, now: datetime
) -> ContagionFollowUp:
    """Take the student off the follow-up list with a note; audits and commits."""
    check_close(follow_up, note)
    _close(session, actor, follow_up, "cleared", note, now)
    session.commit()
    return follow_up


def escalate(
    session: Session,
    actor: User,
    follow_up: ContagionFollowUp,
    note: str,
    level: int,
    now: datetime,
) -> ContagionFollowUp:
    """Take the student off the list into the warning chain: a counsellor's signal at `level`
    with the note, recorded by the warning domain's signal service. Audits and commits."""
    check_close(follow_up, note)
    if level not in ESCALATION_LEVELS:
        raise ContagionError(Message(N_("Choose a warning level.")))
    signal = warnings.record_signal(
        session,
        student=follow_up.student,
        source=SignalSource.COUNSELLOR,
        observed_at=now,
        label=Label(ESCALATION_LABEL, {"text": note.strip()[:200]}),
        explicit_level=level,
        flags=["contagion"],
        recorded_by=actor,
        now=now,
    )
    follow_up.signal_id = signal.id
    _close(session, actor, follow_up, "escalated", note, now)
    session.commit()
    return follow_up


def _close(
    session: Session,
    actor: User,
    follow_up: ContagionFollowUp,
    outcome: str,
    note: str,
    now: datetime,
) -> None:
    follow_up.outcome = outcome
    follow_up.closed_at = now
    follow_up.closed_by_id = actor.id
    follow_up.note = note.strip()[:500]
    if follow_up.task_id is not None:
        # The peer's check-in is no longer owed once the counsellor has decided.
        session.execute(
            update(Task)
            .where(Task.id == follow_up.task_id, Task.done_at.is_(None))
            .values(done_at=now, closed_reason=TaskClosed.ENDED)
            .execution_options(synchronize_session=False)
        )
    audit.record_on(
        session, follow_up, actor=actor, action=f"contagion.{outcome}", record_type="contagion"
    )


def task_states(session: Session, follow_ups: list[ContagionFollowUp]) -> dict[int, Task]:
    """Each follow-up's check-in task by follow-up id, in one query."""
    ids = {f.task_id: f.id for f in follow_ups if f.task_id is not None}
    if not ids:
        return {}
    return {ids[t.id]: t for t in session.scalars(select(Task).where(Task.id.in_(list(ids))))}
