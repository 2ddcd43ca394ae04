"""Leave of absence (休学) and return to school (复学): the gates a return must pass, the plan,
the 1/3/6-month follow-ups, and the rule that the case closes only when all of it is done.

Each step is `check_<step>` (raises `LeaveError` or `PermissionError`, writes nothing), then
`do_<step>` (writes, does not commit), then one commit in the public function.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import pgettext
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments import booking
from appointments import changes
from appointments.models import Appointment
from campus import audit
from campus import clock
from campus import roster
from campus.holdings import Holding
from campus.i18n import N_
from campus.i18n import Message
from campus.i18n import shown
from campus.local_time import Day
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.notifications import Notification
from campus.notifications import notify_digest
from campus.scope import Capability
from campus.scope import student_filter
from campus.submissions import stored_once
from referrals.models import AssessmentOutcome
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveReason
from referrals.models import LeaveStatus
from referrals.models import PlanSection
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReturnAssessment
from referrals.models import ReturnFollowUp
from referrals.models import ReturnPlanItem
from referrals.services import ReferralError
from warning import actions
from warning import response
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import TaskClosed
from warning.models import WarningStatus

FOLLOW_UP_MONTHS = (1, 3, 6)


class LeaveError(ReferralError):
    """A refused step; `field`, when given, names the form field the refusal is about (the
    expected return before the start), so the form shows it there, as typed."""

    def __init__(self, text: str, field: str | None = None) -> None:
        super().__init__(text)
        self.field = field

    def shown(self) -> str:
        """The refusal in the reader's language, with its values (who ticked a task first)."""
        text = self.args[0]
        return shown(text if isinstance(text, Message) else Message(text))


@dataclass(frozen=True)
class NewLeave:
    start_date: date
    expected_return_date: date
    reason_category: LeaveReason


def leave_clause(user: User):
    """Leaves whose student `user` may see clinically (join LeaveOfAbsence to Student first)."""
    return student_filter(user, Capability.CLINICAL)


def follow_up_due_clause(today: date):
    """Leaves with a post-return follow-up due by `today` and not yet done."""
    due = (
        select(ReturnFollowUp.leave_id)
        .join(Task, Task.id == ReturnFollowUp.task_id)
        .where(ReturnFollowUp.due_date <= today, Task.done_at.is_(None))
    )
    return LeaveOfAbsence.id.in_(due)


def start_leave(
    session: Session, user: User, student: Student, data: NewLeave, now: datetime
) -> LeaveOfAbsence:
    """Record a leave and mark the student on leave; one open leave per student. Commits."""
    check_start_leave(session, student, data)
    try:
        leave = do_start_leave(session, user, student, data, now)
        session.commit()
    except IntegrityError:  # another request started one a moment ago (a double submit)
        session.rollback()
        raise LeaveError(N_("This student already has an open leave.")) from None
    return leave


def check_start_leave(session: Session, student: Student, data: NewLeave) -> None:
    """Raises `LeaveError` unless the dates are in order and the student has no open leave."""
    if data.expected_return_date <= data.start_date:
        raise LeaveError(
            N_("The expected return must come after the start of the leave."),
            field="expected_return_date",
        )
    open_leave = session.scalar(
        select(LeaveOfAbsence.id).where(
            LeaveOfAbsence.student_id == student.id,
            LeaveOfAbsence.status != LeaveStatus.CLOSED,
        )
    )
    if open_leave is not None:
        raise LeaveError(N_("This student already has an open leave."), field="student_number")


def do_start_leave(
    session: Session, user: User, student: Student, data: NewLeave, now: datetime
) -> LeaveOfAbsence:
    """Write the leave `check_start_leave` allowed, in the caller's unit of work."""
    leave = LeaveOfAbsence(
        institution_id=student.institution_id,
        student_id=student.id,
        start_date=data.start_date,
        expected_return_date=data.expected_return_date,
        reason_category=data.reason_category,
        status=LeaveStatus.ON_LEAVE,
        created_by_id=user.id,
        created_at=now,
    )
    session.add(leave)
    student.enrolment_status = EnrolmentStatus.ON_LEAVE
    # Away from school she is no longer her class's or room's peer: the role ends (the unit's
    # page says it has none, so the department appoints another), and the tasks for her unit go
    # to whoever holds it, not to someone who is not there.
    roster.end_peer_roles_left_behind(session, student.institution, user, student)
    session.flush()
    _audit(session, user, leave, "leave_started")
    return leave


def booked_appointments(
    session: Session, leave: LeaveOfAbsence, now: datetime
) -> list[Appointment]:
    """The counselling appointments the student still has booked, while she is on leave: the
    leave page lists them and offers to cancel them (nothing is cancelled by itself: a student
    on leave may still come to the centre)."""
    if leave.status is not LeaveStatus.ON_LEAVE:
        return []
    return booking.upcoming(session, leave.student, now)


