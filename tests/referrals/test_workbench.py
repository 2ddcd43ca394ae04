"""The recovery side of the workbench: a liaison's new referrals, the centre's stalled referrals
and return-to-school follow-ups due, each linking to a list that shows the same number."""

from __future__ import annotations

import re
from datetime import date
from datetime import datetime
from datetime import timedelta

from campus import clock
from campus.extensions import db
from referrals import leave as rules
from referrals.models import LeaveReason
from referrals.models import ReferralStatus
from referrals.models import ReturnAssessment
from tests.referrals.conftest import referral_in


def _link(html: str, text: str) -> str:
    match = re.search(r'<a href="([^"]+)">[^<]*' + re.escape(text), html)
    assert match, f"no item {text!r} in the workbench"
    return match.group(1).replace("&amp;", "&")


def _rows(html: str) -> int:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return body.count("<tr>")


def test_liaison_sees_new_referrals_to_their_hospital_only_and_the_list_shows_as_many(world, login):
    referral_in(world, ReferralStatus.SENT)
    client = login(world.liaison)

    home = client.get("/").get_data(as_text=True)

    assert "1 new referral from the university" in home
    listed = client.get(_link(home, "new referral")).get_data(as_text=True)
    assert "Showing new referrals only (sent, no appointment yet): 1." in listed
    assert _rows(listed) == 1
    assert "Nothing to do today." in login(world.other_liaison).get("/").get_data(as_text=True)


def test_booked_referral_is_no_longer_new(world, login):
    referral_in(world, ReferralStatus.APPOINTMENT_BOOKED)
    assert "new referral" not in login(world.liaison).get("/").get_data(as_text=True)


def test_counsellor_sees_stalled_referrals_and_the_filtered_list_shows_as_many(world, login):
    referral_in(world, ReferralStatus.SENT)
    clock.advance(timedelta(days=15))
    client = login(world.counsellor)

    home = client.get("/").get_data(as_text=True)

    assert "1 referral stalled (no update for 14 days)" in home
    listed = client.get(_link(home, "referral stalled")).get_data(as_text=True)
    assert "Showing stalled referrals only: 1." in listed
    assert _rows(listed) == 1


def test_counsellor_sees_return_follow_ups_due_and_the_filtered_list_shows_them(world, login):
    data = rules.NewLeave(date(2026, 9, 1), date(2026, 9, 10), LeaveReason.MENTAL_HEALTH)
    leave = rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())
    rules.record_statement(
        db.session,
        world.counsellor,
        leave,
        date(2026, 9, 10),
        "Brain Hospital",
        "stable on treatment",
        date(2026, 9, 10),
    )
    rules.record_assessment(
        db.session, world.counsellor, leave, ReturnAssessment.FIT_TO_RETURN, "Stable", clock.now()
    )
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 14))
    db.session.commit()
    client = login(world.counsellor)
    assert "return-to-school follow-up" not in client.get("/").get_data(as_text=True)

    clock.set_now(datetime(2026, 10, 15, 2, 0))  # a month after the return
    client = login(world.counsellor)
    home = client.get("/").get_data(as_text=True)

    assert "1 student due for a return-to-school follow-up" in home
    listed = client.get(_link(home, "return-to-school follow-up")).get_data(as_text=True)
    assert "Showing students with a return-to-school follow-up due: 1." in listed
    assert world.student.name in listed
