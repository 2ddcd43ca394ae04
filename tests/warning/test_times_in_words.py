"""Times a person reads on the warning pages say the day in words, as the warnings list and the
tasks do: a warning's timeline (Mon 14 Sep 10:00, its follow-up's time too), the week a class or
dorm reports on (the week beginning Monday 14 September), and an inbox note's time (today 10:00,
yesterday 10:00, else the day and its weekday); each also held for programs as `<time datetime>`.
Before, they read ISO times (2026-09-14 10:00, "2026-09-14 当周报告")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campus import clock
from campus.extensions import db
from tests.factories import phq9_signal
from tests.pages import visible_text

# The test clock starts at 10:00 on Monday 14 September 2026 in Shanghai (02:00 UTC).
WORDS = {
    "en": {
        "opened": "Mon 14 Sep 10:00 · Warning opened",
        "week": "Report for the week beginning Monday 14 September",
        "filed": "Week beginning Monday 14 September · All is well",
        "today": "Today 10:00",  # an inbox line starts with it
        "yesterday": "Yesterday 10:00",
        "earlier": "Mon 14 Sep 10:00",
    },
    "zh_CN": {
        "opened": "9月14日 周一 10:00 · 预警开启",
        "week": "9月14日（周一） 起这一周的报告",
        "filed": "9月14日（周一） 起的一周 · 一切正常",
        "today": "今天 10:00",
        "yesterday": "昨天 10:00",
        "earlier": "9月14日 周一 10:00",
    },
}


def _in(locale: str, *people) -> None:
    for person in people:
        person.locale = locale
    db.session.commit()


def _seen(client, path: str) -> tuple[str, str]:
    html = client.get(path).get_data(as_text=True)
    return html, visible_text(html)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_timeline_says_each_time_in_words(network, login, locale):
    words = WORDS[locale]
    _in(locale, network.school_counsellor)
    phq9_signal(network.student, 22)
    clock.advance(timedelta(days=2))

    html, page = _seen(login(network.school_counsellor), f"/warnings/students/{network.student.id}")
    assert words["opened"] in page
    assert '<time datetime="2026-09-14T10:00+08:00">' in html
    assert "2026-09-14" not in page


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("kind", ["class", "room"])
def test_the_weekly_report_page_names_its_week_by_its_monday(network, login, locale, kind):
    """The class committee member's and the dorm informant's page say the week alike."""
    words = WORDS[locale]
    reporter, unit = (
        (network.class_committee, network.group)
        if kind == "class"
        else (network.dorm_informant, network.room)
    )
    _in(locale, reporter)
    client = login(reporter)
    path = f"/warnings/units/{kind}/{unit.id}"

    html, page = _seen(client, path)
    assert words["week"] in page
    assert '<time datetime="2026-09-14">' in html
    assert "2026-09-14" not in page

    assert client.post(f"{path}/zero-report").status_code == 302
    _, page = _seen(client, path)
    assert words["filed"] in page
    assert "2026-09-14" not in page


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_an_inbox_note_says_when_it_came_as_a_person_reads_it(network, login, locale):
    words = WORDS[locale]
    _in(locale, network.school_counsellor)
    phq9_signal(network.student, 22)  # the centre hears of a red warning now

    html, page = _seen(login(network.school_counsellor), "/inbox/")
    assert words["today"] in page
    assert '<time datetime="2026-09-14T10:00+08:00">' in html
    clock.advance(timedelta(days=1))
    assert words["yesterday"] in _seen(login(network.school_counsellor), "/inbox/")[1]
    clock.advance(timedelta(days=2))
    _, page = _seen(login(network.school_counsellor), "/inbox/")
    assert words["earlier"] in page
    assert "2026-09-14" not in page
