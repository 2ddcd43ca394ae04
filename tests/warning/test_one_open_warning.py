"""The database itself keeps one open warning per student and one active policy per institution."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from campus.extensions import db
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import WarningStatus


def _warning(student, status=WarningStatus.OPEN) -> EarlyWarning:
    return EarlyWarning(
        student_id=student.id,
        institution_id=student.institution_id,
        department_id=student.department_id,
        status=status,
        level=2,
        computed_level=2,
        reason="yellow: test",
        policy_version="t",
        owner_tier=OwnerTier.DEPARTMENT,
    )


@pytest.fixture
def student(campus):
    inst = campus.institution("XJU")
    s = campus.student(campus.class_group(campus.department(inst)))
    campus.commit()
    return s


def test_a_second_open_warning_for_a_student_is_refused(student):
    db.session.add(_warning(student))
    db.session.commit()
    db.session.add(_warning(student))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_closed_warnings_do_not_block_a_new_open_one(student):
    db.session.add_all(
        [
            _warning(student, WarningStatus.CLOSED),
            _warning(student, WarningStatus.CLOSED),
            _warning(student),
        ]
    )
    db.session.commit()


def test_a_second_active_policy_for_an_institution_is_refused(student):
    def active(version: str) -> PolicyVersion:
        return PolicyVersion(
            institution_id=student.institution_id,
            version=version,
            yaml_text="version: 'x'",
            status=PolicyStatus.ACTIVE,
        )

    db.session.add(active("a"))
    db.session.commit()
    db.session.add(active("b"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
