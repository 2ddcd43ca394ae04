"""A school counsellor starts a referral from the student's warning page; others see no link."""

from __future__ import annotations

from campus.extensions import db
from campus.models import Role
from tests.factories import phq9_signal
from warning import services


def test_school_counsellor_sees_the_referral_link_on_the_warning_page(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    phq9_signal(unit.student, 22)
    warning = services.open_warning(db.session, unit.student.id)
    page = login(counsellor).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert f"/referrals/new/{warning.id}" in page


def test_department_counsellor_gets_no_referral_link(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    phq9_signal(unit.student, 22)
    page = login(counsellor).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert "/referrals/new/" not in page