# What the student reads as the centre's reason, unless the counsellor writes other words: it
# says nothing of the leave, its cause or who decided (a shared phone, a parent reading along).
LEAVE_CANCEL_REASON = N_(
    "Your upcoming counselling appointments have been cancelled. Whenever you would like to "
    "talk, you can book again or call the centre."
)


def cancel_appointments(
    session: Session, user: User, leave: LeaveOfAbsence, reason: str, now: datetime
) -> int:
    """Cancel, as the centre, every appointment the student still has booked (one confirmation
    on the leave page), each with `reason`, which the student reads; each counsellor is told
    and each freed seat offered to the waitlist as for any cancellation by the centre. All or
    nothing. Commits; how many were cancelled."""
    appointments = check_cancel_appointments(session, user, leave, reason, now)
    do_cancel_appointments(session, user, leave, appointments, now)
    session.commit()
    return len(appointments)


def check_cancel_appointments(
    session: Session, user: User, leave: LeaveOfAbsence, reason: str, now: datetime
) -> list[tuple[Appointment, changes.Cancellation]]:
    """Each booked appointment with its cancellation as `appointments.changes.check_cancel`
    allows it; raises `LeaveError` with its words when it refuses one, or when there is none."""
    _require_status(leave, LeaveStatus.ON_LEAVE)
    appointments = booked_appointments(session, leave, now)
    if not appointments:
        raise LeaveError(N_("The student has no booked appointments left to cancel."))
    try:
        return [
            (a, changes.check_cancel(session, user, a, now, reason=reason)) for a in appointments
        ]
    except changes.ChangeError as refused:
        raise LeaveError(refused.args[0]) from None


def do_cancel_appointments(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    appointments: list[tuple[Appointment, changes.Cancellation]],
    now: datetime,
) -> None:
    """Write the cancellations `check_cancel_appointments` allowed, in the caller's unit of
    work; an appointment cancelled meanwhile (another tab) refuses the whole."""
    try:
        for appointment, what in appointments:
            changes.do_cancel(session, user, appointment, now, what)
    except changes.ChangeError as refused:
        session.rollback()
        raise LeaveError(refused.args[0]) from None
    _audit(session, user, leave, "leave_appointments_cancelled", str(len(appointments)))


def record_statement(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    received_on: date,
    hospital: str,
    summary: str,
    today: date,
) -> None:
    """Record the hospital's statement the return is decided on. Commits."""
    check_statement(leave, received_on, hospital, summary, today)
    do_record_statement(session, user, leave, received_on, hospital, summary)
    session.commit()


def check_statement(
    leave: LeaveOfAbsence, received_on: date, hospital: str, summary: str, today: date
) -> None:
    """Raises `LeaveError` unless the leave is on and the statement is complete and not dated
    after `today`."""
    _require_status(leave, LeaveStatus.ON_LEAVE)
    if received_on > today:
        raise LeaveError(N_("The statement cannot be received in the future."))
    if not hospital.strip() or not summary.strip():
        raise LeaveError(N_("Give the hospital and a summary of its statement."))


def do_record_statement(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    received_on: date,
    hospital: str,
    summary: str,
) -> None:
    """Write the statement `check_statement` allowed, in the caller's unit of work."""
    leave.statement_received_on = received_on
    leave.statement_hospital = hospital.strip()
    leave.statement_summary = summary.strip()
    _audit(session, user, leave, "return_statement_recorded")


def record_assessment(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    outcome: ReturnAssessment,
    note: str,
    now: datetime,
) -> None:
    """The centre's return assessment, by a school counsellor. Commits."""
    check_assessment(user, leave, note)
    do_record_assessment(session, user, leave, outcome, note, now)
    session.commit()


def check_assessment(user: User, leave: LeaveOfAbsence, note: str) -> None:
    """Raises `LeaveError` unless the leave is on and the assessment gives its grounds (the
    复学评估意见书 prints them under the opinion), `PermissionError` unless `user` is a school
    counsellor."""
    _require_status(leave, LeaveStatus.ON_LEAVE)
    if not user.has_role(Role.SCHOOL_COUNSELLOR):
        raise PermissionError("only a school counsellor assesses a return")
    if not note.strip():
        raise LeaveError(N_("Write what the assessment found and why."))


def do_record_assessment(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    outcome: ReturnAssessment,
    note: str,
    now: datetime,
) -> None:
    """Write the assessment `check_assessment` allowed, in the caller's unit of work."""
    leave.assessment_outcome = outcome
    leave.assessment_by_id = user.id
    leave.assessment_at = now
    leave.assessment_note = note.strip() or None
    _audit(session, user, leave, "return_assessed", outcome.value)


