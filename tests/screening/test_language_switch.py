"""Switching language in the middle of a questionnaire page keeps what she ticked: the header's
switch submits the page's form, which saves a draft first (a safety answer raising its red warning
with it, as saving does), then the page opens again in the other language."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from screening.models import InstrumentResponse
from tests.screening.test_intake_safety import HOTLINE
from tests.screening.test_intake_safety import _red_warning
from tests.screening.test_intake_safety import _signals
from tests.screening.test_intake_safety import _start


def _switch(client, assignment, answers, lang="zh_CN"):
    return client.post(
        f"/screening/a/{assignment.id}/i/phq9/language/{lang}", data={**answers, "token": "t"}
    )


def _ticked(html: str) -> dict[str, str]:
    doc = lxml.html.fromstring(html)
    return {i.get("name"): i.get("value") for i in doc.xpath("//input[@type='radio'][@checked]")}


def test_the_language_switch_of_a_questionnaire_page_keeps_her_ticks(client, school, make_campaign):
    assignment = _start(client, school, make_campaign())  # in English
    page = client.get(f"/screening/a/{assignment.id}/i/phq9").get_data(as_text=True)
    [switch] = lxml.html.fromstring(page).xpath("//header//button[@form='answers']")
    assert switch.text_content().strip() == "中文"
    assert switch.get("formaction") == f"/screening/a/{assignment.id}/i/phq9/language/zh_CN"
    assert lxml.html.fromstring(page).xpath("//main//form[@id='answers']")

    switched = _switch(client, assignment, {"item_1": "2", "item_2": "1"})
    assert switched.headers["Location"].endswith(f"/screening/a/{assignment.id}/i/phq9")
    again = client.get(switched.headers["Location"]).get_data(as_text=True)
    assert 'class="flash success"' in again  # "your answers so far are saved"
    assert 'lang="zh-CN"' in again
    assert _ticked(again) == {"item_1": "2", "item_2": "1"}
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.answer_map() == {1: 2, 2: 1}
    assert _signals() == []


def test_nothing_ticked_switches_without_writing_a_draft(client, school, make_campaign):
    assignment = _start(client, school, make_campaign())
    assert _switch(client, assignment, {}).status_code == 302
    assert db.session.scalar(select(InstrumentResponse)) is None
    assert 'lang="zh-CN"' in client.get("/screening/mine").get_data(as_text=True)


def test_a_safety_answer_kept_by_the_switch_raises_its_red_warning_with_the_draft(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    switched = _switch(client, assignment, {"item_9": "2"})
    [signal] = _signals()
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.safety_signal_id == signal.id
    assert signal.implied_level == 3
    assert _red_warning(school.student)
    # The page opens again with the crisis resources at its top, in the language she chose.
    again = client.get(switched.headers["Location"]).get_data(as_text=True)
    assert 'class="card crisis" role="alert"' in again
    assert HOTLINE in again
    assert _ticked(again) == {"item_9": "2"}


def test_a_safety_answer_switched_after_the_window_closed_still_raises_its_warning(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign(closes=clock.now() + timedelta(minutes=5)))
    clock.advance(timedelta(minutes=10))
    response = _switch(client, assignment, {"item_9": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'class="card crisis"' in page
    assert 'lang="zh-CN"' in page
    assert _red_warning(school.student)
