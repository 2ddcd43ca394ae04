"""Demo early-warning data: concern and weekly reports, academic records and life events, so the
queue shows red, yellow and blue warnings with their reasons."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from warning import academic
from warning import labels
from warning import reports
from warning.models import ConcernCategory
from warning.models import LifeEventKind
from warning.models import SignalSource
from warning.services import record_signal

# The chosen cases' totals in the open freshman intake: a red, two yellows and three blues.
SCREENINGS = (
    {"phq9": 22},
    {"phq9": 14},
    {"gad7": 12},
    {"phq9": 7},
    {"gad7": 6},
    {"phq9": 8},
)
CONCERNS = (ConcernCategory.SUICIDAL_TALK, ConcernCategory.LOW_MOOD, ConcernCategory.ISOLATION)


def seed(session: Session, institution: Institution) -> None:
    """Add the domain's demo data to ``institution``; skipped once its concern reports exist (the
    screening demo's results are signals too, so their presence says nothing about ours)."""
    from warning.models import Signal

    ours = select(Signal.id).where(
        Signal.institution_id == institution.id, Signal.source == SignalSource.CONCERN_REPORT
    )
    if session.scalar(ours.limit(1)):
        return
    now = clock.now()
    # The warnings' students hold no peer role: the demo's committee member and informant sign in
    # to do their class's and room's work, not to read about themselves.
    peers = select(RoleAssignment.user_id).where(
        RoleAssignment.institution_id == institution.id,
        RoleAssignment.role.in_((Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)),
    )
    students = list(
        session.scalars(
            select(Student)
            .where(Student.institution_id == institution.id, Student.user_id.not_in(peers))
            .order_by(Student.id)
            .limit(40)
        )
    )
    if len(students) < 12:
        return
    _concerns(session, institution, students, now)
    screened = _screenings(session, institution, students[3:], now)
    others = [s for s in students[3:] if s not in screened]
    for student, kind in zip(
        others[:2],
        (LifeEventKind.BEREAVEMENT, LifeEventKind.INTERPERSONAL_ISOLATION),
        strict=True,
    ):
        record_signal(
            session,
            student=student,
            source=SignalSource.LIFE_EVENT,
            observed_at=now - timedelta(days=5),
            label=labels.life_event(kind.value, (now - timedelta(days=5)).date()),
            flags=academic.life_event_flags(kind),
        )
    # Last year's spring term is the registrar's latest: only the older grade has grades in it.
    for student in [s for s in others[2:] if s.class_group.grade < now.year][:1]:
        record_signal(
            session,
            student=student,
            source=SignalSource.ACADEMIC,
            observed_at=now - timedelta(days=20),
            label=labels.academic_difficulty(
                f"{now.year - 1}-{now.year}-2",
                [labels.failed_credits(14), labels.academic_warning()],
            ),
            flags=["key_group:academic_difficulty"],
        )
    session.commit()
    _weekly(session, institution, now)


def _concerns(session: Session, institution: Institution, students: list[Student], now) -> None:
    for student, category in zip(students[:3], CONCERNS, strict=False):
        committee = session.scalar(
            select(User)
            .join(User.roles)
            .where(
                RoleAssignment.institution_id == institution.id,
                RoleAssignment.role == Role.CLASS_COMMITTEE,
            )
            .order_by(RoleAssignment.class_id != student.class_id, User.id)
            .limit(1)
        )
        record_signal(
            session,
            student=student,
            source=SignalSource.CONCERN_REPORT,
            observed_at=now - timedelta(days=1),
            label=labels.concern_report("class", category.value, now - timedelta(days=1)),
            flags=[f"concern:{category.value}"],
            recorded_by=committee,
        )


def _screenings(
    session: Session, institution: Institution, students: list[Student], now
) -> list[Student]:
    """The chosen cases answer the open freshman intake two days ago, through the screening
    demo, so each warning's reason is a result on the campaign's pages; returns them."""
    from screening import demo as screening_demo

    due = screening_demo.still_due(session, institution, now)
    screened = [s for s in students if s.id in due][: len(SCREENINGS)]
    for student, totals in zip(screened, SCREENINGS, strict=False):
        answers = screening_demo.answers_scoring(totals)
        screening_demo.complete(session, due[student.id], answers, now - timedelta(days=2))
    return screened


def _weekly(session: Session, institution: Institution, now) -> None:
    """Zero reports from half the reporters, so the missing-report view has both kinds."""
    week = reports.week_start(now.date())
    reporters = (
        session.scalars(
            select(User)
            .join(User.roles)
            .where(
                RoleAssignment.institution_id == institution.id,
                RoleAssignment.role.in_((Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)),
            )
        )
        .unique()
        .all()
    )
    for user in reporters[::2]:
        for unit in reports.units_of(session, user)[:1]:
            try:
                reports.file_weekly_report(
                    session, user=user, unit=unit, week=week, zero_report=True, note=None, now=now
                )
            except reports.ReportError:
                continue