@dataclass(frozen=True)
class InpatientConfirmation:
    """The counsellor's explicit word that the student may return although a referral still
    records her as an inpatient: the box ticked and why (the hospital's statement says she has
    been discharged and the liaison has not recorded it yet, say)."""

    confirmed: bool = False
    reason: str = ""


def inpatient_referrals(session: Session, leave: LeaveOfAbsence) -> list[Referral]:
    """The student's referrals whose hospital assessed her for inpatient care and that record no
    discharge yet (assessed, or in treatment): a return approved now may send back to class a
    student who is still on a ward."""
    return list(
        session.scalars(
            select(Referral)
            .where(
                Referral.student_id == leave.student_id,
                Referral.outcome == AssessmentOutcome.INPATIENT,
                Referral.status.in_(NOT_DISCHARGED),
            )
            .order_by(Referral.id)
        )
    )


NOT_DISCHARGED = (ReferralStatus.ASSESSED, ReferralStatus.IN_TREATMENT)
# How the refusal names each referral still open as an inpatient: its number, hospital and state.
INPATIENT_REFERRAL = N_("referral no. %(number)s to %(hospital)s (%(state)s)")
INPATIENT_STATES = {
    ReferralStatus.ASSESSED: N_("assessed for inpatient treatment, not yet admitted"),
    ReferralStatus.IN_TREATMENT: N_("in treatment as an inpatient"),
}


def approve_return(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    returned_on: date,
    inpatient: InpatientConfirmation | None = None,
) -> list[ReturnFollowUp]:
    """Approve the return: needs the statement and a "fit to return" assessment, and, while a
    referral of the student records no discharge from inpatient care, the counsellor's
    confirmation with a reason (`inpatient`). Commits.

    The student is enrolled again and follow-ups are scheduled 1, 3 and 6 months after
    `returned_on`, each a task for the approving school counsellor.
    """
    in_hospital = inpatient_referrals(session, leave)
    check_return(leave, returned_on, in_hospital, inpatient or InpatientConfirmation())
    follow_ups = do_approve_return(session, user, leave, returned_on, in_hospital, inpatient)
    session.commit()
    return follow_ups


def check_return(
    leave: LeaveOfAbsence,
    returned_on: date,
    in_hospital: list[Referral] | None = None,
    inpatient: InpatientConfirmation | None = None,
) -> None:
    """Raises `LeaveError` unless the leave is on, has the hospital's statement and a "fit to
    return" assessment, `returned_on` is not before it started, and, if any referral in
    `in_hospital` records no discharge, the counsellor confirmed the return with a reason."""
    _require_status(leave, LeaveStatus.ON_LEAVE)
    if leave.statement_received_on is None:
        raise LeaveError(N_("The return needs the hospital's statement first."))
    if leave.assessment_outcome is not ReturnAssessment.FIT_TO_RETURN:
        raise LeaveError(N_('The return needs a centre assessment of "fit to return" first.'))
    if returned_on < leave.start_date:
        raise LeaveError(N_("The return cannot come before the leave started."))
    if not in_hospital:
        return
    confirmation = inpatient or InpatientConfirmation()
    if not confirmation.confirmed or not confirmation.reason.strip():
        raise LeaveError(
            Message(
                N_(
                    "%(student)s's %(referrals)s records no discharge. Check with the hospital "
                    "that the student has left inpatient care; to approve the return all the same, "
                    "tick the confirmation and say why."
                ),
                student=leave.student.name,
                referrals=_listed_referrals(in_hospital),
            )
        )
    if len(confirmation.reason.strip()) > INPATIENT_NOTE_MAX:
        raise LeaveError(N_("Keep the reason to 500 characters."))


INPATIENT_NOTE_MAX = 500


class _Joined(str):
    """Referrals named one after another, each in the reader's language when shown."""

    parts: list[Message]

    def __new__(cls, parts: list[Message]) -> _Joined:
        joined = super().__new__(cls, "; ".join(parts))
        joined.parts = parts
        return joined

    def shown(self) -> str:
        return pgettext("list separator", "; ").join(part.shown() for part in self.parts)


def _listed_referrals(referrals: list[Referral]) -> _Joined:
    return _Joined(
        [
            Message(
                INPATIENT_REFERRAL,
                number=r.id,
                hospital=r.hospital.name,
                state=Message(INPATIENT_STATES[r.status]),
            )
            for r in referrals
        ]
    )


