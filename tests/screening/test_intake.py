"""The student's intake through the browser: consent, one instrument per page, one submit."""

from __future__ import annotations

from datetime import date
from datetime import datetime

import lxml.html
import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from screening.models import InstrumentResponse
from screening.models import ScreeningResult
from tests.conftest import sign_in
from warning.models import EarlyWarning
from warning.models import Signal

PHQ9_CALM = {f"item_{n}": "0" for n in range(1, 10)}
GAD7_CALM = {f"item_{n}": "0" for n in range(1, 8)}
ASQ_NO = {f"item_{n}": "0" for n in range(1, 5)}


def _literacy_answers() -> dict[str, str]:
    from screening.scoring import load_instrument

    inst = load_instrument("literacy")
    return {f"item_{i.number}": str(i.correct) for i in inst.items}


def _assignment(campaign, student):
    from screening.models import CampaignAssignment

    return db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
    )


def _results(assignment) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ScreeningResult)
        .where(ScreeningResult.assignment_id == assignment.id)
    )


def _consent(client, assignment, **extra):
    data = {"informed": "y", "sensitive_data": "y", **extra}
    return client.post(f"/screening/a/{assignment.id}/consent", data=data)


def _post(client, assignment, code, answers, action="submit", token="page-1"):  # noqa: S107
    return client.post(
        f"/screening/a/{assignment.id}/i/{code}", data={**answers, "action": action, "token": token}
    )


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_student_completes_the_freshman_campaign_in_the_browser(
    client, school, make_campaign, language
):
    campaign = make_campaign(instruments=("literacy", "phq9", "gad7", "asq"))
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    client.post(f"/language/{language}", data={"next": "/"})
    mine = client.get("/screening/mine")
    assert campaign.name.encode() in mine.data
    start = client.get(f"/screening/a/{assignment.id}", follow_redirects=True)
    assert start.status_code == 200
    assert _consent(client, assignment).status_code == 302

    page = client.get(f"/screening/a/{assignment.id}/i/literacy")
    expected_title = "心理健康知识小测" if language == "zh_CN" else "Mental health literacy check"
    assert expected_title in page.get_data(as_text=True)
    done = _post(client, assignment, "literacy", _literacy_answers(), token="a")
    feedback = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "10" in feedback
    assert "phq9" in feedback
    for code, answers in (("phq9", PHQ9_CALM), ("gad7", GAD7_CALM), ("asq", ASQ_NO)):
        assert _post(client, assignment, code, answers, token=code).status_code == 302
    finished = client.get(f"/screening/a/{assignment.id}")
    assert finished.status_code == 200
    assert 'class="card crisis"' not in finished.get_data(as_text=True)  # no safety answer
    db.session.refresh(assignment)
    assert assignment.completed_at is not None
    assert _results(assignment) == 4
    # Finished, she can read what each part said again (the quiz's explanations included).
    again = client.get("/screening/mine").get_data(as_text=True)
    for code in ("literacy", "phq9", "gad7", "asq"):
        assert f"/screening/a/{assignment.id}/i/{code}/done" in again
    assert client.get(f"/screening/a/{assignment.id}/i/literacy/done").status_code == 200


def test_an_instrument_cannot_be_opened_before_consent(client, school, make_campaign):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    response = client.get(f"/screening/a/{assignment.id}/i/phq9")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/consent")
    assert _post(client, assignment, "phq9", PHQ9_CALM).status_code == 302
    assert _results(assignment) == 0


def test_sensitive_data_consent_is_separate_and_required(client, school, make_campaign):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    response = client.post(f"/screening/a/{assignment.id}/consent", data={"informed": "y"})
    assert response.status_code == 422
    assert b"Please agree separately to the processing of sensitive data." in response.data
    # On a phone the error beside the box sat far below where the page opens: it heads it too.
    html = response.get_data(as_text=True)
    assert html.index('id="consent-errors"') < html.index("Before you start")
    assert "Please agree separately" in html[: html.index("Before you start")]
    db.session.refresh(assignment)
    assert assignment.consent is None
    assert assignment.started_at is None


