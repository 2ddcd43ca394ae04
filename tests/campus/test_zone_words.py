"""How an export names the clock its times are on: in the reader's words, never a zone's key."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from campus import local_time


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("Asia/Shanghai", "Beijing time"),
        ("Asia/Harbin", "Beijing time"),  # a link to Shanghai's clock
        ("Asia/Urumqi", "UTC+6"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("America/Sao_Paulo", "UTC-3"),
        ("UTC", "UTC"),
    ],
)
def test_a_clock_is_named_as_people_name_it_or_by_its_offset(app, zone, words):
    with app.test_request_context(), force_locale("en"):
        assert local_time.zone_words(ZoneInfo(zone), datetime(2026, 9, 14)) == words


def test_a_zone_with_summer_time_is_named_not_given_one_offset_for_the_whole_year(app):
    """London is UTC+0 in winter and UTC+1 in summer: either offset would mislabel half a
    year's rows."""
    with app.test_request_context(), force_locale("en"):
        words = local_time.zone_words(ZoneInfo("Europe/London"), datetime(2026, 9, 14))
    assert words == "British Time"


def test_a_header_names_the_column_then_the_clock(app):
    with app.test_request_context(), force_locale("en"):
        assert local_time.zone_header("Sent", ZoneInfo("Asia/Kolkata")) == "Sent (UTC+5:30)"


def test_offsets_read_as_people_write_them():
    assert local_time.utc_offset_words(timedelta(hours=8)) == "UTC+8"
    assert local_time.utc_offset_words(timedelta(hours=-9, minutes=-30)) == "UTC-9:30"
    assert local_time.utc_offset_words(timedelta(0)) == "UTC"