def do_approve_return(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    returned_on: date,
    in_hospital: list[Referral] | None = None,
    inpatient: InpatientConfirmation | None = None,
) -> list[ReturnFollowUp]:
    """Write the return `check_return` allowed and its follow-ups, in the caller's unit of work;
    a return confirmed despite a referral with no discharge keeps the counsellor's reason, and
    the audit names the referrals."""
    leave.status = LeaveStatus.RETURNED
    leave.returned_on = returned_on
    leave.return_approved_by_id = user.id
    leave.student.enrolment_status = EnrolmentStatus.ENROLLED
    follow_ups = [_follow_up(session, user, leave, months) for months in FOLLOW_UP_MONTHS]
    detail = returned_on.isoformat()
    if in_hospital and inpatient is not None:
        leave.return_inpatient_note = inpatient.reason.strip()
        numbers = ",".join(str(r.id) for r in in_hospital)
        detail += f"; confirmed with referral(s) {numbers} not discharged"
    _audit(session, user, leave, "return_approved", detail)
    return follow_ups


def _follow_up(session: Session, user: User, leave: LeaveOfAbsence, months: int) -> ReturnFollowUp:
    assert leave.returned_on is not None  # `approve_return` sets it before the follow-ups
    due = add_months(leave.returned_on, months)
    task = _task(
        session,
        leave,
        user.id,
        "return_follow_up",
        due,
        user,
        Message(FOLLOW_UP_TASK_TEXT, months=months, name=leave.student.name),
    )
    follow_up = ReturnFollowUp(leave_id=leave.id, months=months, due_date=due, task=task)
    session.add(follow_up)
    return follow_up


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan → 28 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PlanOwner:
    """Someone who may own a plan item, and the roles that put them around the student: "王芳"
    alone could be the department counsellor or the dorm informant."""

    user: User
    roles: tuple[Role, ...]


def owner_choices(session: Session, student: Student) -> list[PlanOwner]:
    """People who may own a plan item: the student's department counsellor, class committee,
    dorm informant, and the school counsellors — their scope covers the student — by name."""
    scope = (
        (
            (RoleAssignment.role == Role.DEPT_COUNSELLOR)
            & (RoleAssignment.department_id == student.department_id)
        )
        | (
            (RoleAssignment.role == Role.CLASS_COMMITTEE)
            & (RoleAssignment.class_id == student.class_id)
        )
        | (
            (RoleAssignment.role == Role.DORM_INFORMANT)
            & (RoleAssignment.room_id == student.room_id)
        )
        | (RoleAssignment.role == Role.SCHOOL_COUNSELLOR)
    )
    rows = session.execute(
        select(User, RoleAssignment.role)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.institution_id == student.institution_id,
            User.id != student.user_id,
            User.active.is_(True),
            scope,
        )
        .order_by(User.name, User.id)
    ).tuples()
    roles: dict[User, set[Role]] = {}
    for user, role in rows:
        roles.setdefault(user, set()).add(role)
    return [PlanOwner(user, _in_order(held)) for user, held in roles.items()]


def owner_roles(session: Session, leave: LeaveOfAbsence) -> dict[int, tuple[Role, ...]]:
    """The roles of each plan item's owner: those that put them around the student now, or, for
    an owner no longer around (an informant who moved rooms), the roles they hold."""
    around = {o.user.id: o.roles for o in owner_choices(session, leave.student)}
    return {
        item.owner_id: around.get(item.owner_id)
        or _in_order({a.role for a in item.owner.roles} - {Role.STUDENT})
        for item in leave.plan_items
    }


def owners_gone(session: Session, leave: LeaveOfAbsence) -> set[int]:
    """The plan items still to do whose owner no longer holds any role around the student (their
    role ended, they moved on, or their account is off): the plan flags them, to be given to
    someone else; nothing is reassigned by itself."""
    around = {o.user.id for o in owner_choices(session, leave.student)}
    return {
        item.id
        for item in leave.plan_items
        if item.task.done_at is None and item.owner_id not in around
    }


OWNER_GONE_TEXT = N_("Return-to-school plan items have an owner who has left")
OWNER_GONE_ITEM = N_("%(student)s: “%(text)s” was %(owner)s's")


def owner_gone_sweep(session: Session, now: datetime) -> int:
    """The scheduler's sweep: for every open leave with plan items whose owner has gone
    (`owners_gone`), tell the student's case counsellor (the open warning's; else the centre's
    directors) by one note per leave, listing the items; an item already listed is not told
    again, so a second run tells nobody. Commits; how many items were newly told of."""
    told = 0
    leaves = session.scalars(
        select(LeaveOfAbsence)
        .where(LeaveOfAbsence.status != LeaveStatus.CLOSED)
        .order_by(LeaveOfAbsence.id)
    ).all()
    for leave in leaves:
        gone = owners_gone(session, leave)
        if not gone:
            continue
        items: list[dict[str, object]] = [
            {
                "text": OWNER_GONE_ITEM,
                "params": {
                    "student": leave.student.name,
                    "text": item.text,
                    "owner": item.owner.name,
                },
            }
            for item in leave.plan_items
            if item.id in gone
        ]
        recipients = _case_counsellor(session, leave)
        key = f"plan_owner_gone:leave:{leave.id}"
        already = _listed(session, key, recipients)
        told += sum(1 for item in items if item not in already)
        notify_digest(
            session, recipients, key, OWNER_GONE_TEXT, f"/referrals/leave/{leave.id}", items
        )
    session.commit()
    return told


