"""Casework's demo data: `seed(session, institution)`, called by `flask campus seed-demo` after
the screening and warning demo data (each casework part adds its own block)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User
from casework.models import InterviewEntry


def seed(session: Session, institution: Institution) -> None:
    """Every casework part's demo data for the demo university."""
    from casework import file_demo

    file_demo.seed(session, institution)
    seed_interviews(session, institution)
    _seed_crisis(session, institution)


# ==================================================================================================
# Post-screening interviews (筛查后约谈)
# ==================================================================================================


def seed_interviews(session: Session, institution: Institution) -> None:
    """Walk the follow-up screening's interview list (written by its results' hand-off) into the
    states a centre sees. The reds' interviews are held already: the warning demo assessed each
    red within its 24 hours, and the assessment holds the interview its result asked for
    (`interviews.hold_by_assessment`). Of the rest, one is interviewed, one invited again after
    a no-show, one given to its department's counsellor, and the others left to assign; no
    warning level is changed. A handful of rows, so seeding stays fast."""
    from casework import interviews
    from casework.models import InterviewState
    from warning.services import open_warning

    now = clock.now()
    sc01 = _staff(session, institution, Role.SCHOOL_COUNSELLOR)
    director = _staff(session, institution, Role.DIRECTOR)
    if sc01 is None or director is None:
        return
    entries = list(
        session.scalars(
            select(InterviewEntry)
            .where(
                InterviewEntry.institution_id == institution.id,
                InterviewEntry.state == InterviewState.TO_ASSIGN,
            )
            .order_by(InterviewEntry.due_at, InterviewEntry.id)
        )
    )
    if entries:
        entry = entries[0]
        interviews.do_assign(session, director, [entry], sc01, _since(entry, now, 0))
        held = _since(entry, now, 0.6)
        _invite(session, sc01, entry, _since(entry, now, 0.2), held)
        # The interview held is itself her contact: her last contact and on the warning's
        # timeline (`warning.actions.interview_held`), so nothing else is logged for it; the
        # warning's own first response was met by the warning demo's calls, in its time.
        warning = open_warning(session, entry.student_id)
        outcome = interviews.Outcome(attendance="attended", conclusion="watch")
        interviews.do_record_outcome(session, sc01, entry, outcome, warning, held)
    if len(entries) > 1:
        entry = entries[1]
        interviews.do_assign(session, director, [entry], sc01, _since(entry, now, 0))
        _invite(session, sc01, entry, _since(entry, now, 0.2), _since(entry, now, 0.5))
        missed = interviews.Outcome(attendance="no_show")
        interviews.do_record_outcome(session, sc01, entry, missed, None, _since(entry, now, 0.6))
        _invite(session, sc01, entry, now, now + timedelta(days=2, hours=2))
    department_tier = next((e for e in entries[2:] if e.tier == "department"), None)
    if department_tier is not None:
        counsellor = session.scalar(
            select(User)
            .join(User.roles)
            .where(
                RoleAssignment.role == Role.DEPT_COUNSELLOR,
                RoleAssignment.department_id == department_tier.department_id,
            )
        )
        if counsellor is not None:
            interviews.do_assign(session, director, [department_tier], counsellor, now)
    session.flush()


def _since(entry: InterviewEntry, now: datetime, share: float) -> datetime:
    """A moment `share` of the way from when the list picked the student (at most six days ago)
    to now: each step of an interview comes after the entry exists and before today."""
    start = max(entry.created_at, now - timedelta(days=6))
    return start + (now - start) * share


def _invite(session, interviewer, entry, invited_at, when) -> None:
    from casework import interviews

    interviews.do_schedule(session, interviewer, entry, when, "心理中心 203 谈话室", invited_at)


def _staff(session: Session, institution: Institution, role: Role) -> User | None:
    return session.scalar(
        select(User)
        .join(User.roles)
        .where(RoleAssignment.role == role, RoleAssignment.institution_id == institution.id)
        .order_by(User.login)
    )


# ==================================================================================================
# Crisis records (issue #17 §3): one crisis record on a demo red warning
# ==================================================================================================


def _seed_crisis(session: Session, institution: Institution) -> None:
    """A crisis record with its first entry on the first red warning open before the crisis,
    written by a school counsellor; skipped once the institution has a crisis record."""
    from datetime import timedelta

    from sqlalchemy import select

    from campus import clock
    from campus.demo import guardian_relation
    from campus.models import EnrolmentStatus
    from campus.models import Role
    from campus.models import RoleAssignment
    from campus.models import Student
    from campus.models import User
    from casework import crisis
    from casework.models import ContactChannel
    from casework.models import ContactOutcome
    from casework.models import CrisisAction
    from casework.models import CrisisRecord
    from warning.models import EarlyWarning
    from warning.models import WarningStatus
    from warning.policy import Level

    if session.scalar(select(CrisisRecord.id).where(CrisisRecord.institution_id == institution.id)):
        return
    now = clock.now()
    occurred = now - timedelta(hours=20)
    # A red already open when the crisis happened (its record and the call to the family come
    # after the warning, on its timeline), of a student still at school (the dorm is hers).
    warning = session.scalar(
        select(EarlyWarning)
        .join(Student, Student.id == EarlyWarning.student_id)
        .where(
            EarlyWarning.institution_id == institution.id,
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level == Level.RED,
            EarlyWarning.opened_at < occurred,
            Student.enrolment_status == EnrolmentStatus.ENROLLED,
        )
        .order_by(EarlyWarning.id)
        .limit(1)
    )
    counsellor = session.scalar(
        select(User)
        .join(User.roles)
        .where(
            RoleAssignment.institution_id == institution.id,
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
        )
        .order_by(User.id)
        .limit(1)
    )
    if warning is None or counsellor is None:
        return
    crisis.open_record(
        session,
        counsellor,
        warning,
        crisis.EntryInput(
            occurred_at=occurred,
            place="3栋 214 宿舍",
            narrative="室友晚间发现该生情绪激动、言语中流露轻生念头，立即报告宿舍管理员和辅导员。"
            "辅导员与心理中心值班老师到场陪伴，学生情绪逐步平稳，随后陪同前往医院急诊评估。",
            submission="demo-crisis-1",
            present="室友两名、宿舍管理员、辅导员、心理中心值班老师",
            actions=[CrisisAction.ACCOMPANIED, CrisisAction.HOSPITAL],
            hospital="湖南省脑科医院",
            # The call to the family: the student's family contact, the guardian informed.
            # The guardian as the warning demo's call to her named them (mother or father).
            family=crisis.FamilyCall(
                at=now - timedelta(hours=19),
                guardian_name=warning.student.guardian_name or "学生家长",
                guardian_relation=(
                    guardian_relation(warning.student.guardian_name)
                    if warning.student.guardian_name
                    else ""
                ),
                channel=ContactChannel.PHONE,
                outcome=ContactOutcome.REACHED,
                summary="告知学生当晚情况及已陪同前往医院急诊评估，家长表示会尽快赶到医院。",
            ),
        ),
        now,
    )
