"""A campaign's window reads in words where people plan by it: the list and the campaign's page
say when it opens and closes with the day's weekday (Sun 13 Sep 10:00 – Mon 28 Sep 10:00), the
year only when it is not this one, each time also held for programs as `<time datetime>`; a
student reads until when her screening is open as the tasks say a deadline (tomorrow 20:00).
Before, they read ISO times (2026-09-13 10:00)."""

from __future__ import annotations

from datetime import datetime

import pytest

from campus.extensions import db
from tests.pages import visible_text

# The test clock is 10:00 on Monday 14 September 2026 in Shanghai (02:00 UTC).
OPENS = datetime(2026, 9, 13, 2, 0)  # Sunday 10:00 in Shanghai
CLOSES = datetime(2026, 9, 15, 12, 0)  # Tuesday 20:00 in Shanghai: tomorrow evening
NEXT_YEAR = datetime(2027, 1, 4, 12, 0)  # Monday 4 January 2027, 20:00 in Shanghai

WINDOW = {
    "en": ("Sun 13 Sep 10:00 – Tue 15 Sep 20:00", "Open until tomorrow 20:00"),
    "zh_CN": ("9月13日 周日 10:00 – 9月15日 周二 20:00", "开放至 明天 20:00"),
}


def _in(locale: str, *people) -> None:
    for person in people:
        person.locale = locale
    db.session.commit()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_campaign_list_and_page_say_the_window_in_words(school, make_campaign, login, locale):
    window, _ = WINDOW[locale]
    _in(locale, school.admin)
    campaign = make_campaign(opens=OPENS, closes=CLOSES)
    client = login(school.admin)

    listed = client.get("/screening/campaigns").get_data(as_text=True)
    page = client.get(f"/screening/campaigns/{campaign.id}").get_data(as_text=True)
    for html in (listed, page):
        assert window in visible_text(html)
        assert "2026-09-1" not in visible_text(html)
        assert '<time datetime="2026-09-13T10:00+08:00">' in html
        assert '<time datetime="2026-09-15T20:00+08:00">' in html


def test_a_window_closing_next_year_says_its_year(school, make_campaign, login):
    make_campaign(opens=OPENS, closes=NEXT_YEAR)
    listed = visible_text(login(school.admin).get("/screening/campaigns").get_data(as_text=True))
    assert "Sun 13 Sep 10:00 – Mon 4 Jan 2027 20:00" in listed


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_a_student_reads_until_when_her_screening_is_open(school, make_campaign, login, locale):
    _, until = WINDOW[locale]
    _in(locale, school.student.user)
    make_campaign(opens=OPENS, closes=CLOSES)
    mine = login(school.student.user).get("/screening/mine").get_data(as_text=True)
    assert until in visible_text(mine)
