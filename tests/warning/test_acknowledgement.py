"""Whose acknowledgement a warning's level owes: a red's hour is the counselling centre's, so
only the centre (or above) acknowledges it, and a level raised to red is not acknowledged yet."""

from __future__ import annotations

import pytest

from campus import clock
from campus.extensions import db
from tests import factories
from tests.factories import open_warning
from tests.warning.response_helpers import department_contact
from warning import actions
from warning import queue
from warning.policy import Level

from .response_helpers import events
from .response_helpers import open_deadlines


def _student_page(client, network) -> str:
    return client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)


def _unacknowledged_for(user) -> list[str]:
    page = queue.queue(db.session, user, queue.QueueFilter(unacknowledged=True), clock.now())
    return [student.name for _w, student, _d, _o in page.rows]


def _told_guardian(network, warning, note: str, method: str = "phone") -> None:
    """The department counsellor's call reached the guardian (a family contact, which meets the
    warning's step through `guardian_reached`)."""
    assert actions.guardian_reached(
        db.session, network.dept_counsellor, warning.student, method, note, clock.now()
    )
    db.session.commit()


def test_a_department_counsellor_is_not_offered_a_reds_acknowledgement_nor_can_forge_one(
    login, network
):
    """Before: the department counsellor's click met the centre's hour and the red sank below
    every unacknowledged red in the centre's queue, though no one at the centre had seen it."""
    warning = open_warning(network.student, Level.RED)
    client = login(network.dept_counsellor)
    assert 'id="action-acknowledge"' not in _student_page(client, network)
    response = client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )
    assert response.status_code == 403
    db.session.refresh(warning)
    assert warning.acknowledged_at is None
    assert "acknowledge" in open_deadlines(warning)
    assert events(warning, "acknowledged") == 0
    assert _unacknowledged_for(network.school_counsellor) == [network.student.name]


def test_a_department_counsellors_contact_on_a_red_leaves_the_centres_hour_owed(network):
    warning = open_warning(network.student, Level.RED)
    department_contact(network, warning, "Reached her, she is with her roommate")
    assert events(warning, "contact") == 1
    assert warning.acknowledged_at is None
    assert "acknowledge" in open_deadlines(warning)
    assert _unacknowledged_for(network.school_counsellor) == [network.student.name]
    # The department's own red work still counts as done when the department does it.
    _told_guardian(network, warning, "Her mother, by phone; she is driving to campus tonight")
    assert "guardian_notified" not in open_deadlines(warning)


@pytest.mark.parametrize("who", ["school_counsellor", "director"])
def test_the_centre_acknowledges_a_red_and_it_leaves_the_unacknowledged_queue(login, network, who):
    warning = open_warning(network.student, Level.RED)
    client = login(getattr(network, who))
    assert 'id="action-acknowledge"' in _student_page(client, network)
    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )
    db.session.refresh(warning)
    assert warning.acknowledged_at is not None
    assert "acknowledge" not in open_deadlines(warning)
    assert _unacknowledged_for(network.school_counsellor) == []


def test_a_department_counsellor_still_acknowledges_a_yellow(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    assert 'id="action-acknowledge"' in _student_page(client, network)
    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )
    db.session.refresh(warning)
    assert warning.acknowledged_at is not None


def test_a_yellow_acknowledged_then_raised_to_red_by_a_safety_answer_leads_the_centres_queue(
    login, network
):
    """Before: the yellow's acknowledgement stayed on the red, which the centre's queue then
    showed as acknowledged and sorted below every red nobody had seen."""
    warning = factories.phq9_signal(network.student, 12)
    department_contact(network, warning, "Talked in the office", method="in_person")
    assert warning.acknowledged_at is not None
    raised = factories.signal(
        network.student, instrument="phq9", total=12, flags=["safety", "phq9_item9"]
    )
    assert (raised.id, raised.level) == (warning.id, Level.RED)
    assert raised.acknowledged_at is None
    assert _unacknowledged_for(network.school_counsellor) == [network.student.name]
    row = login(network.school_counsellor).get("/warnings/").get_data(as_text=True)
    assert "Not acknowledged" in row[row.index(network.student.name) :]


def test_the_timeline_says_who_acknowledged_and_who_told_the_guardian_and_how(login, network):
    """Before: it read "Acknowledged" and "Guardian notified" with no name, so a counsellor could
    not tell whether the department or the centre had acted."""
    warning = open_warning(network.student, Level.RED)
    actions.acknowledge(
        db.session, network.school_counsellor, warning, warning.version, clock.now()
    )
    _told_guardian(network, warning, "His father, at the department office", method="in_person")
    page = _student_page(login(network.dept_leader), network)
    timeline = page[page.index('class="timeline"') :]
    acknowledged = timeline[timeline.index("Acknowledged") :].split("</li>", 1)[0]
    told = timeline[timeline.index("Guardian notified") :].split("</li>", 1)[0]
    assert network.school_counsellor.name in acknowledged
    assert network.dept_counsellor.name in told
    assert "In person" in told
    assert "His father, at the department office" in told


def test_the_timeline_does_not_name_the_classmate_whose_report_opened_the_warning(login, network):
    network.class_committee.name = "Reporter Wu"
    db.session.commit()
    client = login(network.class_committee)
    page = client.get(f"/warnings/units/class/{network.group.id}").get_data(as_text=True)
    token = page.split('name="submission" type="hidden" value="', 1)[1][:32]
    client.post(
        f"/warnings/units/class/{network.group.id}/concern",
        data={
            "submission": token,
            "student_id": network.student.id,
            "category": "suicidal_talk",
            "text": "Said she wants to disappear",
        },
    )
    page = _student_page(login(network.dept_counsellor), network)
    timeline = page[page.index('class="timeline"') :]
    assert "Warning opened" in timeline
    assert "Reporter Wu" not in timeline


def test_the_acknowledge_form_of_a_red_is_refused_to_a_department_counsellor_on_get_too(
    login, network
):
    """Before: the URL of the action showed its form to a department counsellor, whose POST then
    got a 403; the GET refuses the same way now, by the same rule."""
    warning = open_warning(network.student, Level.RED)
    response = login(network.dept_counsellor).get(f"/warnings/{warning.id}/actions/acknowledge")
    assert response.status_code == 403
    assert 'name="acknowledge-version"' not in response.get_data(as_text=True)
    centre = login(network.school_counsellor).get(f"/warnings/{warning.id}/actions/acknowledge")
    assert centre.status_code == 200


def test_the_acknowledge_form_of_a_yellow_is_open_to_a_department_counsellor(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    response = login(network.dept_counsellor).get(f"/warnings/{warning.id}/actions/acknowledge")
    assert response.status_code == 200
