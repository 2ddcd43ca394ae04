"""Two tabs posting the same page at once: the loser sees what a refresh shows, never an error.

Each race is made deterministic by letting the other tab's whole request commit, through its own
connection, right after the losing request has read the row it is about to write.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.extensions import db
from screening import intake
from screening.models import CampaignAssignment
from screening.models import Consent
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from tests.conftest import sign_in

CALM = {f"item_{n}": "0" for n in range(1, 10)}
ALREADY = "You had already submitted this part; your first answers are kept."


def _assignment(campaign, student) -> CampaignAssignment:
    return db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
    )


def _other_tab(user, assignment_id: int, act: Callable[[Session, CampaignAssignment], None]):
    """Run `act` as the other tab's request: its own session and connection, committed."""
    with Session(db.engine) as other:
        act(other, intake.own_assignment(other, user, assignment_id))


def _interleave(monkeypatch, name: str, other_tab: Callable[[], None]) -> None:
    """Let the other tab commit right after this request's first call of `intake.<name>`."""
    original = getattr(intake, name)
    pending = [other_tab]

    def then_the_other_tab(*args, **kwargs):
        found = original(*args, **kwargs)
        if pending:
            pending.pop()()
        return found

    monkeypatch.setattr(intake, name, then_the_other_tab)


@pytest.fixture
def started(client, school, make_campaign):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    client.post(
        f"/screening/a/{assignment.id}/consent", data={"informed": "y", "sensitive_data": "y"}
    )
    return assignment


def _post(client, assignment, answers, action="submit", token="tab-b"):  # noqa: S107
    return client.post(
        f"/screening/a/{assignment.id}/i/phq9", data={**answers, "action": action, "token": token}
    )


def _submit(answers: dict[int, int]):
    def act(session: Session, assignment: CampaignAssignment) -> None:
        inst = intake.instrument("phq9")
        intake.submit(
            session, assignment, inst, answers, token="tab-a", locale="en", now=clock.now()
        )

    return act


def test_the_tab_that_loses_a_double_submit_sees_the_already_submitted_page(
    client, school, started, monkeypatch
):
    _post(client, started, {"item_1": "1"}, action="save")  # both tabs resume this draft
    first = {n: 0 for n in range(1, 10)}
    _interleave(
        monkeypatch,
        "draft_for",
        lambda: _other_tab(school.student.user, started.id, _submit(first)),
    )
    response = _post(client, started, {**CALM, "item_1": "3"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/screening/a/{started.id}/i/phq9/done")
    assert ALREADY in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    [result] = db.session.scalars(select(ScreeningResult))
    assert result.submission_token == "tab-a"
    assert result.total == 0
    assert db.session.scalar(select(func.count()).select_from(InstrumentResponse)) == 0


def test_two_tabs_saving_a_first_draft_at_once_keep_the_later_answers(
    client, school, started, monkeypatch
):
    def save(session: Session, assignment: CampaignAssignment) -> None:
        inst = intake.instrument("phq9")
        intake.save_draft(session, assignment, inst, {1: 1}, locale="en", now=clock.now())

    _interleave(monkeypatch, "draft_for", lambda: _other_tab(school.student.user, started.id, save))
    response = _post(client, started, {"item_1": "2"}, action="save")
    assert response.status_code == 302
    db.session.expire_all()
    [draft] = db.session.scalars(select(InstrumentResponse))
    assert draft.answer_map() == {1: 2}


def test_two_tabs_giving_consent_at_once_both_go_on_to_the_questions(
    client, school, make_campaign, monkeypatch
):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)

    def consent(session: Session, assignment: CampaignAssignment) -> None:
        answers = intake.ConsentAnswers(informed=True, sensitive_data=True)
        intake.give_consent(
            session, assignment, answers, text="t", locale="en", ip=None, now=clock.now()
        )

    _interleave(
        monkeypatch,
        "consent_problems",
        lambda: _other_tab(school.student.user, assignment.id, consent),
    )
    response = client.post(
        f"/screening/a/{assignment.id}/consent", data={"informed": "y", "sensitive_data": "y"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/screening/a/{assignment.id}")
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 1


def _signal_count() -> int:
    from warning.models import Signal

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signal))


def test_two_tabs_completing_a_page_with_a_signalled_safety_answer_leave_one_signal(
    client, school, started, monkeypatch
):
    _post(client, started, {"item_9": "1"}, action="save")  # its red signal is raised here
    assert _signal_count() == 1
    answers = {n: 0 for n in range(1, 9)} | {9: 1}
    _interleave(
        monkeypatch,
        "draft_for",
        lambda: _other_tab(school.student.user, started.id, _submit(answers)),
    )
    response = _post(client, started, {**CALM, "item_9": "1"})
    assert response.status_code == 302
    assert _signal_count() == 1
    [result] = db.session.scalars(select(ScreeningResult))
    assert result.submission_token == "tab-a"


def test_two_tabs_keeping_the_same_unfinished_safety_answer_at_once_raise_one_signal(
    client, school, started, monkeypatch
):
    def save(session: Session, assignment: CampaignAssignment) -> None:
        inst = intake.instrument("phq9")
        intake.save_draft(session, assignment, inst, {9: 1}, locale="en", now=clock.now())

    _interleave(monkeypatch, "draft_for", lambda: _other_tab(school.student.user, started.id, save))
    response = _post(client, started, {"item_1": "1", "item_9": "2"})
    assert response.status_code == 422
    assert _signal_count() == 1