def holding(session: Session, assignment: RoleAssignment, now: datetime) -> Holding | None:
    """The return-plan items still to do that the holder of `assignment` owns (`campus.holdings`):
    once they hold no role around the student, the plan flags them (`owner_gone_sweep`)."""
    if assignment.role is Role.STUDENT:
        return None
    items = int(
        session.scalar(
            select(func.count(ReturnPlanItem.id))
            .join(Task, Task.id == ReturnPlanItem.task_id)
            .join(LeaveOfAbsence, LeaveOfAbsence.id == ReturnPlanItem.leave_id)
            .where(
                ReturnPlanItem.owner_id == assignment.user_id,
                LeaveOfAbsence.institution_id == assignment.institution_id,
                LeaveOfAbsence.status != LeaveStatus.CLOSED,
                Task.done_at.is_(None),
            )
        )
        or 0
    )
    return Holding(
        items,
        ngettext("%(num)d return-plan item", "%(num)d return-plan items", items),
        _("the return-plan items are flagged for the case counsellor to give to someone else"),
    )


def _case_counsellor(session: Session, leave: LeaveOfAbsence) -> list[int]:
    """Whom a plan without an owner is told to: the case counsellor of the student's open
    warning, or, while nobody holds the case, the centre's directors."""
    counsellor = session.scalar(
        select(EarlyWarning.assigned_counsellor_id).where(
            EarlyWarning.student_id == leave.student_id,
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.assigned_counsellor_id.is_not(None),
        )
    )
    if counsellor is not None:
        return [counsellor]
    return list(
        session.scalars(
            select(RoleAssignment.user_id).where(
                RoleAssignment.institution_id == leave.institution_id,
                RoleAssignment.role == Role.DIRECTOR,
            )
        )
    )


def _listed(session: Session, key: str, user_ids: list[int]) -> list[object]:
    """The items every one of `user_ids` has already been told of under `key`."""
    notes = list(
        session.scalars(
            select(Notification).where(
                Notification.digest_key == key, Notification.user_id.in_(user_ids)
            )
        )
    )
    if len(notes) < len(set(user_ids)):
        return []
    lists = [_items_of(note) for note in notes]
    return [item for item in lists[0] if all(item in other for other in lists[1:])]


def _items_of(note: Notification) -> list[object]:
    items = (note.detail or {}).get("items")
    return list(items) if isinstance(items, list) else []


def _in_order(roles: set[Role]) -> tuple[Role, ...]:
    order = list(Role)
    return tuple(sorted(roles, key=order.index))


# A class committee member or dorm informant sees only the one fixed, non-clinical request every
# peer task reads (`warning.response.PEER_TASK_TEXT`), whichever section the item is in: the
# counsellor's own words may carry clinical detail that peers must never read, and a wording of
# its own would tell a peer that the student is returning from a leave. Task texts are stored in
# English with their message id and values, and shown in the reader's language.
STAFF_TASK_TEXT = N_("Return-to-school support for %(name)s: %(text)s")
FOLLOW_UP_TASK_TEXT = N_("Follow-up %(months)s month(s) after return to school: %(name)s")
STAFF_ROLES = (Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR)


def _owner_text(owner: User, leave: LeaveOfAbsence, text: str) -> Message:
    """What the owner's task says: the plan's words for staff, fixed wording for peers."""
    if not owner.has_role(*STAFF_ROLES):
        return response.peer_task_text(leave.student)
    return Message(STAFF_TASK_TEXT, name=leave.student.name, text=text.strip())


def add_plan_item(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    section: PlanSection,
    text: str,
    owner_id: int,
    due: date,
    submission: str | None = None,
) -> ReturnPlanItem:
    """Add a plan item and the owner's task (its text is all the owner sees). Commits. The same
    form sent again (`submission`, its one-time token) returns the item it added."""
    owner = check_plan_item(session, leave, text, owner_id)
    check_due_date(leave, due)

    def add() -> ReturnPlanItem:
        item = do_add_plan_item(session, user, leave, section, text, owner, due, submission)
        return item

    mine = ReturnPlanItem.leave_id == leave.id
    return stored_once(session, ReturnPlanItem, submission, mine, add).record


