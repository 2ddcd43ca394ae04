"""Leaving a questionnaire page by one of its links keeps what she ticked: static/keep_answers.js
sends the page's form as "Save and continue later" with the link's address as `next`, and the
draft is saved (a safety answer raising its red warning and leading to the crisis resources, as
saving does) before the page she tapped opens. A `next` that is not a page of this site is not
followed."""

from __future__ import annotations

import lxml.html
import pytest
from sqlalchemy import select

from campus.extensions import db
from screening.models import InstrumentResponse
from tests.screening.test_intake_safety import _red_warning
from tests.screening.test_intake_safety import _signals
from tests.screening.test_intake_safety import _start


def _leave(client, assignment, answers, next_page):
    """What the script sends when she taps a link: the save button's action and `next`."""
    return client.post(
        f"/screening/a/{assignment.id}/i/phq9",
        data={**answers, "action": "save", "token": "page-1", "next": next_page},
    )


def _draft() -> dict[int, int] | None:
    db.session.expire_all()
    draft = db.session.scalar(select(InstrumentResponse))
    return None if draft is None else draft.answer_map()


def test_the_page_loads_the_script_that_saves_before_a_link_is_followed(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    page = lxml.html.fromstring(client.get(f"/screening/a/{assignment.id}/i/phq9").data)
    scripts = page.xpath("//script/@src")
    assert "/static/keep_answers.js" in scripts
    # What the script presses: the form's "Save and continue later", which skips validation.
    [save] = page.xpath("//form[@id='answers']//button[@name='action'][@value='save']")
    assert save.get("formnovalidate") is not None
    script = client.get("/static/keep_answers.js")
    assert script.status_code == 200
    assert "button[name=action][value=save]" in script.get_data(as_text=True)


def test_a_link_tapped_with_answers_ticked_saves_them_then_opens_the_page_she_tapped(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    left = _leave(client, assignment, {"item_1": "2", "item_2": "1"}, "/account?tab=1")
    assert left.status_code == 302
    assert left.headers["Location"] == "/account?tab=1"
    assert _draft() == {1: 2, 2: 1}
    assert _signals() == []
    # Back on the page later, her ticks are there.
    page = lxml.html.fromstring(client.get(f"/screening/a/{assignment.id}/i/phq9").data)
    ticked = {i.get("name"): i.get("value") for i in page.xpath("//input[@checked]")}
    assert ticked == {"item_1": "2", "item_2": "1"}


@pytest.mark.parametrize(
    "next_page",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/%2F%2Fevil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_a_next_off_this_site_is_not_followed_and_the_answers_are_kept_all_the_same(
    client, school, make_campaign, next_page
):
    assignment = _start(client, school, make_campaign())
    left = _leave(client, assignment, {"item_1": "3"}, next_page)
    assert left.status_code == 302
    assert left.headers["Location"].endswith("/screening/mine")  # as saving goes
    assert _draft() == {1: 3}


def test_a_safety_answer_saved_on_the_way_out_raises_its_warning_and_shows_the_crisis_resources(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    left = _leave(client, assignment, {"item_1": "1", "item_9": "2"}, "/account")
    # As "Save and continue later": the crisis resources, not the page she tapped.
    assert left.headers["Location"].endswith(f"/screening/a/{assignment.id}/i/phq9/support")
    [signal] = _signals()
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.safety_signal_id == signal.id
    assert signal.implied_level == 3
    assert _red_warning(school.student)
    # Leaving again with the same answer raises nothing more.
    _leave(client, assignment, {"item_1": "1", "item_9": "2"}, "/account")
    assert len(_signals()) == 1


def test_nothing_ticked_follows_the_link_without_writing_a_draft(client, school, make_campaign):
    assignment = _start(client, school, make_campaign())
    left = _leave(client, assignment, {}, "/screening/mine")
    assert left.headers["Location"] == "/screening/mine"
    assert _draft() is None


def test_a_forged_answer_on_the_way_out_keeps_her_on_the_page_with_nothing_written(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    left = _leave(client, assignment, {"item_1": "2", "item_2": "9"}, "/account")
    assert left.status_code == 422
    assert _draft() is None
