"""A referral's consent and status follow what is true: a minor is referred only on a guardian's
consent (refused when sent, said when drafted), an assessment is not recorded before the
appointment starts (the liaison changes the appointment's time first), and the stalled date
reads as the other deadlines do. The test clock is 2026-09-14 10:00 in the institution's zone."""

from __future__ import annotations

import re
import uuid
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.notifications import Notification
from referrals import services
from referrals.models import AssessmentOutcome
from referrals.models import ConsentBy
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from tests import factories
from tests.referrals.conftest import new_referral
from tests.referrals.conftest import referral_in
from tests.referrals.conftest import step

S = ReferralStatus
SEVENTEEN = date(2009, 1, 1)


def _born(world, birth_date: date) -> None:
    world.student.birth_date = birth_date
    db.session.commit()


def _transitions(referral: Referral) -> int:
    return db.session.scalar(
        select(func.count(ReferralTransition.id)).where(
            ReferralTransition.referral_id == referral.id
        )
    )


# --- a minor's consent ------------------------------------------------------------------------


def _refused_move(client, url: str, data: dict, says: str, referral: Referral) -> None:
    """The move is refused with `says` on the page, and the referral stays where it was."""
    was = referral.status
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is was


def test_a_minors_draft_on_her_own_consent_is_saved_but_not_sent(world):
    _born(world, SEVENTEEN)
    referral = new_referral(world, consent_by=ConsentBy.STUDENT)
    assert referral.status is S.DRAFT  # written before the guardian is reached
    with pytest.raises(services.InvalidTransition, match="under 18"):
        step(world, referral, S.SENT)
    db.session.rollback()
    assert (referral.status, referral.sent_at, _transitions(referral)) == (S.DRAFT, None, 1)


def test_a_minors_referral_is_sent_on_the_guardians_consent(world):
    _born(world, SEVENTEEN)
    referral = new_referral(world, consent_by=ConsentBy.GUARDIAN, consent_name="Li Dad")
    step(world, referral, S.SENT)
    assert referral.status is S.SENT


@pytest.mark.parametrize(
    ("birth_date", "sent"),
    [(date(2008, 9, 14), True), (date(2008, 9, 15), False)],
    ids=["18 today", "18 tomorrow"],
)
def test_the_age_is_the_one_on_the_day_of_sending(world, birth_date, sent):
    _born(world, birth_date)
    referral = new_referral(world, consent_by=ConsentBy.STUDENT)
    if sent:
        step(world, referral, S.SENT)
    else:
        with pytest.raises(services.InvalidTransition):
            step(world, referral, S.SENT)
        db.session.rollback()
    assert (referral.status is S.SENT) is sent


def _new_referral_form(world, consent_by: str) -> dict:
    return {
        "submission": uuid.uuid4().hex,
        "hospital_id": world.hospital.id,
        "reason": "Needs psychiatric assessment",
        "urgency": "urgent",
        "disclosed_fields": ["name", "gender"],
        "consent_by": consent_by,
        "consent_name": "Li Lei",
        "consent_method": "in_person",
        "consent_at": "2026-09-13T10:00",
    }


def test_the_form_says_before_it_is_filled_that_a_minor_needs_a_guardian(world, login):
    client = login(world.counsellor)
    hint = "can be sent only with a guardian"
    assert hint not in client.get(f"/referrals/new/{world.warning.id}").get_data(as_text=True)
    _born(world, SEVENTEEN)
    assert hint in client.get(f"/referrals/new/{world.warning.id}").get_data(as_text=True)


def _saved_on_her_own_consent(client, world) -> str:
    """The page after saving a draft referral on the student's own consent."""
    return client.post(
        f"/referrals/new/{world.warning.id}",
        data=_new_referral_form(world, "student"),
        follow_redirects=True,
    ).get_data(as_text=True)