def test_a_minor_needs_guardian_consent(client, school, make_campaign):
    assignment = _assignment(make_campaign(), school.minor)
    sign_in(client, school.minor.user)
    client.post("/language/en", data={"next": "/"})
    refused = _consent(client, assignment)
    assert refused.status_code == 422
    assert b"your guardian must agree too" in refused.data
    accepted = _consent(
        client,
        assignment,
        guardian_name="Wang Fang",
        guardian_relationship="Mother",
        guardian_agrees="y",
    )
    assert accepted.status_code == 302
    db.session.refresh(assignment)
    assert assignment.consent.minor
    assert assignment.consent.guardian_name == "Wang Fang"


def test_a_minors_consent_form_names_the_guardian_from_the_roster_and_takes_a_correction(
    client, school, make_campaign
):
    school.minor.guardian_name = "刘文"
    db.session.commit()
    assignment = _assignment(make_campaign(), school.minor)
    sign_in(client, school.minor.user)
    client.post("/language/en", data={"next": "/"})
    page = _page(client.get(f"/screening/a/{assignment.id}/consent"))
    assert page.xpath("//input[@name='guardian_name']/@value") == ["刘文"]
    assert "From your student record" in page.text_content()
    # Editable: what she sends is what is recorded.
    accepted = _consent(
        client,
        assignment,
        guardian_name="刘文娟",
        guardian_relationship="母亲",
        guardian_agrees="y",
    )
    assert accepted.status_code == 302
    db.session.refresh(assignment)
    assert assignment.consent.guardian_name == "刘文娟"


def test_a_sent_back_consent_form_keeps_the_guardian_name_she_typed(client, school, make_campaign):
    school.minor.guardian_name = "刘文"
    db.session.commit()
    assignment = _assignment(make_campaign(), school.minor)
    sign_in(client, school.minor.user)
    refused = _consent(client, assignment, guardian_name="刘文娟")
    assert refused.status_code == 422
    page = _page(refused)
    assert page.xpath("//input[@name='guardian_name']/@value") == ["刘文娟"]
    assert "From your student record" not in page.text_content()


def test_no_guardian_name_is_offered_when_the_roster_has_none_or_she_is_of_age(
    client, school, make_campaign
):
    school.minor.guardian_name = None
    db.session.commit()
    campaign = make_campaign()
    sign_in(client, school.minor.user)
    minor_page = _page(client.get(f"/screening/a/{_assignment(campaign, school.minor).id}/consent"))
    assert minor_page.xpath("//input[@name='guardian_name']/@value") in ([], [""])
    client.post("/logout")
    sign_in(client, school.student.user)
    adult_page = _page(
        client.get(f"/screening/a/{_assignment(campaign, school.student).id}/consent")
    )
    assert adult_page.xpath("//input[@name='guardian_name']") == []


@pytest.mark.parametrize(
    ("language", "message"), [("en", "Please answer item 4."), ("zh_CN", "请回答第 4 题。")]
)
def test_a_missing_answer_is_named_and_the_other_answers_are_kept(
    client, school, make_campaign, language, message
):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    client.post(f"/language/{language}", data={"next": "/"})
    _consent(client, assignment)
    answers = {k: v for k, v in PHQ9_CALM.items() if k != "item_4"}
    response = _post(client, assignment, "phq9", answers)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _results(assignment) == 0
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.answer_map() == {n: 0 for n in (1, 2, 3, 5, 6, 7, 8, 9)}


def _page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def _marked_items(page: lxml.html.HtmlElement) -> list[str]:
    """The ids of the items the page marks as needing an answer."""
    return [f.get("id") for f in page.xpath("//fieldset[contains(@class, 'has-error')]")]


