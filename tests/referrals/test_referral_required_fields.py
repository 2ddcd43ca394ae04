"""A referral sent with nothing written says under each field what to write, in the counsellor's
language. Before: 该字段是必填字段。("This field is required.") under 同意时间 and 转介原因, which
does not tell a counsellor what is wanted."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.models import Hospital
from campus.models import RoleAssignment
from referrals.models import Referral
from tests.pages import errors_under

# What the form sends when nothing is typed: the token, and the selects as they stand.
UNTOUCHED = {"urgency": "routine", "consent_by": "student", "consent_method": "written"}


def _send(world, login, locale: str, **typed) -> str:
    world.counsellor.locale = locale
    db.session.commit()
    sent = UNTOUCHED | {"submission": uuid.uuid4().hex, "hospital_id": world.hospital.id} | typed
    response = login(world.counsellor).post(f"/referrals/new/{world.warning.id}", data=sent)
    assert db.session.scalar(select(func.count(Referral.id))) == 0
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "wanted"),
    [
        (
            "en",
            {
                "reason": "Write why the student is referred.",
                "consent_name": "Give the name of the person who consented.",
                "consent_at": "Choose when consent was given.",
            },
        ),
        (
            "zh_CN",
            {
                "reason": "请写明转介原因。",
                "consent_name": "请填写同意人姓名。",
                "consent_at": "请选择同意的时间。",
            },
        ),
    ],
)
def test_a_referral_sent_empty_says_under_each_field_what_to_write(world, login, locale, wanted):
    page = _send(world, login, locale)
    assert {field: errors_under(page, field) for field in wanted} == {
        field: [message] for field, message in wanted.items()
    }
    assert "This field is required." not in page
    assert "该字段是必填字段。" not in page


@pytest.mark.parametrize(
    ("locale", "wanted"),
    [
        ("en", "Give the date and time as year-month-day hour:minute, e.g. 2026-09-01 14:30."),
        ("zh_CN", "请按“年-月-日 时:分”填写日期和时间，例如 2026-09-01 14:30。"),
    ],
)
def test_a_consent_time_that_cannot_be_read_says_how_to_write_it(world, login, locale, wanted):
    """A browser's date box takes a year of five digits (one digit too many, typed in a hurry);
    WTForms answered 不是有效的日期与时间值。 ("Not a valid datetime value.")."""
    page = _send(
        world, login, locale, reason="Needs assessment", consent_name="Li Lei",
        consent_at="20266-09-13T10:00",
    )  # fmt: skip
    assert errors_under(page, "consent_at") == [wanted]


def test_a_campus_without_hospitals_says_so_instead_of_a_form_that_cannot_be_sent(world, login):
    """A new campus's counsellor met an empty hospital list, filled in the whole form and was
    told only that the hospital is required."""
    hospitals = [world.hospital.id, world.other_hospital.id]
    db.session.execute(delete(RoleAssignment).where(RoleAssignment.hospital_id.in_(hospitals)))
    db.session.execute(delete(Hospital).where(Hospital.id.in_(hospitals)))
    db.session.commit()
    page = login(world.counsellor).get(f"/referrals/new/{world.warning.id}")
    text = page.get_data(as_text=True)
    assert "No hospital is registered for referrals yet" in text
    assert "Ask the administrator to add the hospitals" in text
    assert 'name="reason"' not in text