def test_a_minors_draft_on_her_own_consent_is_flagged_and_her_send_refused_on_the_page(
    world, login
):
    _born(world, SEVENTEEN)
    client = login(world.counsellor)
    saved = _saved_on_her_own_consent(client, world)
    assert "record a guardian&#39;s consent before sending" in saved
    assert 'id="awaits-guardian"' in saved
    referral = db.session.scalar(select(Referral))
    _refused_move(
        client,
        f"/referrals/{referral.id}/move?target=sent",
        {"sent-version": referral.version, "sent-confirm": "y"},
        "a minor&#39;s referral needs a guardian&#39;s consent",
        referral,
    )


def test_an_adults_draft_on_her_own_consent_carries_no_warning(world, login):
    client = login(world.counsellor)
    saved = _saved_on_her_own_consent(client, world)
    assert 'id="awaits-guardian"' not in saved
    assert "guardian&#39;s consent" not in saved


# --- no assessment before the appointment -----------------------------------------------------


def test_an_assessment_before_the_appointment_is_refused_and_writes_nothing(world):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)  # booked for 2026-09-20 09:00
    with pytest.raises(services.InvalidTransition, match="not started yet"):
        step(world, referral, S.ASSESSED, outcome=AssessmentOutcome.OUTPATIENT)
    db.session.rollback()
    assert (referral.status, referral.outcome, _transitions(referral)) == (
        S.APPOINTMENT_BOOKED,
        None,
        3,
    )


def test_a_student_seen_early_is_assessed_after_the_appointment_time_is_changed(world):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)
    earlier = clock.now() - timedelta(hours=1)
    step(world, referral, S.APPOINTMENT_BOOKED, appointment_at=earlier, note="Seen this morning")
    assert referral.appointment_at == earlier
    told = db.session.scalars(
        select(Notification.text).where(Notification.user_id == world.counsellor.id)
    ).all()
    assert "The appointment for your referral has been changed." in told
    step(world, referral, S.ASSESSED, outcome=AssessmentOutcome.OUTPATIENT)
    assert referral.status is S.ASSESSED


def test_the_appointment_time_sent_unchanged_is_refused_and_writes_nothing(world, login):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)
    transitions, version = _transitions(referral), referral.version
    _refused_move(
        login(world.liaison),
        f"/hospital/referrals/{referral.id}/move?target=appointment_booked",
        {
            "appointment_booked-version": referral.version,
            "appointment_booked-appointment_at": "2026-09-20T17:00",  # as the form came
        },
        "The appointment is already booked for this time: give the new time to change it.",
        referral,
    )
    assert (_transitions(referral), referral.version) == (transitions, version)
    told = db.session.scalars(
        select(Notification.text).where(Notification.user_id == world.counsellor.id)
    ).all()
    assert "The appointment for your referral has been changed." not in told


def test_the_liaison_is_offered_the_assessment_only_once_the_appointment_starts(world, login):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)
    client = login(world.liaison)
    before = client.get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert 'id="move-assessed"' not in before
    assert 'id="move-appointment_booked"' in before
    assert "Change the appointment time" in before
    assert 'value="2026-09-20T17:00"' in before  # the time booked, to correct
    when = re.search(r'id="assess-from">([^<]*)<', before)
    assert when is not None
    assert "Sun 20 Sep 17:00" in when.group(1)  # 09:00 UTC: the start, on the local clock
    clock.set_now(factories.APPOINTMENT_AT)
    # Six days on, the first sign-in has lapsed.
    after = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert 'id="move-assessed"' in after
    assert 'id="assess-from"' not in after


def test_an_early_assessment_sent_from_a_stale_page_is_refused_with_the_reason(world, login):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)
    _refused_move(
        login(world.liaison),
        f"/hospital/referrals/{referral.id}/move?target=assessed",
        {"assessed-version": referral.version, "assessed-outcome": "outpatient"},
        "change the appointment time first",
        referral,
    )


# --- the stalled date in words ----------------------------------------------------------------


def test_the_stalled_date_reads_as_a_deadline_not_iso(world, login):
    referral = referral_in(world, S.SENT)  # stalls 14 days on: 2026-09-28 10:00 local
    page = login(world.counsellor).get(f"/referrals/{referral.id}").get_data(as_text=True)
    stalled = page.split("<dt>Stalled</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert "Mon 28 Sep 10:00" in stalled
    assert "2026-09-28" not in stalled