def test_a_partial_submit_marks_exactly_the_unanswered_items_and_keeps_every_answer(
    client, school, make_campaign
):
    """A walk on a phone: GAD-7 sent with items 6 and 7 unanswered showed only a list at the top
    of a 4,500 px page, the items themselves unmarked."""
    assignment = _assignment(make_campaign(instruments=("phq9", "gad7")), school.student)
    sign_in(client, school.student.user)
    _consent(client, assignment)
    given = {"item_1": "1", "item_2": "2", "item_3": "1", "item_4": "3", "item_5": "0"}
    response = _post(client, assignment, "gad7", given)
    assert response.status_code == 422
    page = _page(response)
    assert _marked_items(page) == ["q6", "q7"]
    for number, value in given.items():
        checked = page.xpath(f"//input[@name='{number}' and @checked]/@value")
        assert checked == [value], number
    assert page.xpath("//input[@type='radio' and @checked][starts-with(@name, 'item_6')]") == []
    # Each marked item says so itself, and a screen reader hears it with the question.
    for item in ("q6", "q7"):
        fieldset = page.get_element_by_id(item)
        described = fieldset.get("aria-describedby").split()
        message = page.get_element_by_id(f"{item}-err")
        assert message.get("id") in described
        assert message.text_content().strip() == "Please answer this question."
        radios = fieldset.xpath(".//input[@type='radio']")
        assert radios
        assert {r.get("aria-invalid") for r in radios} == {"true"}
    assert page.xpath("//fieldset[@id='q5']//input[@aria-invalid]") == []
    assert page.findtext(".//title").startswith("Error: ")
    assert _results(assignment) == 0


def test_the_error_summary_takes_the_focus_and_links_each_message_to_its_item(
    client, school, make_campaign
):
    assignment = _assignment(make_campaign(instruments=("phq9", "gad7")), school.student)
    sign_in(client, school.student.user)
    client.post("/language/zh_CN", data={"next": "/"})
    _consent(client, assignment)
    response = _post(client, assignment, "gad7", {"item_1": "1", "item_3": "0"})
    page = _page(response)
    summary = page.xpath("//*[contains(@class, 'error-summary')]")
    assert len(summary) == 1
    # Focused as the page opens, without scripts: the first thing a phone shows and a screen
    # reader reads.
    assert summary[0].get("autofocus") is not None
    assert summary[0].get("tabindex") == "-1"
    links = summary[0].xpath(".//a")
    assert [a.text_content() for a in links] == [
        "请回答第 2 题。",
        "请回答第 4 题。",
        "请回答第 5 题。",
        "请回答第 6 题。",
        "请回答第 7 题。",
    ]
    targets = [a.get("href") for a in links]
    assert targets == ["#q2", "#q4", "#q5", "#q6", "#q7"]
    assert ["#" + item for item in _marked_items(page)] == targets
    # A link lands on its item, which takes the focus there.
    assert all(page.get_element_by_id(t[1:]).get("tabindex") == "-1" for t in targets)


def test_an_untouched_page_marks_no_item(client, school, make_campaign):
    assignment = _assignment(make_campaign(instruments=("phq9", "gad7")), school.student)
    sign_in(client, school.student.user)
    _consent(client, assignment)
    page = _page(client.get(f"/screening/a/{assignment.id}/i/gad7"))
    assert _marked_items(page) == []
    assert page.xpath("//*[contains(@class, 'error-summary')]") == []
    assert page.xpath("//input[@aria-invalid]") == []


def test_a_forged_option_value_is_rejected_and_nothing_is_saved(client, school, make_campaign):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    response = _post(client, assignment, "phq9", {**PHQ9_CALM, "item_9": "7"})
    assert response.status_code == 422
    assert b"Item 9: 7 is not one of the allowed answers (0, 1, 2, 3)." in response.data
    assert _results(assignment) == 0
    assert db.session.scalar(select(func.count()).select_from(InstrumentResponse)) == 0


def test_save_and_continue_later_keeps_answers_for_resuming(client, school, make_campaign):
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    _consent(client, assignment)
    saved = _post(client, assignment, "phq9", {"item_1": "2", "item_2": "1"}, action="save")
    assert saved.status_code == 302
    resumed = client.get(f"/screening/a/{assignment.id}", follow_redirects=True)
    html = resumed.get_data(as_text=True)
    assert 'name="item_1" value="2" checked' in html
    assert 'name="item_2" value="1" checked' in html


