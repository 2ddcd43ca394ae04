"""Demo casework data, one block per part of the domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campus.models import Institution


def seed(session: Session, institution: Institution) -> None:
    """Add casework's demo data to `institution`."""
    _seed_crisis(session, institution)


# ==================================================================================================
# Crisis records (issue #17 §3): one crisis record on a demo red warning
# ==================================================================================================


def _seed_crisis(session: Session, institution: Institution) -> None:
    """A crisis record with its first entry on the first open red warning, written by a school
    counsellor; skipped once the institution has a crisis record."""
    from datetime import timedelta

    from sqlalchemy import select

    from campus import clock
    from campus.models import Role, RoleAssignment, User
    from casework import crisis
    from casework.models import CrisisAction, CrisisRecord
    from warning.models import EarlyWarning, WarningStatus
    from warning.policy import Level

    if session.scalar(select(CrisisRecord.id).where(CrisisRecord.institution_id == institution.id)):
        return
    warning = session.scalar(
        select(EarlyWarning)
        .where(
            EarlyWarning.institution_id == institution.id,
            EarlyWarning.status == WarningStatus.OPEN,
            EarlyWarning.level == Level.RED,
        )
        .order_by(EarlyWarning.id)
        .limit(1)
    )
    counsellor = session.scalar(
        select(User)
        .join(RoleAssignment)
        .where(
            RoleAssignment.institution_id == institution.id,
            RoleAssignment.role == Role.SCHOOL_COUNSELLOR,
        )
        .order_by(User.id)
        .limit(1)
    )
    if warning is None or counsellor is None:
        return
    now = clock.now()
    crisis.open_record(
        session,
        counsellor,
        warning,
        crisis.EntryInput(
            occurred_at=now - timedelta(hours=20),
            place="3栋 214 宿舍",
            narrative="室友晚间发现该生情绪激动、言语中流露轻生念头，立即报告宿舍管理员和辅导员。"
            "辅导员与心理中心值班老师到场陪伴，学生情绪逐步平稳，随后陪同前往医院急诊评估。",
            submission="demo-crisis-1",
            present="室友两名、宿舍管理员、辅导员、心理中心值班老师",
            actions=[
                CrisisAction.ACCOMPANIED,
                CrisisAction.HOSPITAL,
                CrisisAction.GUARDIAN_INFORMED,
            ],
            hospital="湖南省脑科医院",
        ),
        now,
    )
