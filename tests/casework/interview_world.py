"""A school after a screening campaign, for the interview-list tests: two departments, their
students, the centre's director and school counsellor, each department's counsellor, and a
campaign (saved directly, so licensed instruments need no loaded item text)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Department
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from casework import interviews
from casework.models import InterviewEntry
from screening import campaigns
from screening import intake
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from warning import actions
from warning import services as warnings
from warning.models import SignalSource
from warning.policy import Level


@dataclass
class World:
    institution: Institution
    computing: Department
    maths: Department
    student: Student
    classmate: Student
    mathematician: Student
    director: User
    counsellor: User
    computing_counsellor: User
    maths_counsellor: User
    admin: User


def build(campus) -> World:
    inst = campus.institution("XJU")
    computing = campus.department(inst, "Computing")
    maths = campus.department(inst, "Mathematics")
    cs = campus.class_group(computing, "CS2601")
    ma = campus.class_group(maths, "MA2601")
    world = World(
        institution=inst,
        computing=computing,
        maths=maths,
        student=campus.student(cs, name="Wang Fang"),
        classmate=campus.student(cs, name="Li Lei"),
        mathematician=campus.student(ma, name="Zhao Min"),
        director=campus.staff(inst, Role.DIRECTOR, login="director"),
        counsellor=campus.staff(inst, Role.SCHOOL_COUNSELLOR, login="sc01"),
        computing_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=computing),
        maths_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=maths),
        admin=campus.staff(inst, Role.ADMIN, login="admin"),
    )
    campus.commit()
    return world


def campaign(world: World, *instruments: str, closes_in_days: int = 7) -> Campaign:
    """A campaign open since yesterday, its cohort every enrolled student."""
    now = clock.now()
    made = Campaign(
        institution_id=world.institution.id,
        name=f"Intake {'+'.join(instruments)}",
        instruments=list(instruments),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=closes_in_days),
    )
    db.session.add(made)
    db.session.flush()
    campaigns.sync_assignments(db.session, made)
    db.session.commit()
    return made


def assignment(made: Campaign, student: Student) -> CampaignAssignment:
    return db.session.scalars(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == made.id, CampaignAssignment.student_id == student.id
        )
    ).one()


def submit(made: Campaign, student: Student, code: str, answers: Mapping[int, int]):
    """The student submits `code` with `answers` (every other item at its lowest value)."""
    inst = load_instrument(code)
    full = {item.number: item.options.low for item in inst.items} | dict(answers)
    return intake.submit(
        db.session,
        assignment(made, student),
        inst,
        full,
        token=f"{code}-{student.id}",
        locale="en",
        now=clock.now(),
    )


def phq9_total(total: int, item9: int = 0) -> dict[int, int]:
    """PHQ-9 answers adding up to `total`, item 9 as given."""
    answers: dict[int, int] = {9: item9}
    left = total - item9
    for item in range(1, 9):
        answers[item] = min(3, left)
        left -= answers[item]
    assert left == 0
    return answers


def entries(made: Campaign | None = None) -> list[InterviewEntry]:
    stmt = select(InterviewEntry).order_by(InterviewEntry.id)
    if made is not None:
        stmt = stmt.where(InterviewEntry.campaign_id == made.id)
    return list(db.session.scalars(stmt))


def results(made: Campaign) -> int:
    return len(
        db.session.scalars(
            select(ScreeningResult.id).where(ScreeningResult.campaign_id == made.id)
        ).all()
    )


NOW = datetime(2026, 9, 14, 2, 0)


def listed(world: World) -> tuple[Campaign, InterviewEntry, InterviewEntry]:
    """A campaign whose results listed Wang Fang (yellow) and Zhao Min (red): the campaign and
    their two interview entries."""
    made = campaign(world, "phq9")
    submit(made, world.student, "phq9", phq9_total(12))
    submit(made, world.mathematician, "phq9", phq9_total(22))
    by_student = {e.student_id: e for e in entries(made)}
    return made, by_student[world.student.id], by_student[world.mathematician.id]


def judged_red(world: World, student: Student) -> None:
    """The school counsellor's own judgement puts `student` at red now (a warning of its own, not
    a screening's), committed."""
    warnings.record_signal(
        db.session,
        student=student,
        source=SignalSource.COUNSELLOR,
        observed_at=clock.now(),
        label="Counsellor's judgement",
        explicit_level=Level.RED,
        recorded_by=world.counsellor,
    )
    db.session.commit()


def assess(counsellor: User, student: Student) -> None:
    """`counsellor` records the professional assessment of `student`'s open warning now."""
    warning = warnings.open_warning(db.session, student.id)
    assert warning is not None, "an assessment is of an open warning"
    actions.record_assessment(
        db.session,
        counsellor,
        warning,
        warning.version,
        clock.now(),
        outcome="面谈评估：风险可控，继续每周跟进",
    )
    db.session.expire_all()


def invited_by_sc02(campus, world: World, entry: InterviewEntry, when: datetime) -> User:
    """A second school counsellor, sc02, is given `entry` by the director and invites the student
    to Room 203 at `when`; returns sc02."""
    sc02 = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR, login="sc02")
    campus.commit()
    interviews.assign(db.session, world.director, [entry], sc02, clock.now())
    interviews.schedule(
        db.session, sc02, entry, entry.version, clock.now(), when=when, place="Room 203"
    )
    return sc02