def test_another_students_assignment_id_is_not_found(client, school, make_campaign):
    theirs = _assignment(make_campaign(), school.classmate)
    sign_in(client, school.student.user)
    assert client.get(f"/screening/a/{theirs.id}/consent").status_code == 404
    assert _post(client, theirs, "phq9", PHQ9_CALM).status_code == 404
    assert client.get(f"/screening/a/{theirs.id}/i/phq9/done").status_code == 404


def test_a_double_submit_creates_exactly_one_result_and_keeps_the_first_answers(
    client, school, make_campaign
):
    assignment = _assignment(make_campaign(instruments=("phq9", "gad7")), school.student)
    sign_in(client, school.student.user)
    _consent(client, assignment)
    first = _post(client, assignment, "phq9", PHQ9_CALM, token="same")
    second = _post(client, assignment, "phq9", {**PHQ9_CALM, "item_1": "3"}, token="same")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _results(assignment) == 1
    assert db.session.scalar(select(ScreeningResult.total)) == 0


def test_a_safety_answer_shows_crisis_resources_and_commits_a_red_warning(
    client, school, make_campaign
):
    assignment = _assignment(make_campaign(instruments=("phq9", "gad7")), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    done = _post(client, assignment, "phq9", {**PHQ9_CALM, "item_9": "1"})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "400-161-9995" in page
    assert "0731-1234-5678" in page
    assert "a counsellor from the mental health centre will get in touch" in page.lower()
    assert 'class="level' not in page
    assert "Minimal depression" not in page
    assert f"/screening/a/{assignment.id}/i/gad7" in page
    db.session.expire_all()
    result = db.session.scalar(select(ScreeningResult))
    signal = db.session.scalar(select(Signal).where(Signal.evidence_id == result.id))
    assert "safety" in result.flag_set
    assert signal.implied_level == 3
    warning = db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.student_id == school.student.id)
    )
    assert warning.level == 3


def test_a_failing_hand_off_writes_no_result_but_keeps_the_draft_and_its_red_warning(
    client, school, make_campaign, monkeypatch
):
    from warning import services

    def broken(*args, **kwargs):
        raise RuntimeError("warning stage unavailable")

    monkeypatch.setattr(services, "hand_off_screening_result", broken)
    assignment = _assignment(make_campaign(), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    response = _post(client, assignment, "phq9", {**PHQ9_CALM, "item_9": "2"})
    assert response.status_code == 503
    assert b"Your answers are kept" in response.data
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ScreeningResult)) == 0
    draft = db.session.scalar(select(InstrumentResponse))
    assert draft.answer_map()[9] == 2
    signal = db.session.scalar(select(Signal))
    assert (signal.evidence_type, signal.evidence_id) == ("instrument_response", draft.id)
    assert signal.implied_level == 3
    assert _assignment_completed(assignment) is None


def _assignment_completed(assignment):
    db.session.refresh(assignment)
    return assignment.completed_at


