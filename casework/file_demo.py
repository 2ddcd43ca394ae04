"""Demo data for the student file: several years of screening rounds for the students the demo's
warnings name, and contacts with their families, so a demo file has history to show.

Rows are added directly (past rounds are history, not new answers to triage), a few hundred in
all, so seeding stays fast.
"""

from __future__ import annotations

import random
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from casework.family_contacts import call_scripts
from casework.models import ContactChannel
from casework.models import ContactDirection
from casework.models import ContactOutcome
from casework.models import FamilyContact
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ResultSource
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from warning import caseload
from warning.models import EarlyWarning
from warning.models import WarningStatus

# Past rounds, oldest first: (Chinese name, English name, months before now).
ROUNDS = (
    ("2023级新生心理普查（往年）", "Past freshman intake", 30),
    ("2024年春季心理复查", "2024 spring follow-up", 24),
    ("2024年秋季心理复查", "2024 autumn follow-up", 18),
    ("2025年春季心理复查", "2025 spring follow-up", 12),
    ("2025年秋季心理复查", "2025 autumn follow-up", 6),
)
INSTRUMENTS = ("phq9", "gad7")
STUDENTS_WITH_HISTORY = 8


def seed(session: Session, institution: Institution) -> None:
    """Screening history and family contacts for the first students with an open warning;
    skipped once the past rounds exist."""
    if session.scalar(
        select(Campaign.id).where(
            Campaign.institution_id == institution.id, Campaign.name == ROUNDS[0][0]
        )
    ):
        return
    now = clock.now()
    rng = random.Random(20261205)
    students = list(
        session.scalars(
            select(Student)
            .join(EarlyWarning, EarlyWarning.student_id == Student.id)
            .where(
                Student.institution_id == institution.id,
                EarlyWarning.status == WarningStatus.OPEN,
            )
            .order_by(EarlyWarning.level.desc(), Student.id)
            .limit(STUDENTS_WITH_HISTORY)
        )
    )
    if not students:
        return
    _rounds(session, institution, students, now, rng)
    counsellor = _first(session, institution, Role.SCHOOL_COUNSELLOR)
    if counsellor is not None:
        for student in students:
            caseload.join(session, counsellor, student, now)
    _family_contacts(session, institution, students, now, rng)
    session.flush()


def _first(session: Session, institution: Institution, role: Role, **scope: int) -> User | None:
    return session.scalar(
        select(User)
        .join(User.roles)
        .where(
            RoleAssignment.role == role,
            RoleAssignment.institution_id == institution.id,
            *(getattr(RoleAssignment, k) == v for k, v in scope.items()),
        )
        .order_by(User.id)
    )


def _band(code: str, total: float) -> str | None:
    return next(
        (b.code for b in load_instrument(code).bands if b.value and b.value.contains(total)), None
    )


def _rounds(
    session: Session,
    institution: Institution,
    students: list[Student],
    now: datetime,
    rng: random.Random,
) -> None:
    """Each past round with a result on each instrument for each student: low at first, drifting
    up towards the warning they have now."""
    versions = {code: load_instrument(code).version for code in INSTRUMENTS}
    for n, (name, name_en, months) in enumerate(ROUNDS):
        opens = now - timedelta(days=30 * months)
        campaign = Campaign(
            institution_id=institution.id,
            name=name,
            name_en=name_en,
            instruments=list(INSTRUMENTS),
            opens_at=opens,
            closes_at=opens + timedelta(days=14),
            students_see_report=True,
        )
        session.add(campaign)
        session.flush()
        for student in students:
            at = opens + timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 10))
            assignment = CampaignAssignment(
                campaign_id=campaign.id, student_id=student.id, started_at=at, completed_at=at
            )
            session.add(assignment)
            session.flush()
            for code, top in (("phq9", 27), ("gad7", 21)):
                total = min(top, max(0, 2 + n * 2 + rng.randint(-2, 3)))
                session.add(
                    ScreeningResult(
                        assignment_id=assignment.id,
                        campaign_id=campaign.id,
                        student_id=student.id,
                        institution_id=institution.id,
                        instrument=code,
                        instrument_version=versions[code],
                        answers={},
                        total=total,
                        band=_band(code, total),
                        source=ResultSource.IMPORT,
                        completed_at=at,
                    )
                )


def _family_contacts(
    session: Session,
    institution: Institution,
    students: list[Student],
    now: datetime,
    rng: random.Random,
) -> None:
    """One to three contacts per student, started from the call scripts, by the department's
    counsellor."""
    scripts = call_scripts()
    for student in students:
        author = _first(
            session, institution, Role.DEPT_COUNSELLOR, department_id=student.department_id
        ) or _first(session, institution, Role.DIRECTOR)
        if author is None:
            return
        for k in range(rng.randint(1, 3)):
            script = scripts[k % len(scripts)]
            session.add(
                FamilyContact(
                    institution_id=institution.id,
                    student_id=student.id,
                    at=now - timedelta(days=40 * (2 - k) + rng.randint(1, 20), hours=2),
                    author_id=author.id,
                    direction=ContactDirection.WE_CALLED,
                    guardian_name=student.guardian_name or "家长",
                    guardian_relation=rng.choice(("母亲", "父亲")),
                    channel=script.channel,
                    summary=script.summary_for("zh_CN") + "会配合学校，多关心孩子。",
                    outcome=ContactOutcome.REACHED,
                    agreements=list(script.agreements),
                    other_agreement="",
                    submission=f"demo-{student.id}-{k}",
                )
            )
        if rng.random() < 0.5:
            session.add(
                FamilyContact(
                    institution_id=institution.id,
                    student_id=student.id,
                    at=now - timedelta(days=2, hours=rng.randint(1, 8)),
                    author_id=author.id,
                    direction=ContactDirection.GUARDIAN_CALLED,
                    guardian_name=student.guardian_name or "家长",
                    guardian_relation="母亲",
                    channel=ContactChannel.WECHAT,
                    summary="家长主动询问孩子近况，已告知学校的关心安排。",
                    outcome=ContactOutcome.REACHED,
                    agreements=[],
                    other_agreement="",
                    submission=f"demo-{student.id}-parent",
                )
            )
