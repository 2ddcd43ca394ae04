"""Demo data of the privacy domain, for `flask campus seed-demo`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution, Role, RoleAssignment, Student, User


def seed(session: Session, institution: Institution) -> None:
    """Every privacy part's demo data."""
    seed_retention(session, institution)


def seed_retention(session: Session, institution: Institution) -> None:
    """One erasure request waiting for the director and one legal hold in force, so the
    director's pages show what they are for; nothing is purged."""
    from privacy.retention_models import ErasureRequest, ErasureState, LegalHold

    director = session.scalar(
        select(User)
        .join(User.roles)
        .where(
            RoleAssignment.role == Role.DIRECTOR, RoleAssignment.institution_id == institution.id
        )
        .order_by(User.login)
    )
    students = session.scalars(
        select(Student)
        .where(Student.institution_id == institution.id, Student.user_id.is_not(None))
        .order_by(Student.student_number.desc())
        .limit(2)
    ).all()
    if director is None or len(students) < 2:
        return
    asking, held = students
    now = clock.now()
    session.add_all(
        [
            ErasureRequest(
                institution_id=institution.id,
                student_id=asking.id,
                state=ErasureState.REQUESTED,
                requested_at=now - timedelta(days=2),
                student_note="我不想让心理测评记录一直留在系统里。",
                kept={},
                counts={},
            ),
            LegalHold(
                institution_id=institution.id,
                student_id=held.id,
                reason="家长就危机处置向学校提出投诉，调查结束前保留全部记录。",
                placed_by_id=director.id,
                placed_at=now - timedelta(days=20),
            ),
        ]
    )
    session.commit()
