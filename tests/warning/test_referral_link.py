"""Referring from the warning page: the school counsellor who takes up a red or yellow warning
refers in one click; one who has not is offered a logged break-glass that brings them back; once
referred, the page shows the referral's state instead of offering another."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from referrals import services as referrals
from referrals.models import ConsentBy
from referrals.models import ReferralStatus
from referrals.models import Urgency
from referrals.services import Change
from referrals.services import NewReferral
from referrals.services import ReferralSettings
from tests.factories import phq9_signal
from warning import services


def _warning(student, phq9_total: int = 22):
    phq9_signal(student, phq9_total)
    return services.open_warning(db.session, student.id)


def _acknowledge(client, warning) -> None:
    response = client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )
    assert response.status_code == 302, response.data[:300]


def _audit_count(action: str) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == action))


def _page(client, student) -> str:
    return client.get(f"/warnings/students/{student.id}").get_data(as_text=True)


def test_counsellor_who_acknowledges_a_red_warning_refers_in_one_click(campus, unit, login):
    campus.hospital(unit.institution, "Brain Hospital")
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = _warning(unit.student)
    client = login(counsellor)

    _acknowledge(client, warning)

    assert f"/referrals/new/{warning.id}" in _page(client, unit.student)
    form = client.get(f"/referrals/new/{warning.id}")
    assert form.status_code == 200
    assert "Brain Hospital" in form.get_data(as_text=True)
    assert _audit_count("break_glass") == 0
    assert _audit_count("caseload_joined") == 1
    assert db.session.get(type(warning), warning.id).assigned_counsellor_id == counsellor.id


def test_contact_on_a_yellow_warning_puts_the_student_on_the_caseload(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = _warning(unit.student, phq9_total=14)
    response = login(counsellor).post(
        f"/warnings/{warning.id}/actions/contact",
        data={
            "contact-version": warning.version,
            "contact-method": "phone",
            "contact-outcome": "reached",
        },
    )
    assert response.status_code == 302
    caseload = db.session.scalars(select(Caseload.counsellor_id)).all()
    assert caseload == [counsellor.id]


def test_acknowledging_a_blue_warning_takes_on_no_case(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = _warning(unit.student, phq9_total=7)
    client = login(counsellor)
    _acknowledge(client, warning)
    assert db.session.scalar(select(func.count(Caseload.id))) == 0
    assert client.get(f"/referrals/new/{warning.id}").status_code == 404


def test_counsellor_without_the_case_breaks_glass_and_comes_back_to_the_warning(
    campus, unit, login
):
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = _warning(unit.student)
    client = login(counsellor)
    page = _page(client, unit.student)
    assert f"/referrals/new/{warning.id}" not in page
    back = f"/warnings/students/{unit.student.id}"
    link = f"/students/{unit.student.id}/break-glass?next={back}"
    assert link in page

    response = client.post(link, data={"reason": "Crisis call from the dorm tonight"})

    assert response.status_code == 302
    assert response.headers["Location"] == back
    assert f"/referrals/new/{warning.id}" in _page(client, unit.student)


def test_department_counsellor_gets_no_referral_link(campus, unit, login):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    _warning(unit.student)
    page = _page(login(counsellor), unit.student)
    assert "/referrals/new/" not in page
    assert "break-glass" not in page


def test_referred_warning_shows_the_referrals_state_instead_of_another_referral(
    campus, unit, login
):
    hospital = campus.hospital(unit.institution, "Brain Hospital")
    counsellor = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    warning = _warning(unit.student)
    client = login(counsellor)
    _acknowledge(client, warning)
    referral = referrals.create_referral(
        db.session,
        counsellor,
        services.open_warning(db.session, unit.student.id),
        NewReferral(
            hospital_id=hospital.id,
            reason="Safety item positive",
            urgency=Urgency.URGENT,
            green_channel=True,
            disclosed_fields=["name"],
            consent_by=ConsentBy.STUDENT,
            consent_name="Li Hua",
            consent_method="written",
            consent_at=clock.now() - timedelta(hours=1),
        ),
        clock.now(),
    )
    referrals.transition(
        db.session,
        counsellor,
        referral,
        Change(target=ReferralStatus.SENT, expected_version=referral.version),
        clock.now(),
        ReferralSettings(),
    )

    page = _page(client, unit.student)

    assert "/referrals/new/" not in page
    assert "Brain Hospital" in page
    assert "Sent" in page
    assert f"/referrals/{referral.id}" in page
    assert _audit_count("referral_status_read") == 1
