"""Casework's demo data: `seed(session, institution)`, called by `flask campus seed-demo` after
the screening and warning demo data (each casework part adds its own block)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution, Role, RoleAssignment, User


def seed(session: Session, institution: Institution) -> None:
    """Every casework part's demo data for the demo university."""
    from casework import file_demo

    file_demo.seed(session, institution)
    seed_interviews(session, institution)


# ==================================================================================================
# Post-screening interviews (筛查后约谈)
# ==================================================================================================


def seed_interviews(session: Session, institution: Institution) -> None:
    """Walk the follow-up screening's interview list (written by its results' hand-off) into
    every state a centre sees: interviewed (each conclusion), a no-show, unreachable, invited,
    assigned, and the rest left to assign; no warning level is changed. A handful of rows, so
    seeding stays fast."""
    from casework import interviews
    from casework.models import InterviewEntry, InterviewState

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
    worked, rest = entries[:9], entries[9:]
    if worked:
        interviews.do_assign(session, director, worked, sc01, now - timedelta(days=6))
    conclusions = ["no_concern", "watch", "follow_up", "watch"]
    for entry, conclusion in zip(worked[:4], conclusions, strict=False):
        _invite(session, sc01, entry, now - timedelta(days=5), now - timedelta(days=3))
        outcome = interviews.Outcome(attendance="attended", conclusion=conclusion)
        interviews.do_record_outcome(session, sc01, entry, outcome, None, now - timedelta(days=3))
    if len(worked) > 5:
        _invite(session, sc01, worked[4], now - timedelta(days=4), now - timedelta(days=2))
        no_show = interviews.Outcome(attendance="no_show")
        interviews.do_record_outcome(session, sc01, worked[4], no_show, None, now)
        _invite(session, sc01, worked[5], now - timedelta(days=4), now - timedelta(days=2))
        gone = interviews.Outcome(attendance="unreachable")
        interviews.do_record_outcome(session, sc01, worked[5], gone, None, now)
    for entry in worked[6:8]:
        _invite(session, sc01, entry, now, now + timedelta(days=2, hours=2))
    department_tier = next((e for e in rest if e.tier == "department"), None)
    if department_tier is not None:
        counsellor = session.scalar(
            select(User)
            .join(RoleAssignment)
            .where(
                RoleAssignment.role == Role.DEPT_COUNSELLOR,
                RoleAssignment.department_id == department_tier.department_id,
            )
        )
        if counsellor is not None:
            interviews.do_assign(session, director, [department_tier], counsellor, now)
    session.flush()


def _invite(session, interviewer, entry, invited_at, when) -> None:
    from casework import interviews

    interviews.do_schedule(session, interviewer, entry, when, "心理中心 203 谈话室", invited_at)


def _staff(session: Session, institution: Institution, role: Role) -> User | None:
    return session.scalar(
        select(User)
        .join(RoleAssignment)
        .where(RoleAssignment.role == role, RoleAssignment.institution_id == institution.id)
        .order_by(User.login)
    )
