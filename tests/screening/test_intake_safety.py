"""A safety answer raises its red warning whenever it reaches us, not only on a complete submit."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from screening.models import CampaignAssignment
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from tests.conftest import sign_in
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import Task
from warning.models import WarningStatus

PHQ9_CALM = {f"item_{n}": "0" for n in range(1, 10)}
HOTLINE = "400-161-9995"
ON_DUTY = "0731-1234-5678"


def _assignment(campaign, student) -> CampaignAssignment:
    return db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
    )


def _start(client, school, campaign) -> CampaignAssignment:
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    client.post(
        f"/screening/a/{assignment.id}/consent", data={"informed": "y", "sensitive_data": "y"}
    )
    return assignment


def _post(client, assignment, answers, action="submit", token="page-1"):  # noqa: S107
    return client.post(
        f"/screening/a/{assignment.id}/i/phq9", data={**answers, "action": action, "token": token}
    )


def _signals() -> list[Signal]:
    db.session.expire_all()
    return list(db.session.scalars(select(Signal).order_by(Signal.id)))


def _red_warning(student) -> bool:
    warning = db.session.scalar(select(EarlyWarning).where(EarlyWarning.student_id == student.id))
    return warning is not None and warning.level == 3


def test_a_safety_answer_saved_for_later_raises_a_red_warning_with_the_draft(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    saved = _post(client, assignment, {"item_1": "1", "item_9": "3"}, action="save")
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith("/i/phq9/support")
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert HOTLINE in page
    assert ON_DUTY in page
    assert "24-hour psychological assistance hotline" in page
    assert '<h1 id="crisis-title">' in page
    assert f"/screening/a/{assignment.id}/i/phq9" in page  # the way back to the questions
    back = client.get(f"/screening/a/{assignment.id}/i/phq9").get_data(as_text=True)
    assert 'class="card crisis" role="alert"' in back  # shown, her warning raised with the draft
    assert "data-crisis-live" not in back
    [signal] = _signals()
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.answer_map() == {1: 1, 9: 3}
    assert draft.safety_signal_id == signal.id
    assert (signal.evidence_type, signal.evidence_id, signal.implied_level) == (
        "instrument_response",
        draft.id,
        3,
    )
    assert "PHQ-9 safety item positive" in signal.label
    assert "3" not in signal.label.split(",")[0]
    assert _red_warning(school.student)


def test_saving_a_calm_draft_goes_back_to_the_list_without_a_signal(client, school, make_campaign):
    assignment = _start(client, school, make_campaign())
    saved = _post(client, assignment, {"item_1": "2", "item_9": "0"}, action="save")
    assert saved.headers["Location"].endswith("/screening/mine")
    assert _signals() == []


def test_saving_the_same_safety_answer_again_raises_one_signal(client, school, make_campaign):
    assignment = _start(client, school, make_campaign())
    for value in ("2", "3", "1"):
        assert _post(client, assignment, {"item_9": value}, action="save").status_code == 302
    assert len(_signals()) == 1


def test_an_incomplete_submit_with_a_safety_answer_shows_crisis_resources_and_a_red_warning(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    response = _post(client, assignment, {"item_1": "1", "item_9": "2"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please answer item 2." in page
    assert HOTLINE in page
    assert ON_DUTY in page
    assert 'role="alert"' in page
    [signal] = _signals()
    assert signal.evidence_type == "instrument_response"
    assert signal.implied_level == 3
    assert db.session.scalar(select(func.count()).select_from(ScreeningResult)) == 0
    assert _red_warning(school.student)


def test_an_incomplete_submit_without_a_safety_answer_shows_no_crisis_resources(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    response = _post(client, assignment, {"item_1": "1", "item_9": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="card crisis" role="alert"' not in page
    # Held hidden after item 9, for static/screening.js to show when a safety answer is chosen:
    # the answers that are one come from the PHQ-9's definition.
    assert '<section class="card crisis" hidden data-crisis-live role="alert"' in page
    assert page.count("data-safety-values=") == 1
    assert 'id="q9" data-safety-values="1 2 3"' in page
    assert "/static/screening.js" in page
    assert _signals() == []


def _open_warning(student) -> EarlyWarning:
    db.session.expire_all()
    return db.session.scalar(
        select(EarlyWarning).where(
            EarlyWarning.student_id == student.id, EarlyWarning.status == WarningStatus.OPEN
        )
    )


def test_completing_an_unfinished_page_keeps_its_safety_signal_as_the_results_one(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    unfinished = _post(client, assignment, {"item_1": "1", "item_9": "1"})
    assert unfinished.status_code == 422
    assert HOTLINE in unfinished.get_data(as_text=True)
    [early] = _signals()
    done = _post(client, assignment, {**PHQ9_CALM, "item_1": "1", "item_9": "1"}, token="page-2")
    assert client.get(done.headers["Location"]).status_code == 200
    # The screening's last page shows the crisis numbers again, each a tap to call.
    finished = client.get(f"/screening/a/{assignment.id}").get_data(as_text=True)
    assert "Screening complete" in finished
    assert 'class="card crisis"' in finished
    for number in (HOTLINE, ON_DUTY, "120", "110"):
        assert f'href="tel:{number}"' in finished
    [signal] = _signals()  # one answer, one signal: the counsellor reads it once
    result = db.session.scalar(select(ScreeningResult))
    assert signal.id == early.id
    assert result.safety_signal_id == signal.id
    assert (signal.evidence_type, signal.evidence_id) == ("screening_result", result.id)
    warning = _open_warning(school.student)
    assert warning.level == 3
    assert "more)" not in warning.reason
    assert db.session.scalar(select(func.count()).select_from(InstrumentResponse)) == 0
    _post(client, assignment, {**PHQ9_CALM, "item_9": "3"}, token="page-3")
    assert len(_signals()) == 1


def test_the_same_safety_item_answered_higher_on_completion_is_still_one_signal(
    client, school, make_campaign
):
    # Item 9 from 1 to 3 is the same finding (red, never lapsing, the same label): the result
    # holds the answer the counsellor reads; a second identical line would tell her nothing.
    assignment = _start(client, school, make_campaign())
    _post(client, assignment, {"item_9": "1"}, action="save")
    _post(client, assignment, {**PHQ9_CALM, "item_9": "3"})
    [signal] = _signals()
    result = db.session.scalar(select(ScreeningResult))
    assert result.answer_map()[9] == 3
    assert (signal.evidence_type, signal.evidence_id) == ("screening_result", result.id)


def test_a_student_who_changes_her_safety_answer_keeps_its_red_signal(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    _post(client, assignment, {"item_9": "2"}, action="save")
    _post(client, assignment, PHQ9_CALM)
    [signal] = _signals()  # never lose the red
    assert signal.implied_level == 3
    assert db.session.scalar(select(ScreeningResult)).safety_signal_id == signal.id
    assert _red_warning(school.student)


def _asq(client, assignment, answers, token):
    data = {f"item_{n}": str(v) for n, v in answers.items()}
    return client.post(
        f"/screening/a/{assignment.id}/i/asq", data={**data, "action": "submit", "token": token}
    )


def test_an_asq_refusal_then_question_5_answered_no_is_one_signal(client, school, make_campaign):
    assignment = _start(client, school, make_campaign(instruments=("asq",)))
    declined = {1: 2, 2: 0, 3: 0, 4: 0}
    unfinished = _asq(client, assignment, declined, "page-1")
    assert unfinished.status_code == 422
    assert HOTLINE in unfinished.get_data(as_text=True)
    assert _asq(client, assignment, {**declined, 5: 0}, "page-2").status_code == 302
    [signal] = _signals()
    result = db.session.scalar(select(ScreeningResult))
    assert (signal.evidence_type, signal.evidence_id) == ("screening_result", result.id)
    assert "(+" not in _open_warning(school.student).reason


def test_an_asq_refusal_then_question_5_answered_yes_records_the_acute_finding(
    client, school, make_campaign
):
    # "Yes" to question 5 is a new finding (acute: a safety evaluation now), not the same answer.
    assignment = _start(client, school, make_campaign(instruments=("asq",)))
    declined = {1: 2, 2: 0, 3: 0, 4: 0}
    _asq(client, assignment, declined, "page-1")
    _asq(client, assignment, {**declined, 5: 1}, "page-2")
    early, acute = _signals()
    assert "asq_acute" not in early.flag_set
    assert "asq_acute" in acute.flag_set
    assert acute.evidence_type == "screening_result"


def test_an_acute_answer_saved_after_a_refusal_raises_its_own_signal_from_the_draft(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign(instruments=("asq",)))
    declined = {"item_1": "2", "item_2": "0", "item_3": "0", "item_4": "0"}
    url = f"/screening/a/{assignment.id}/i/asq"
    client.post(url, data={**declined, "action": "save", "token": "a"})
    client.post(url, data={**declined, "item_5": "1", "action": "save", "token": "b"})
    client.post(url, data={**declined, "item_5": "1", "action": "save", "token": "c"})
    early, acute = _signals()
    assert "asq_acute" in acute.flag_set
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.safety_signal_id == acute.id


def test_the_same_answer_submitted_after_its_warning_was_closed_raises_a_new_one(
    client, school, make_campaign
):
    from warning import actions

    assignment = _start(client, school, make_campaign())
    _post(client, assignment, {"item_9": "1"}, action="save")
    warning = _open_warning(school.student)
    actions.do_close(
        db.session, school.counsellor, warning, clock.now(), "Assessed, safe.", date(2026, 10, 1)
    )
    db.session.commit()
    clock.advance(timedelta(minutes=1))
    _post(client, assignment, {**PHQ9_CALM, "item_9": "1"})
    early, scored = _signals()
    assert scored.evidence_type == "screening_result"
    assert _open_warning(school.student).level == 3


def test_a_safety_answer_posted_after_the_window_closed_is_kept_with_its_red_warning(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign(closes=clock.now() + timedelta(minutes=5)))
    clock.advance(timedelta(minutes=10))
    response = _post(client, assignment, {**PHQ9_CALM, "item_9": "2"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This screening closed on" in page
    assert HOTLINE in page
    assert ON_DUTY in page
    [signal] = _signals()
    assert signal.implied_level == 3
    assert _red_warning(school.student)
    assert db.session.scalar(select(InstrumentResponse)).answer_map()[9] == 2
    assert db.session.scalar(select(func.count()).select_from(ScreeningResult)) == 0


def test_a_calm_post_after_the_window_closed_shows_the_closed_page_without_a_signal(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign(closes=clock.now() + timedelta(minutes=5)))
    clock.advance(timedelta(minutes=10))
    response = _post(client, assignment, {"item_1": "1"}, action="save")
    assert response.status_code == 409
    assert 'class="card crisis"' not in response.get_data(as_text=True)
    assert _signals() == []


def test_a_resubmission_that_adds_a_safety_answer_raises_one_red_warning(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign(instruments=("phq9", "gad7")))
    first = _post(client, assignment, PHQ9_CALM, token="page-1")
    assert _signals() == []
    assert not _red_warning(school.student)
    again = _post(client, assignment, {**PHQ9_CALM, "item_9": "2"}, token="page-2")
    assert again.headers["Location"] == first.headers["Location"]
    feedback = client.get(again.headers["Location"]).get_data(as_text=True)
    assert HOTLINE in feedback
    assert "You had already submitted this part" in feedback
    [signal] = _signals()
    result = db.session.scalar(select(ScreeningResult))
    assert result.total == 0
    assert result.answer_map()[9] == 0
    assert result.resubmitted_answers["9"] == 2
    assert result.safety_signal_id == signal.id
    assert (signal.evidence_type, signal.evidence_id) == ("screening_result", result.id)
    assert _red_warning(school.student)
    _post(client, assignment, {**PHQ9_CALM, "item_9": "3"}, token="page-3")
    assert len(_signals()) == 1


def test_a_resubmission_with_a_forged_value_changes_nothing(client, school, make_campaign):
    assignment = _start(client, school, make_campaign())
    _post(client, assignment, PHQ9_CALM)
    again = _post(client, assignment, {**PHQ9_CALM, "item_9": "2", "item_1": "9"}, token="x")
    assert again.status_code == 302
    assert _signals() == []
    assert db.session.scalar(select(ScreeningResult)).resubmitted_answers is None


def test_a_retried_submit_of_the_same_page_says_nothing_about_earlier_answers(
    client, school, make_campaign
):
    assignment = _start(client, school, make_campaign())
    first = _post(client, assignment, PHQ9_CALM, token="same")
    client.get(first.headers["Location"])
    retry = _post(client, assignment, PHQ9_CALM, token="same")
    page = client.get(retry.headers["Location"]).get_data(as_text=True)
    assert "You had already submitted this part" not in page


def test_a_configured_crisis_hotline_name_is_shown_as_given(
    app, client, school, make_campaign, monkeypatch
):
    monkeypatch.setitem(app.config, "CRISIS_HOTLINE_NAME", "Hunan 24h line")
    assignment = _start(client, school, make_campaign())
    saved = _post(client, assignment, {"item_9": "1"}, action="save")
    assert "Hunan 24h line" in client.get(saved.headers["Location"]).get_data(as_text=True)


def test_another_students_support_page_is_not_found(client, school, make_campaign):
    theirs = _assignment(make_campaign(), school.classmate)
    sign_in(client, school.student.user)
    assert client.get(f"/screening/a/{theirs.id}/i/phq9/support").status_code == 404


def test_a_safety_answer_asks_no_classmate_or_roommate_for_anything(
    campus, client, school, make_campaign
):
    """Before, the red it raised gave her class's psychology committee member and her dorm
    informant a peer-watch task due the next day, the minute she answered, before anyone at
    the centre had looked (a false positive on item 9 too). The department counsellor now
    arranges the watch; until she does, her peers are neither tasked nor told."""
    room = campus.room(school.institution, "305")
    school.student.room_id = room.id
    informant = campus.staff(school.institution, Role.DORM_INFORMANT, room=room)
    campus.commit()
    assignment = _start(client, school, make_campaign())
    assert _post(client, assignment, {**PHQ9_CALM, "item_9": "1"}).status_code == 302
    assert _red_warning(school.student)
    assert db.session.scalars(select(Task)).all() == []
    peers = [school.committee.id, informant.id]
    assert (
        db.session.scalars(select(Notification).where(Notification.user_id.in_(peers))).all() == []
    )