def check_plan_item(session: Session, leave: LeaveOfAbsence, text: str, owner_id: int) -> User:
    """The item's owner, if the case is open, the item says what is to be done and its owner is
    one of the people around the student; raises `LeaveError` otherwise. Writes nothing."""
    if leave.status is LeaveStatus.CLOSED:
        raise LeaveError(N_("This case is closed."))
    if not text.strip():
        raise LeaveError(N_("Say what is to be done."))
    owner = next((o for o in owner_choices(session, leave.student) if o.user.id == owner_id), None)
    if owner is None:
        raise LeaveError(N_("Choose an owner from the people around this student."))
    return owner.user


def earliest_due(leave: LeaveOfAbsence) -> date:
    """The first day a plan item may be due: the return once it is approved, else the day the
    leave started. The plan supports the leave and the return; a day before it is a slip."""
    return leave.returned_on or leave.start_date


def check_due_date(leave: LeaveOfAbsence, due: date) -> None:
    """Raises `LeaveError`, naming the first day allowed, when `due` comes before it (a
    "fortnightly counselling" item due five weeks before the leave started printed on the
    return opinion without a word)."""
    first = earliest_due(leave)
    if due >= first:
        return
    if leave.returned_on is not None:
        text = N_("The due date cannot come before the return (%(day)s): choose that day or later.")
    else:
        text = N_(
            "The due date cannot come before the leave started (%(day)s): choose that day or later."
        )
    raise LeaveError(Message(text, day=Day(first.isoformat())))


def do_add_plan_item(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    section: PlanSection,
    text: str,
    owner: User,
    due: date,
    submission: str | None = None,
) -> ReturnPlanItem:
    """Write the item `check_plan_item` allowed and its owner's task, in the caller's unit of
    work."""
    task = _task(
        session, leave, owner.id, "return_plan", due, user, _owner_text(owner, leave, text)
    )
    if not owner.has_role(*STAFF_ROLES):
        # A peer works from her phone, not from the leave's page: she is told, by her one note
        # of new tasks.
        response.notify_new_tasks(session, [owner.id], clock.now())
    item = ReturnPlanItem(
        leave_id=leave.id,
        section=section,
        text=text.strip(),
        owner_id=owner.id,
        due_date=due,
        task=task,
        submission=submission,
    )
    session.add(item)
    _audit(session, user, leave, "return_plan_item_added", section.value)
    return item


def hand_over_plan_item(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    item: ReturnPlanItem,
    owner_id: int,
    now: datetime,
) -> ReturnPlanItem:
    """Give an open plan item to someone else around the student (its owner has left, or can no
    longer do it): the old owner's task is marked done with a note naming who took it over, and
    the same item, due the same day, is added for the new owner, who is told as for any new item.
    The plan and both task lists say what happened. Commits; the new item."""
    owner = check_hand_over(session, leave, item, owner_id)
    try:
        handed = do_hand_over(session, user, leave, item, owner, now)
    except actions.TaskAlreadyDone as done:
        raise _already_done(done, user) from None
    session.commit()
    return handed


def check_hand_over(
    session: Session, leave: LeaveOfAbsence, item: ReturnPlanItem, owner_id: int
) -> User:
    """The new owner, if `item` is an open item of this case and the owner is someone else around
    the student; raises `LeaveError` otherwise. Writes nothing."""
    if item.leave_id != leave.id:
        raise LeaveError(N_("This item is not part of this case."))
    if item.withdrawn:
        raise LeaveError(N_("This item was withdrawn: nothing to hand over."))
    if item.task.done_at is not None:
        raise LeaveError(N_("This item is done: nothing to hand over."))
    if owner_id == item.owner_id:
        raise LeaveError(N_("Choose someone other than its owner now."))
    return check_plan_item(session, leave, item.text, owner_id)


def do_hand_over(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    item: ReturnPlanItem,
    owner: User,
    now: datetime,
) -> ReturnPlanItem:
    """Write the hand-over `check_hand_over` allowed, in the caller's unit of work."""
    note = Message(N_("Handed over to %(name)s"), name=owner.name)
    actions.claim_task(session, user, item.task, now, note.shown())
    _audit(session, user, leave, "return_plan_item_handed_over", f"{item.owner_id} to {owner.id}")
    return do_add_plan_item(session, user, leave, item.section, item.text, owner, item.due_date)


WITHDRAW_REASON_MAX = 500


def withdraw_plan_item(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    item: ReturnPlanItem,
    reason: str,
    now: datetime,
) -> None:
    """Withdraw a mistaken plan item (a wrong date, the wrong student's item): it stays in the
    plan, marked withdrawn with who, when and why, and its owner's task is closed; it no longer
    prints on the return opinion nor holds up the closure. Commits."""
    check_withdraw(user, leave, item, reason)
    do_withdraw(session, user, leave, item, reason, now)
    session.commit()