def test_the_literacy_feedback_shows_the_answer_key_and_explanations(client, school, make_campaign):
    assignment = _assignment(make_campaign(instruments=("literacy",)), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    wrong_first = {**_literacy_answers(), "item_1": "0"}
    done = _post(client, assignment, "literacy", wrong_first)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "You answered 9 of 10 questions correctly" in page
    assert "The correct answer:" in page
    assert "cognitive behaviour therapy" in page


def test_a_closed_campaign_cannot_be_started(client, school, make_campaign):
    from datetime import timedelta

    from campus import clock

    campaign = make_campaign(
        opens=clock.now() - timedelta(days=20), closes=clock.now() - timedelta(days=1)
    )
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    assert client.get(f"/screening/a/{assignment.id}/consent").status_code == 409


def test_a_student_completes_the_demo_freshman_intake(client, school):
    from screening import demo
    from screening.models import Campaign

    demo.seed(db.session, school.institution)
    db.session.commit()
    campaign = db.session.scalar(select(Campaign).where(Campaign.name_en == "2026 freshman intake"))
    assert campaign.instruments == ["literacy", "phq9", "gad7", "asq"]
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    _consent(client, assignment)
    answers = {"literacy": _literacy_answers(), "phq9": PHQ9_CALM, "gad7": GAD7_CALM}
    for code in campaign.instruments:
        assert (
            _post(client, assignment, code, answers.get(code, ASQ_NO), token=code).status_code
            == 302
        )
    assert _assignment_completed(assignment) is not None


def test_my_screenings_costs_as_many_statements_for_three_campaigns_as_for_one(
    client, school, make_campaign
):
    make_campaign("2026 freshman intake")
    sign_in(client, school.student.user)
    one = _statements(client, "/screening/mine")
    make_campaign("2026 winter round")
    make_campaign("2026 spring round")
    three = _statements(client, "/screening/mine")
    assert b"2026 spring round" in client.get("/screening/mine").data
    assert three == one


def _statements(client, path: str) -> int:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


def test_ones_feedback_is_shown_only_once_its_read_is_stored_in_the_audit_trail(
    client, school, make_campaign, monkeypatch
):
    assignment = _assignment(make_campaign(instruments=("literacy",)), school.student)
    sign_in(client, school.student.user)
    _consent(client, assignment)
    feedback = _post(client, assignment, "literacy", _literacy_answers()).headers["Location"]
    assert b"You answered 10 of" in client.get(feedback).data
    reads = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "read_own_feedback", AuditEvent.actor_id == school.student.user_id
        )
    )
    assert db.session.scalar(reads) == 1

    def refused(_session) -> None:
        raise OperationalError("COMMIT", {}, Exception("could not write to file: disk full"))

    monkeypatch.setattr(Session, "commit", refused)
    response = client.get(feedback)
    monkeypatch.undo()
    assert response.status_code == 503
    assert b"You answered" not in response.data
    assert db.session.scalar(reads) == 1


def test_a_student_turning_18_just_after_local_midnight_needs_no_guardian(
    client, school, make_campaign
):
    """Born 15 September 2008: at 00:30 on 15 September 2026 in Shanghai (16:30 UTC on the 14th)
    the student is 18."""
    school.minor.birth_date = date(2008, 9, 15)
    db.session.commit()
    assignment = _assignment(make_campaign(), school.minor)
    clock.set_now(datetime(2026, 9, 14, 16, 30))
    sign_in(client, school.minor.user)
    client.post("/language/en", data={"next": "/"})
    assert _consent(client, assignment).status_code == 302
    db.session.refresh(assignment)
    assert not assignment.consent.minor


def test_feedback_after_a_hard_time_says_how_to_reach_the_centre(client, school, make_campaign):
    """Before: it said "contact the centre yourself at any time" and gave no number or link."""
    assignment = _assignment(make_campaign(instruments=("phq9",)), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    moderate = {**PHQ9_CALM, "item_1": "3", "item_2": "3", "item_3": "3", "item_4": "3"}
    done = _post(client, assignment, "phq9", moderate)
    feedback = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "going through a hard time" in feedback
    phone = school.institution.on_duty_phone or client.application.config["CENTRE_ON_DUTY_PHONE"]
    assert f'href="tel:{phone}"' in feedback
    assert 'href="/appointments/' in feedback


@pytest.mark.parametrize(
    ("code", "answers"),
    [("asq", ASQ_NO), ("k10", {f"item_{n}": "1" for n in range(1, 11)})],
)
def test_a_student_in_the_usual_range_is_thanked_not_told_of_stress_or_a_counsellor(
    client, school, make_campaign, code, answers
):
    assignment = _assignment(make_campaign(instruments=(code,)), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    done = _post(client, assignment, code, answers)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Thank you for completing this part." in page
    assert "stress" not in page
    assert "will get in touch" not in page
