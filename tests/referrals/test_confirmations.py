"""Moves that cannot be undone (sending personal data to a hospital, and every final state) say
what will happen, use a warning colour and a plain verb, and the server refuses them unconfirmed."""

from __future__ import annotations

from campus.extensions import db
from referrals.models import Referral
from referrals.models import ReferralStatus
from tests.referrals.conftest import new_referral
from tests.referrals.conftest import referral_in

S = ReferralStatus


def _status(referral: Referral) -> ReferralStatus:
    db.session.expire_all()
    return db.session.get(Referral, referral.id).status


def test_sending_unconfirmed_is_refused_on_the_referral_page_and_sends_nothing(world, login):
    referral = new_referral(world)
    response = login(world.counsellor).post(
        f"/referrals/{referral.id}/move?target=sent",
        data={"sent-version": referral.version},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Tick the box to confirm this step." in page
    assert f"Referral #{referral.id}" in page  # the referral's own page, not an error page
    assert _status(referral) == S.DRAFT
    confirmed = login(world.counsellor).post(
        f"/referrals/{referral.id}/move?target=sent",
        data={"sent-version": referral.version, "sent-confirm": "y"},
    )
    assert confirmed.status_code == 302
    assert _status(referral) == S.SENT


def test_the_send_step_says_which_fields_go_to_which_hospital(world, login):
    referral = new_referral(world, disclosed_fields=["name", "referral_reason"])
    page = login(world.counsellor).get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f"Name, Referral reason to the liaison of {referral.hospital.name}." in page
    assert ">Send referral</button>" in page
    assert "Move to:" not in page


def test_withdrawing_unconfirmed_keeps_the_note_typed_and_withdraws_nothing(world, login):
    referral = referral_in(world, S.SENT)
    response = login(world.counsellor).post(
        f"/referrals/{referral.id}/move?target=withdrawn",
        data={"withdrawn-version": referral.version, "withdrawn-note": "Family moved away"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Family moved away" in page
    assert "Withdrawing ends this referral for good" in page
    assert _status(referral) == S.SENT


def test_lost_to_follow_up_by_the_liaison_needs_confirming(world, login):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)
    client = login(world.liaison)
    data = {"lost_to_follow_up-version": referral.version, "lost_to_follow_up-note": "No show"}
    refused = client.post(
        f"/hospital/referrals/{referral.id}/move?target=lost_to_follow_up", data=data
    )
    assert refused.status_code == 400
    assert _status(referral) == S.APPOINTMENT_BOOKED
    done = client.post(
        f"/hospital/referrals/{referral.id}/move?target=lost_to_follow_up",
        data={**data, "lost_to_follow_up-confirm": "y"},
    )
    assert done.status_code == 302
    assert _status(referral) == S.LOST_TO_FOLLOW_UP


def test_final_moves_are_in_a_warning_colour_and_reversible_ones_stay_one_click(world, login):
    referral = referral_in(world, S.SENT)
    client = login(world.liaison)
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    declined = page[
        page.index('id="move-declined"') : page.index("</form>", page.index('id="move-declined"'))
    ]
    booked = page[page.index('id="move-appointment_booked"') :]
    booked = booked[: booked.index("</form>")]
    assert 'class="danger"' in declined
    assert "登记拒绝" in declined
    assert "confirm" in declined
    assert "confirm" not in booked
    assert 'class="primary"' in booked


def test_a_move_missing_what_it_needs_is_shown_on_the_page_with_the_reason(world, login):
    referral = referral_in(world, S.SENT)
    response = login(world.liaison).post(
        f"/hospital/referrals/{referral.id}/move?target=appointment_booked",
        data={"appointment_booked-version": referral.version},
    )
    assert response.status_code == 400
    assert "Give the appointment date and time." in response.get_data(as_text=True)
    assert _status(referral) == S.SENT


def _book(client, referral: Referral, version: int, at: str):
    """The liaison books the hospital appointment at `at` from a page showing `version`."""
    return client.post(
        f"/hospital/referrals/{referral.id}/move?target=appointment_booked",
        data={"appointment_booked-version": version, "appointment_booked-appointment_at": at},
    )


def test_a_step_from_a_page_loaded_before_someone_elses_is_told_so(world, login):
    """Before: a liaison's second tab got a bare 400 (or "you may not open this page") when the
    referral had moved on since it was loaded, and what they typed was lost without a word."""
    referral = referral_in(world, S.SENT)
    seen = referral.version
    client = login(world.liaison)
    assert _book(client, referral, seen, "2026-09-20T09:00").status_code == 302
    again = _book(client, referral, seen, "2026-09-21T09:00")
    assert again.status_code == 409
    assert "Someone else updated this referral" in again.get_data(as_text=True)
    assert _status(referral) == S.APPOINTMENT_BOOKED


def test_an_appointment_dated_before_the_referral_was_sent_is_refused(world, login):
    referral = referral_in(world, S.SENT)  # sent on 2026-09-14
    response = _book(login(world.liaison), referral, referral.version, "2026-09-01T09:00")
    assert response.status_code == 400
    assert "cannot be before the referral was sent" in response.get_data(as_text=True)
    assert _status(referral) == S.SENT


def test_a_refused_step_marks_its_field_for_the_script_that_brings_it_into_view(world, login):
    """The step forms are far down the referral's page, which a refused step reopens at its top:
    static/refused.js, loaded only on a page answering a form, scrolls to the first field marked
    invalid and focuses it. Without scripts the page is as it was."""
    referral = new_referral(world)
    client = login(world.counsellor)
    opened = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "refused.js" not in opened
    assert 'aria-invalid="true"' not in opened
    page = client.post(
        f"/referrals/{referral.id}/move?target=sent",
        data={"sent-version": referral.version},
    ).get_data(as_text=True)
    assert '<script src="/static/refused.js" defer></script>' in page
    assert (
        '<input aria-describedby="sent-confirm-err" aria-invalid="true" id="sent-confirm"'
        ' name="sent-confirm" required type="checkbox" value="y">' in page
    )
    assert '<p class="error" id="sent-confirm-err" role="alert">' in page
