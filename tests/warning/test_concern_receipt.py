"""What a reporter is told right after filing a concern: what to do now when the category they
chose is one the policy makes red, the ordinary receipt otherwise, and never a level."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from campus.models import User
from campus.notifications import Notification
from tests import factories
from tests.conftest import sign_in
from tests.pages import without_tokens
from warning.models import ConcernReport
from warning.models import PolicyKind
from warning.models import PolicyStatus
from warning.models import PolicyVersion
from warning.models import Signal
from warning.policy import DEFAULT_POLICY_PATH
from warning.response import RED_EVIDENCE_TEXT

ON_DUTY = "0731-5555-1234"
URGENT = 'id="received"'
TOLD = "The mental health centre has been told at once."
STAY = "If Li Hua may be in danger now, do not leave them alone"
RECEIPT = "Your concern was received, and the teachers responsible will follow it up."


@pytest.fixture
def reporter(campus, unit, login):
    """A class committee member of Li Hua's class, signed in; the institution has its own
    on-duty phone and a centre counsellor who hears of a red."""
    unit.institution.on_duty_phone = ON_DUTY
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR, login="centre")
    campus.commit()
    return login(committee)


def _report(client, unit, category: str, token: str | None = None):
    return client.post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": token or uuid.uuid4().hex,
            "student_id": unit.student.id,
            "category": category,
            "text": "What I saw",
        },
    )


def _centre_notes(text: str | None = None) -> int:
    centre = select(User.id).where(User.login == "centre").scalar_subquery()
    query = select(func.count()).select_from(Notification).where(Notification.user_id == centre)
    if text is not None:
        query = query.where(Notification.text == text)
    return db.session.scalar(query)


@pytest.mark.parametrize("category", ["suicidal_talk", "self_harm", "crisis_behaviour"])
def test_a_crisis_concern_tells_the_reporter_to_stay_and_call_the_on_duty_phone(
    reporter, unit, category
):
    response = _report(reporter, unit, category)
    assert response.status_code == 302
    page = reporter.get(response.headers["Location"]).get_data(as_text=True)
    block = page[page.index(URGENT) : page.index("</section>", page.index(URGENT))]
    assert TOLD in block
    assert STAY in block
    assert f'href="tel:{ON_DUTY}"' in block
    assert 'href="tel:120"' in block
    assert 'href="tel:110"' in block
    # The block is the receipt: the one-line flash is not said beside it.
    assert RECEIPT not in page
    # What the block says is true: the centre was told, in the report's own commit.
    assert _centre_notes() == 1


def test_a_crisis_concern_where_the_centre_has_no_number_says_call_for_help_and_gives_the_hotline(
    app, reporter, unit
):
    """A committee member of a new campus was told to call 0731-8888-0000, a made-up number
    nobody there answers. Without the centre's number the block gives the hotline and 120/110."""
    unit.institution.on_duty_phone = None
    db.session.commit()
    response = _report(reporter, unit, "suicidal_talk")
    page = reporter.get(response.headers["Location"]).get_data(as_text=True)
    block = page[page.index(URGENT) : page.index("</section>", page.index(URGENT))]
    assert "do not leave them alone, and call for help:" in block
    assert "on-duty phone" not in block
    phones = [part.split('"')[0] for part in block.split('href="tel:')[1:]]
    assert phones == [app.config["CRISIS_HOTLINE"], "120", "110"]


def test_a_low_mood_concern_gets_the_ordinary_receipt_and_no_crisis_block(reporter, unit):
    response = _report(reporter, unit, "low_mood")
    page = reporter.get(response.headers["Location"]).get_data(as_text=True)
    assert RECEIPT in page
    assert URGENT not in page
    assert TOLD not in page
    assert ON_DUTY not in page
    assert _centre_notes() == 0


def test_a_crisis_concern_sent_twice_is_one_report_and_both_taps_land_on_its_receipt(
    reporter, unit
):
    token = uuid.uuid4().hex
    first = _report(reporter, unit, "self_harm", token)
    again = _report(reporter, unit, "self_harm", token)
    assert first.headers["Location"] == again.headers["Location"]
    assert STAY in reporter.get(again.headers["Location"]).get_data(as_text=True)
    counts = [
        db.session.scalar(select(func.count()).select_from(m)) for m in (ConcernReport, Signal)
    ]
    assert counts == [1, 1]
    assert _centre_notes() == 1


def test_the_page_after_a_crisis_concern_names_no_level(reporter, unit):
    response = _report(reporter, unit, "suicidal_talk")
    page = without_tokens(reporter.get(response.headers["Location"]).get_data(as_text=True))
    assert 'class="level' not in page
    for word in ("Red", "red warning", "Yellow", "Blue", "urgent", "Urgent"):
        assert word not in page


def test_the_receipt_of_a_report_the_reader_did_not_file_is_not_shown(app, campus, reporter, unit):
    response = _report(reporter, unit, "suicidal_talk")
    other = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group, login="k2")
    campus.commit()
    client = app.test_client()
    assert sign_in(client, other).status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "What you filed" in page  # the unit page itself, without the other's receipt
    assert URGENT not in page
    assert "Li Hua may be in danger" not in page


def test_a_crisis_concern_about_a_student_already_red_still_tells_the_centre_at_once(
    reporter, unit
):
    """Before: a warning already red was not re-planned, so a peer's report that she spoke of
    suicide tonight reached no one until the centre next opened its queue."""
    factories.phq9_signal(unit.student, 22)
    before = _centre_notes()
    _report(reporter, unit, "suicidal_talk")
    assert _centre_notes(RED_EVIDENCE_TEXT) == 1
    assert _centre_notes() == before + 1
    _report(reporter, unit, "low_mood")  # not crisis evidence: the red's deadlines stand
    assert _centre_notes() == before + 1


def test_a_category_the_institutions_policy_makes_red_gets_the_urgent_receipt(reporter, unit):
    """The receipt asks the policy, not a list of categories in the code."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        '"concern:crisis_behaviour"]', '"concern:crisis_behaviour", "concern:isolation"]'
    )
    db.session.add(
        PolicyVersion(
            institution_id=unit.institution.id,
            kind=PolicyKind.TRIAGE,
            version="isolation-red",
            yaml_text=text.replace("default-2026.1", "isolation-red"),
            status=PolicyStatus.ACTIVE,
        )
    )
    db.session.commit()
    response = _report(reporter, unit, "isolation")
    assert STAY in reporter.get(response.headers["Location"]).get_data(as_text=True)
