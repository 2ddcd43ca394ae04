"""The referring counsellor's work phone: kept on their account, edited by them or the
administrator, and shown to the hospital on the referral next to their name."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import User
from referrals.models import ReferralStatus
from tests.referrals.conftest import new_referral
from tests.referrals.conftest import walk

PHONE = "0731-8888-0101"


def _sent_referral(world):
    return walk(world, new_referral(world), [ReferralStatus.SENT])


def test_the_liaison_sees_the_referring_counsellors_name_and_own_phone(world, login):
    world.institution.on_duty_phone = "0731-8888-0000"
    db.session.commit()
    client = login(world.counsellor)
    assert client.post("/account", data={"phone": f" {PHONE} "}).status_code == 302
    referral = _sent_referral(world)
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert world.counsellor.name in page
    assert f'href="tel:{PHONE}"' in page
    assert "0731-8888-0000" in page  # the centre's phone stays
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "phone_changed")
        )
        == 1
    )


def test_a_phone_that_is_not_a_number_is_refused_and_nothing_is_saved(world, login):
    client = login(world.counsellor)
    response = client.post("/account", data={"phone": "call me maybe"})
    assert response.status_code == 200
    assert "Write the phone with digits" in response.get_data(as_text=True)
    assert db.session.get(User, world.counsellor.id).phone is None


def test_the_administrator_sets_a_staff_phone_but_not_a_students_or_another_schools(
    world, login, campus
):
    other = campus.staff(campus.institution("HNU"), Role.SCHOOL_COUNSELLOR)
    campus.commit()
    client = login(world.admin)
    url = f"/admin/users/{world.counsellor.id}/phone"
    assert client.post(url, data={"phone": PHONE}).status_code == 302
    assert db.session.get(User, world.counsellor.id).phone == PHONE
    assert PHONE in client.get(f"/admin/users/{world.counsellor.id}").get_data(as_text=True)
    assert client.post(f"/admin/users/{other.id}/phone", data={"phone": PHONE}).status_code == 404
    student_user = world.student.user
    refused = client.post(
        f"/admin/users/{student_user.id}/phone", data={"phone": PHONE}, follow_redirects=True
    )
    assert "A student account has no work phone." in refused.get_data(as_text=True)
    assert (db.session.get(User, other.id).phone, db.session.get(User, student_user.id).phone) == (
        None,
        None,
    )


def test_a_students_account_page_asks_for_no_phone_and_keeps_none(world, login):
    client = login(world.student.user)
    page = client.get("/account").get_data(as_text=True)
    assert world.student.user.login in page  # their account page, without a phone field
    assert "Work phone" not in page
    client.post("/account", data={"phone": PHONE})
    assert db.session.get(User, world.student.user.id).phone is None
