"""The interview page as the interviewer works it: an invitation later than the deadline is saved
and said to be late, assigning keeps the list's filters, and the reasons are the warning's own,
the most serious first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from casework import interviews
from casework.models import InterviewState
from tests.casework import interview_world as w
from tests.conftest import sign_in
from warning.models import EarlyWarning


def _local(moment) -> str:
    """`moment` as the time field takes it, in the viewer's (the institution's) zone."""
    return clock.to_local(moment, clock.viewer_zone()).strftime("%Y-%m-%dT%H:%M")


def _invite(client, entry, when: str):
    return client.post(
        f"/interviews/{entry.id}/schedule",
        data={"version": entry.version, "when": when, "place": "Room 203"},
        follow_redirects=True,
    )


def test_the_invitation_form_says_the_deadline_beside_the_time(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [red], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    html = client.get(f"/interviews/{red.id}").get_data(as_text=True)
    assert "Its deadline: tomorrow" in html


def test_an_invitation_after_the_deadline_is_saved_and_said_to_be_late(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [red], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    with client.application.test_request_context():
        late = _local(red.due_at + timedelta(hours=4))
    page = _invite(client, red, late)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "but the time is later than the interview&#39;s deadline (tomorrow" in html
    assert "later than its deadline" in html
    db.session.refresh(red)
    assert red.state == InterviewState.SCHEDULED  # saved, not refused
    listed = client.get(f"/interviews?campaign={made.id}").get_data(as_text=True)
    assert listed.count("later than its deadline") == 1  # the red one, not the yellow


def test_an_invitation_before_the_deadline_is_not_called_late(client, world, listed):
    made, yellow, red = listed
    interviews.assign(db.session, world.director, [red], world.counsellor, clock.now())
    sign_in(client, world.counsellor)
    with client.application.test_request_context():
        early = _local(red.due_at - timedelta(hours=4))
    html = _invite(client, red, early).get_data(as_text=True)
    assert "The invitation was sent to the student." in html
    assert "later than" not in html


def test_assigning_from_a_filtered_list_comes_back_to_that_list(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.director)
    response = client.post(
        "/interviews/assign",
        data={
            "campaign": made.id,
            "entries": [red.id],
            "department": "",
            "interviewer": world.counsellor.id,
            "list_state": "to_assign",
            "list_department": world.maths.id,
            "list_mine": "1",
            "list_overdue": "1",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/interviews?")
    for part in (f"campaign={made.id}", f"department={world.maths.id}", "state=to_assign"):
        assert part in location
    assert "mine=1" in location
    assert "overdue=1" in location


def test_the_list_form_carries_its_filters_to_the_assignment(client, world, listed):
    made, yellow, red = listed
    sign_in(client, world.director)
    html = client.get(f"/interviews?campaign={made.id}&state=to_assign").get_data(as_text=True)
    assert '<input type="hidden" name="list_state" value="to_assign">' in html


@pytest.mark.parametrize(
    "forged", ["https://evil.example/", "//evil.example", "to_assign&next=//evil.example"]
)
def test_a_forged_filter_never_leads_off_the_list(client, world, listed, forged):
    made, yellow, red = listed
    sign_in(client, world.director)
    response = client.post(
        "/interviews/assign",
        data={
            "entries": [red.id],
            "interviewer": world.counsellor.id,
            "list_state": forged,
            "list_department": forged,
        },
    )
    assert response.headers["Location"] == "/interviews"


def _phq9_then_acute_asq(world):
    """Zhao Min answers PHQ-9 item 9 (red, listed for it), then an acute ASQ (red too, and met
    no rule the PHQ-9 had not already met)."""
    made = w.campaign(world, "phq9", "asq")
    w.submit(made, world.mathematician, "phq9", w.phq9_total(22, item9=2))
    clock.set_now(clock.now() + timedelta(minutes=5))
    w.submit(made, world.mathematician, "asq", {1: 1, 5: 1})
    (entry,) = w.entries(made)
    return made, entry


def test_the_interview_shows_the_warnings_reasons_the_acute_asq_first(client, world):
    made, entry = _phq9_then_acute_asq(world)
    assert [r["rule"] for r in entry.reasons] == ["red_result", "safety_answer"]
    assert all("ASQ" not in str(r["params"]) for r in entry.reasons)  # why it was missed
    sign_in(client, world.counsellor)
    html = client.get(f"/interviews/{entry.id}").get_data(as_text=True)
    shown = html.split('<ul class="warning-reasons">', 1)[1].split("</ul>", 1)[0]
    items = shown.split("<li>")[1:]
    assert len(items) == 2
    assert items[0].startswith("ASQ safety item positive")
    assert items[1].startswith("PHQ-9 safety item positive")
    assert "Listed by the screening for: PHQ-9 result at red level" in html
    # The list heads the reasons with the warning's own line: the ASQ, and one more.
    listed = client.get(f"/interviews?campaign={made.id}").get_data(as_text=True)
    assert "red: ASQ safety item positive" in listed
    assert "(+1 more)" in listed


def test_the_warning_line_counts_the_reasons_at_its_level_not_every_signal(world):
    made = w.campaign(world, "phq9", "asq", "gad7")
    w.submit(made, world.mathematician, "phq9", w.phq9_total(22, item9=2))
    w.submit(made, world.mathematician, "gad7", {1: 2, 2: 2, 3: 1})  # mild: no say in the level
    w.submit(made, world.mathematician, "asq", {1: 1, 5: 1})
    warning = db.session.scalars(select(EarlyWarning)).one()
    assert len(warning.signals) == 3
    assert warning.reason_params is not None
    assert warning.reason_params["more"] == 1  # the PHQ-9's red; the mild GAD-7 decides nothing
