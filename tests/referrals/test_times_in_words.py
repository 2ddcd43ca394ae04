"""A referral's times read in words: the referral list's last update and the history's steps with
their day's weekday (Mon 14 Sep 11:00), the hospital appointment as people plan by it
(tomorrow 17:00), on the counsellor's pages and the hospital liaison's alike; each time also
held for programs as `<time datetime>`. Before, they read ISO times (2026-09-14 11:00)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import pytest

from campus import clock
from campus.extensions import db
from referrals.models import ReferralStatus
from tests.pages import visible_text
from tests.referrals.conftest import new_referral
from tests.referrals.conftest import walk

S = ReferralStatus
# The test clock starts at 10:00 on Monday 14 September 2026 in Shanghai; the appointment booked
# is at 17:00 on Sunday 20 September there (tests.factories.APPOINTMENT_AT, 09:00 UTC).
WORDS = {
    "en": {
        "sent": "Mon 14 Sep 11:00",
        "booked": "Tue 15 Sep 14:00",
        "appointment": "Sun 20 Sep 17:00",
        "tomorrow": "tomorrow 17:00",
        "birth": "1 March 2007",
    },
    "zh_CN": {
        "sent": "9月14日 周一 11:00",
        "booked": "9月15日 周二 14:00",
        "appointment": "9月20日 周日 17:00",
        "tomorrow": "明天 17:00",
        "birth": "2007年3月1日",
    },
}


def _booked(world):
    referral = new_referral(world)
    clock.advance(timedelta(hours=1))
    walk(world, referral, [S.SENT])
    clock.advance(timedelta(days=1, hours=3))
    return walk(world, referral, [S.APPOINTMENT_BOOKED])


def _in(locale: str, *people) -> None:
    for person in people:
        person.locale = locale
    db.session.commit()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_referral_list_and_history_say_their_times_in_words(world, login, locale):
    words = WORDS[locale]
    _in(locale, world.counsellor)
    referral = _booked(world)
    client = login(world.counsellor)

    listed = client.get("/referrals/").get_data(as_text=True)
    assert words["booked"] in visible_text(listed)
    assert '<time datetime="2026-09-15T14:00+08:00">' in listed

    html = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    page = visible_text(html)
    history = page[page.index(" History ") if locale == "en" else page.index(" 历史记录 ") :]
    assert words["sent"] in history
    assert words["booked"] in history
    assert words["appointment"] in page
    assert '<time datetime="2026-09-14T11:00+08:00">' in html
    assert words["birth"] in page  # a birth date in words, as the other days (not 2007-03-01)
    assert "2007-03-01" not in page
    for shown in (listed, page):
        assert "2026-09-1" not in visible_text(shown)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_hospital_reads_the_appointment_as_it_plans_by_it(world, login, locale):
    words = WORDS[locale]
    _in(locale, world.liaison)
    referral = _booked(world)
    clock.set_now(datetime(2026, 9, 19, 2, 0))  # Saturday 10:00: the appointment is tomorrow
    client = login(world.liaison)

    listed = visible_text(client.get("/hospital/referrals/").get_data(as_text=True))
    assert words["tomorrow"] in listed
    assert words["sent"] in listed
    page = visible_text(client.get(f"/hospital/referrals/{referral.id}").get_data(as_text=True))
    assert words["tomorrow"] in page
    assert words["booked"] in page  # the history's step
    assert words["birth"] in page
    for shown in (listed, page):
        assert "2026-09-1" not in shown