def check_withdraw(user: User, leave: LeaveOfAbsence, item: ReturnPlanItem, reason: str) -> None:
    """Raises `LeaveError` unless `item` is an open item of this open case and the reason is
    given (and fits); `PermissionError` unless `user` is a school counsellor. Writes nothing."""
    if not user.has_role(Role.SCHOOL_COUNSELLOR):
        raise PermissionError("only a school counsellor withdraws a plan item")
    if item.leave_id != leave.id:
        raise LeaveError(N_("This item is not part of this case."))
    if leave.status is LeaveStatus.CLOSED:
        raise LeaveError(N_("This case is closed."))
    if item.withdrawn:
        raise LeaveError(N_("This item was already withdrawn."))
    if item.task.done_at is not None:
        raise LeaveError(N_("This item is done: it stays in the plan as done."))
    if not reason.strip():
        raise LeaveError(N_("Say why the item is withdrawn."))
    if len(reason.strip()) > WITHDRAW_REASON_MAX:
        raise LeaveError(N_("Keep the reason to 500 characters."))


def do_withdraw(
    session: Session,
    user: User,
    leave: LeaveOfAbsence,
    item: ReturnPlanItem,
    reason: str,
    now: datetime,
) -> None:
    """Write the withdrawal `check_withdraw` allowed, in the caller's unit of work: the item
    marked, its owner's task closed (kept, as no longer needed), an audit row."""
    item.withdrawn_at = now
    item.withdrawn_by_id = user.id
    item.withdrawn_reason = reason.strip()
    response.close_tasks(session, [Task.id == item.task_id], TaskClosed.ENDED, now)
    session.expire(item.task)
    _audit(session, user, leave, "return_plan_item_withdrawn", str(item.id))


def _task(
    session: Session,
    leave: LeaveOfAbsence,
    assignee_id: int,
    kind: str,
    due: date,
    creator: User,
    text: Message,
) -> Task:
    task = Task.saying(
        text,
        institution_id=leave.institution_id,
        student_id=leave.student_id,
        kind=kind,
        assignee_user_id=assignee_id,
        due_at=_end_of_day_utc(session, leave.institution_id, due),
        created_by_id=creator.id,
    )
    session.add(task)
    return task


def _end_of_day_utc(session: Session, institution_id: int, day: date) -> datetime:
    zone = clock.institution_zone(session.get(Institution, institution_id))
    return clock.to_utc(datetime.combine(day, time(23, 59)), zone)


def local_today(session: Session, leave: LeaveOfAbsence, now: datetime) -> date:
    """Today by the institution's calendar, for the rules that compare calendar dates."""
    return clock.local_date(
        now, clock.institution_zone(session.get(Institution, leave.institution_id))
    )


def complete_task(
    session: Session, user: User, leave: LeaveOfAbsence, task: Task, note: str, now: datetime
) -> None:
    """Mark a plan item or follow-up done, by its owner or, with a note saying what was done, a
    school counsellor. Commits."""
    try:
        check_task_done(session, user, leave, task, local_today(session, leave, now), note)
        do_complete_task(session, user, leave, task, note, now)
    except actions.TaskAlreadyDone as done:
        raise _already_done(done, user) from None
    session.commit()


def _already_done(done: actions.TaskAlreadyDone, user: User) -> LeaveError:
    """The refusal of a second tick, naming who was first: "you" when it was the same person in
    another tab, whom her own name would leave wondering who else shares her account."""
    if done.by is None:
        return LeaveError(N_("This is already done."))
    if done.by.id == user.id:
        return LeaveError(N_("You already marked this done."))
    return LeaveError(Message(N_("This was already marked done by %(name)s."), name=done.by.name))


def leave_of_task(session: Session, task: Task) -> LeaveOfAbsence | None:
    """The return-to-school case `task` is a plan item or follow-up of; None for any other task.
    Its owner may tick it from the Tasks page, and that goes through `complete_task` as the
    leave page's tick does: the same rules, the same audit row on the leave."""
    items = select(ReturnPlanItem.leave_id).where(ReturnPlanItem.task_id == task.id)
    follow_ups = select(ReturnFollowUp.leave_id).where(ReturnFollowUp.task_id == task.id)
    return session.scalar(
        select(LeaveOfAbsence).where(LeaveOfAbsence.id.in_(items.union(follow_ups)))
    )


# How early a post-return follow-up may be done: a counsellor sees the student when they can,
# but the 3-month follow-up is not done in the first week back.
FOLLOW_UP_EARLY = timedelta(days=14)


