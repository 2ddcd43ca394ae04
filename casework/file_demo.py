"""Demo data for the student file: contacts with the families of the students the demo's
warnings name, on the caseload of the first school counsellor, so a demo file has history to show.

Their screening history is the screening demo's: real rounds of real campaigns (`screening.demo`).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.demo import guardian_relation
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
from warning import caseload
from warning.models import EarlyWarning
from warning.models import WarningStatus

STUDENTS_WITH_HISTORY = 8


def seed(session: Session, institution: Institution) -> None:
    """Family contacts for the first students with an open warning, on the first school
    counsellor's caseload; skipped once the institution has family contacts."""
    if session.scalar(
        select(FamilyContact.id).where(FamilyContact.institution_id == institution.id).limit(1)
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


def _family_contacts(
    session: Session,
    institution: Institution,
    students: list[Student],
    now: datetime,
    rng: random.Random,
) -> None:
    """One to three contacts per student, started from the call scripts, by the department's
    counsellor, all after the student's warning opened: a family contact is about the warning."""
    scripts = call_scripts()
    opened_at = dict(
        session.execute(
            select(EarlyWarning.student_id, EarlyWarning.opened_at).where(
                EarlyWarning.student_id.in_([s.id for s in students]),
                EarlyWarning.status == WarningStatus.OPEN,
            )
        ).tuples()
    )
    for student in students:
        author = _first(
            session, institution, Role.DEPT_COUNSELLOR, department_id=student.department_id
        ) or _first(session, institution, Role.DIRECTOR)
        if author is None:
            return
        relation = guardian_relation(student.guardian_name) if student.guardian_name else "母亲"
        opened = opened_at[student.id]
        calls = rng.randint(1, 3)
        for k in range(calls):
            script = scripts[k % len(scripts)]
            session.add(
                FamilyContact(
                    institution_id=institution.id,
                    student_id=student.id,
                    at=opened + (now - opened) * (k + 1) / (calls + 2),
                    author_id=author.id,
                    direction=ContactDirection.WE_CALLED,
                    guardian_name=student.guardian_name or "家长",
                    guardian_relation=relation,
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
                    at=opened + (now - opened) * (calls + 1) / (calls + 2),
                    author_id=author.id,
                    direction=ContactDirection.GUARDIAN_CALLED,
                    guardian_name=student.guardian_name or "家长",
                    guardian_relation=relation,
                    channel=ContactChannel.WECHAT,
                    summary="家长主动询问孩子近况，已告知学校的关心安排。",
                    outcome=ContactOutcome.REACHED,
                    agreements=[],
                    other_agreement="",
                    submission=f"demo-{student.id}-parent",
                )
            )
