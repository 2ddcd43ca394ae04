"""A school counsellor starts a referral from the student's warning page; others see no link."""

from __future__ import annotations

from campus import clock
from campus.extensions import db
from campus.models import Role
from warning import services


def _red_warning(student) -> None:
    services.record_signal(
        db.session,
        student=student,
        source="screening",
        observed_at=clock.now(),
        label="PHQ-9 in the intake",
        instrument="phq9",
        total=22,
    )
    db.session.commit()


def test_school_counsellor_sees_the_referral_link_on_the_warning_page(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    _red_warning(unit.student)
    warning = services.open_warning(db.session, unit.student.id)
    page = login(counsellor).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert f"/referrals/new/{warning.id}" in page


def test_department_counsellor_gets_no_referral_link(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _red_warning(unit.student)
    page = login(counsellor).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert "/referrals/new/" not in page
