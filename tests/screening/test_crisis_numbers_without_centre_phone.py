"""A student in crisis is given numbers that work: the 24-hour hotline and 120/110 always, the
centre's on-duty phone only where her campus gave one, never a made-up or empty one."""

from __future__ import annotations

import re

import pytest

from campus.extensions import db
from tests.conftest import sign_in
from tests.screening.test_intake_safety import HOTLINE
from tests.screening.test_intake_safety import PHQ9_CALM
from tests.screening.test_intake_safety import _assignment

# What the page would show were a number missing or made up: a phone link without a number, the
# label of the centre's phone, the old default every campus was given, a Python None.
PLACEHOLDERS = ('href="tel:"', 'href="tel:None"', "0731-8888-0000", ">None<")


@pytest.fixture
def no_number(app, school):
    """The campus gave no on-duty phone, and the deployment none either (the default)."""
    school.institution.on_duty_phone = None
    db.session.commit()
    assert not app.config["CENTRE_ON_DUTY_PHONE"]


def _crisis_page(client, school, campaign) -> str:
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    client.post(
        f"/screening/a/{assignment.id}/consent", data={"informed": "y", "sensitive_data": "y"}
    )
    answered = client.post(
        f"/screening/a/{assignment.id}/i/phq9",
        data={**PHQ9_CALM, "item_9": "1", "action": "submit", "token": "t-1"},
    )
    assert answered.status_code == 302
    assert answered.headers["Location"].endswith("/i/phq9/done")
    return client.get(answered.headers["Location"]).get_data(as_text=True)


def _numbers(page: str) -> list[str]:
    """The numbers the page itself gives, to call with a tap (the footer's hotline aside)."""
    return re.findall(r'href="tel:([^"]*)"', page.split('<footer class="foot">')[0])


def test_a_safety_answer_on_a_campus_without_a_number_gives_the_hotline_and_120_110_alone(
    client, school, make_campaign, no_number
):
    page = _crisis_page(client, school, make_campaign())
    assert "You do not have to face this alone" in page
    assert _numbers(page) == [HOTLINE, "120", "110"]
    assert "on-duty phone" not in page
    for placeholder in PLACEHOLDERS:
        assert placeholder not in page, placeholder


def test_a_safety_answer_gives_the_campus_own_number_beside_the_hotline(
    client, school, make_campaign
):
    school.institution.on_duty_phone = "0731-2222-3333"
    db.session.commit()
    page = _crisis_page(client, school, make_campaign())
    assert _numbers(page) == [HOTLINE, "0731-2222-3333", "120", "110"]
    assert "on-duty phone" in page


def test_a_number_the_deployment_gives_serves_a_campus_without_its_own(
    app, client, school, make_campaign, no_number, monkeypatch
):
    monkeypatch.setitem(app.config, "CENTRE_ON_DUTY_PHONE", "0731-4444-5555")
    page = _crisis_page(client, school, make_campaign())
    assert _numbers(page) == [HOTLINE, "0731-4444-5555", "120", "110"]


def test_her_home_and_the_help_page_without_a_number_still_say_where_to_get_help(
    client, school, no_number
):
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    home = client.get("/").get_data(as_text=True)
    assert "Where to get help" in home
    assert _numbers(home) == [HOTLINE, "120", "110"]
    help_page = client.get("/help").get_data(as_text=True)
    assert _numbers(help_page) == [HOTLINE, "120", "110"]
    for page in (home, help_page):
        # The hotline under every page is a number a tap calls too.
        assert f'<a href="tel:{HOTLINE}">{HOTLINE}</a>' in page.split('<footer class="foot">')[1]
        assert "on-duty phone" not in page
        for placeholder in PLACEHOLDERS:
            assert placeholder not in page, placeholder