def check_task_done(
    session: Session, user: User, leave: LeaveOfAbsence, task: Task, today: date, note: str = ""
) -> None:
    """Raises `LeaveError` unless `task` belongs to this case, for a post-return follow-up is
    due within two weeks, and, ticked by someone other than its owner, says what was done
    (`note`); `PermissionError` unless `user` owns it or is a school counsellor;
    `TaskAlreadyDone` if it is done already. Before, all three follow-ups could be ticked on the
    day of the return, and a school counsellor could tick the department counsellor's item with
    nothing said: the plan read as done though no one could tell that it was."""
    mine = {i.task_id for i in leave.plan_items} | {f.task_id for f in leave.follow_ups}
    if task.id not in mine:
        raise LeaveError(N_("This task is not part of this case."))
    if any(i.task_id == task.id and i.withdrawn for i in leave.plan_items):
        raise LeaveError(N_("This item was withdrawn: there is nothing to mark done."))
    if not owns(user, task) and not user.has_role(Role.SCHOOL_COUNSELLOR):
        raise PermissionError("not your task")
    if task.done_at is not None:
        raise actions.already_done(session, task)
    follow_up = next((f for f in leave.follow_ups if f.task_id == task.id), None)
    if follow_up is not None and today < follow_up.due_date - FOLLOW_UP_EARLY:
        raise LeaveError(
            N_("A follow-up can be marked done from two weeks before it is due, not earlier.")
        )
    if not owns(user, task) and not note.strip():
        raise LeaveError(
            N_(
                "Someone else owns this: write what was done, or what its owner told you, "
                "to mark it done for them."
            )
        )
    if len(note.strip()) > DONE_NOTE_MAX:
        raise LeaveError(N_("Keep the note to 500 characters."))


# `Task.done_note`'s length: a longer note is refused, never cut short.
DONE_NOTE_MAX = 500


def owns(user: User, task: Task) -> bool:
    """Whether `task` (a plan item or follow-up) is `user`'s own: its owner ticks it without a
    word; anyone else who may (a school counsellor) says what was done or heard."""
    return task.assignee_user_id == user.id


def do_complete_task(
    session: Session, user: User, leave: LeaveOfAbsence, task: Task, note: str, now: datetime
) -> None:
    """Write the completion `check_task_done` allowed, in the caller's unit of work: who ticked
    it and their note, and in the audit whether it was for its owner. The tick is claimed in one
    statement: if someone ticked it since it was loaded, `TaskAlreadyDone` (nothing written)."""
    actions.claim_task(session, user, task, now, note.strip() or None)
    detail = task.kind if owns(user, task) else f"{task.kind} for its owner {task.assignee_user_id}"
    _audit(session, user, leave, "return_task_done", detail)


def outstanding(leave: LeaveOfAbsence) -> list[Task]:
    """Plan items and follow-ups not yet done: what still stands between the case and closure
    (a withdrawn item does not)."""
    items = [i.task for i in leave.plan_items if not i.withdrawn]
    tasks = items + [f.task for f in leave.follow_ups]
    return [t for t in tasks if t.done_at is None]


def close_case(session: Session, user: User, leave: LeaveOfAbsence, now: datetime) -> None:
    """Close the return case; refused while any plan item or follow-up is open. Commits."""
    check_close_case(leave)
    do_close_case(session, user, leave, now)
    session.commit()


def check_close_case(leave: LeaveOfAbsence) -> None:
    """Raises `LeaveError` unless the student has returned and every plan item and follow-up is
    done."""
    _require_status(leave, LeaveStatus.RETURNED)
    if not leave.follow_ups:
        raise LeaveError(N_("Follow-ups are scheduled when the return is approved."))
    remaining = outstanding(leave)
    if remaining:
        raise LeaveError(
            N_("The case cannot close yet: plan items or follow-ups listed above are still open.")
        )


def do_close_case(session: Session, user: User, leave: LeaveOfAbsence, now: datetime) -> None:
    """Close the case `check_close_case` allowed, in the caller's unit of work."""
    leave.status = LeaveStatus.CLOSED
    leave.closed_at = now
    leave.closed_by_id = user.id
    _audit(session, user, leave, "return_case_closed")


# Why a step does not apply now, by the state it needs: a second click on "approve the return", or
# a page left open while a colleague closed the case, lands here and is told so in the user's
# language.
_NEEDS_STATUS = {
    LeaveStatus.ON_LEAVE: N_(
        "This step is for a student still on leave: the return has been approved or the case "
        "closed meanwhile."
    ),
    LeaveStatus.RETURNED: N_(
        "This step is for a student who has returned and whose case is still open."
    ),
}


def _require_status(leave: LeaveOfAbsence, status: LeaveStatus) -> None:
    if leave.status is not status:
        raise LeaveError(_NEEDS_STATUS[status])


def _audit(
    session: Session, user: User, leave: LeaveOfAbsence, action: str, detail: str | None = None
) -> None:
    audit.record_on(
        session,
        leave,
        actor=user,
        action=action,
        record_type="leave",
        detail=detail,
    )
