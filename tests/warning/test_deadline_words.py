"""Staff read a deadline as peers do, in words they plan by: "today 23:30", "tomorrow 22:30", or
the day with its weekday, the year only when it is not this year's; on the local calendar
(Shanghai, UTC+8), not UTC's. Before, the tasks page, the warnings list and the inbox gave ISO
times ("2026-12-31 23:30")."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import pytest

from campus import clock
from campus.extensions import db
from tests.factories import phq9_signal
from tests.warning.response_helpers import class_peer_watch_policy
from tests.warning.response_helpers import page_text

# 22:30 on New Year's Eve in Shanghai: the red's hour to acknowledge ends at 23:30 that night,
# its 24 hours at 22:30 on 1 January; a yellow's 72 hours run into 3 January 2027.
NEW_YEARS_EVE = datetime(2026, 12, 31, 14, 30)

WORDS = {
    "en": {
        "acknowledge": "Acknowledge (counselling centre) due today 23:30",
        "assessment": "Professional assessment (counselling centre) due tomorrow 22:30",
        "peer": "until tomorrow 22:30",
        "next_year": "due Sun 3 Jan 2027 22:30",
        "this_year": "due Thu 17 Sep 10:00",
        "yesterday": "due yesterday 23:30",
        "overdue": "overdue",
        "owed": "Acknowledge (counselling centre) due today 23:30",
        "inbox": "Acknowledge due today 23:30",
        "opened": "Thu 31 Dec 22:30",
    },
    "zh_CN": {
        "acknowledge": "期限 今天 23:30",
        "assessment": "期限 明天 22:30",
        "peer": "关注至 明天 22:30",
        "next_year": "期限 2027年1月3日 周日 22:30",
        "this_year": "期限 9月17日 周四 10:00",
        "yesterday": "期限 昨天 23:30",
        "overdue": "逾期",
        "owed": "确认接收 （心理中心） 期限 今天 23:30",
        "inbox": "确认接收，须于 今天 23:30 前完成",
        "opened": "12月31日 周四 22:30",
    },
}


def _in(locale: str, *people) -> None:
    for person in people:
        person.locale = locale
    db.session.commit()


def _page(login, person, path: str) -> str:
    return page_text(login(person).get(path).get_data(as_text=True))


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_centres_tasks_say_today_and_tomorrow_across_new_years_eve(network, login, locale):
    words = WORDS[locale]
    _in(locale, network.school_counsellor, network.class_committee)
    clock.set_now(NEW_YEARS_EVE)
    # A campus whose class owes the red's peer watch itself: the committee member's task is due
    # with the red's 24 hours (the default has the department counsellor arrange it).
    class_peer_watch_policy(network.institution.id)
    phq9_signal(network.student, 22)

    tasks = _page(login, network.school_counsellor, "/tasks")
    # 23:30 in Shanghai is 15:30 UTC: still today; 22:30 on 1 January, tomorrow, not a year off.
    assert words["acknowledge"] in tasks
    assert words["assessment"] in tasks
    assert "2026" not in tasks
    assert "2027" not in tasks
    # The class committee member's peer watch reads the same way.
    assert words["peer"] in _page(login, network.class_committee, "/tasks")


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_after_the_local_midnight_the_missed_hour_was_yesterday_and_overdue(network, login, locale):
    words = WORDS[locale]
    _in(locale, network.school_counsellor)
    clock.set_now(NEW_YEARS_EVE)
    phq9_signal(network.student, 22)
    # 00:30 on 1 January in Shanghai, yet 16:30 on 31 December in UTC: the 23:30 was yesterday.
    clock.set_now(NEW_YEARS_EVE + timedelta(hours=2))

    tasks = _page(login, network.school_counsellor, "/tasks")
    overdue = tasks[tasks.index(words["yesterday"]) :][:40]
    assert words["overdue"] in overdue


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_warnings_list_gives_a_next_years_deadline_its_year_and_this_years_none(
    network, login, locale
):
    words = WORDS[locale]
    _in(locale, network.school_counsellor)
    phq9_signal(network.other_student, 15)  # 14 September 10:00: contact within 72 hours
    listed = _page(login, network.school_counsellor, "/warnings/")
    assert words["this_year"] in listed

    clock.set_now(NEW_YEARS_EVE)
    phq9_signal(network.student, 15)
    listed = _page(login, network.school_counsellor, "/warnings/")
    assert words["next_year"] in listed
    # The day it was opened reads as the deadline beside it does (one way of telling a time in
    # a row), the year only when it is not this one.
    assert words["opened"] in listed


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_warning_page_and_the_inbox_say_the_owed_hour_in_words(network, login, locale):
    words = WORDS[locale]
    _in(locale, network.school_counsellor)
    clock.set_now(NEW_YEARS_EVE)
    phq9_signal(network.student, 22)

    page = _page(login, network.school_counsellor, f"/warnings/students/{network.student.id}")
    assert words["owed"] in page
    assert words["inbox"] in _page(login, network.school_counsellor, "/inbox/")
