"""Privacy's demo data: `seed(session, institution)`, called by `flask campus seed-demo` after
every other domain's (each privacy part adds its own block)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User


def seed(session: Session, institution: Institution) -> None:
    """Every privacy part's demo data for the demo university."""
    seed_retention(session, institution)
    seed_consent(session, institution)


def seed_retention(session: Session, institution: Institution) -> None:
    """One erasure request waiting for the director and one legal hold in force, so the
    director's pages show what they are for; nothing is purged."""
    from privacy.retention_models import ErasureRequest
    from privacy.retention_models import ErasureState
    from privacy.retention_models import LegalHold

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


# ==================================================================================================
# Consent that can be withdrawn (issue #19)
# ==================================================================================================


def seed_consent(session: Session, institution: Institution) -> None:
    """Two screened students who withdrew consent to screening: one eight days ago (the file
    shows "consent withdrawn" where the results were), one who withdrew and opted back in."""
    from privacy import consent
    from privacy.models import ConsentScope
    from screening.models import ScreeningResult

    screened = list(
        session.scalars(
            select(Student)
            .where(
                Student.institution_id == institution.id,
                Student.id.in_(select(ScreeningResult.student_id)),
                Student.user_id.is_not(None),
            )
            .order_by(Student.id)
            .limit(2)
        )
    )
    now = clock.now()
    for n, student in enumerate(screened):
        assert student.user is not None  # the query took only students with an account
        withdrawn_at = now - timedelta(days=8 + 20 * n)
        # The words a student reads, in the demo's language (a request context: zh-CN).
        with current_app.test_request_context():
            text = consent.explain(session, student, ConsentScope.SCREENING, withdrawn_at)
            row = consent.do_withdraw(
                session,
                student.user,
                student,
                ConsentScope.SCREENING,
                explanation=text.as_text(),
                locale="zh_CN",
                ip=None,
                now=withdrawn_at,
            )
        if n == 1:
            consent.do_reinstate(
                session,
                student.user,
                student,
                row,
                consent_text="我同意重新参加心理健康筛查。",
                now=withdrawn_at + timedelta(days=6),
            )
    session.flush()
