"""The response card says what is still owed on a warning, by which tier and by when, and stops
offering an acknowledgement once it is done (unless a raised level owes a new one)."""

from __future__ import annotations

from datetime import timedelta

from campus import clock
from campus.extensions import db
from tests.factories import open_warning
from warning.policy import Level

from .response_helpers import events
from .response_helpers import open_deadlines


def _response_card(page: str) -> str:
    return page.split('id="actions-title"', 1)[1].split("</section>", 1)[0]


def test_the_card_lists_each_open_deadline_with_its_tier_and_marks_a_missed_one(login, network):
    warning = open_warning(network.student, Level.RED)
    open_deadlines(warning)["assessment"].due_at = clock.now() - timedelta(hours=1)
    db.session.commit()

    page = login(network.school_counsellor).get(f"/warnings/students/{network.student.id}")
    card = _response_card(page.get_data(as_text=True))

    assert "Still to do" in card
    # Each step the reader may do leads to its form.
    assessment = f'<a href="/warnings/{warning.id}/actions/assessment">Professional assessment</a>'
    assert f'{assessment}<span class="muted"> (counselling centre)</span>' in card
    assert 'Notify the guardian</a><span class="muted"> (department)</span>' in card
    assert card.count("overdue") == 1
    assessment_line = card.split("Professional assessment", 1)[1].split("</li>", 1)[0]
    assert "overdue" in assessment_line


def test_a_deadline_met_leaves_the_card(login, network):
    warning = open_warning(network.student, Level.RED)
    client = login(network.school_counsellor)
    before = _response_card(client.get(f"/warnings/students/{network.student.id}").get_data(True))
    assert "Acknowledge</a><span" in before

    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )

    after = _response_card(client.get(f"/warnings/students/{network.student.id}").get_data(True))
    assert "Acknowledge</a><span" not in after
    assert "Professional assessment</a><span" in after


def test_an_action_says_which_action_was_saved(login, network):
    warning = open_warning(network.student, Level.RED)
    client = login(network.school_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
        follow_redirects=True,
    )
    assert "Acknowledge: saved." in response.get_data(as_text=True)
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "尚待完成的处置" in page


def test_acknowledging_is_offered_until_done(login, network):
    warning = open_warning(network.student, Level.RED)
    client = login(network.school_counsellor)
    student_page = f"/warnings/students/{network.student.id}"
    assert 'id="action-acknowledge"' in client.get(student_page).get_data(as_text=True)

    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )

    assert 'id="action-acknowledge"' not in client.get(student_page).get_data(as_text=True)
    assert events(warning, "acknowledged") == 1


def test_a_raised_level_that_owes_a_new_acknowledgement_offers_it_again(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.school_counsellor)
    client.post(
        f"/warnings/{warning.id}/actions/acknowledge",
        data={"acknowledge-version": warning.version},
    )
    db.session.refresh(warning)
    client.post(
        f"/warnings/students/{network.student.id}/override",
        data={
            "level": str(int(Level.RED)),
            "reason": "Told the class she has a plan.",
            "version": warning.version,
        },
    )
    db.session.refresh(warning)
    assert warning.level == Level.RED
    assert "acknowledge" in open_deadlines(warning)

    page = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert 'id="action-acknowledge"' in page
