"""A question asked only after certain answers says exactly which answers make it needed."""

from __future__ import annotations

import html
from dataclasses import replace

import pytest
from flask_babel import force_locale

from screening.conditional_items import when_to_answer
from screening.instruments import list_instruments
from screening.instruments.model import ItemCount
from screening.instruments.model import Range
from screening.scoring import load_instrument
from tests.conftest import sign_in
from tests.screening.test_intake import _assignment
from tests.screening.test_intake import _consent
from tests.screening.test_intake import _post

ASQ_HINT = 'Answer this if your answer to any question above was "Yes" or "Prefer not to answer".'


def _asked_if_items():
    for code in list_instruments():
        inst = load_instrument(code)
        for item in inst.items:
            if item.asked_if is not None:
                yield pytest.param(code, item.number, id=f"{code}-{item.number}")


def test_asq_question_5_is_needed_after_a_yes_or_a_refusal(app):
    asq = load_instrument("asq")
    with app.test_request_context(), force_locale("en"):
        assert when_to_answer(asq, asq.item(5), "en") == ASQ_HINT
        assert when_to_answer(asq, asq.item(1), "en") is None


@pytest.mark.parametrize(("code", "number"), list(_asked_if_items()))
def test_every_conditional_question_names_each_answer_that_makes_it_needed(app, code, number):
    inst = load_instrument(code)
    item = inst.item(number)
    assert isinstance(item.asked_if, ItemCount)
    counted = [
        option.label.en
        for n in item.asked_if.items
        for option in inst.item(n).options.options
        if item.asked_if.value.contains(option.value)
    ]
    with app.test_request_context(), force_locale("en"):
        hint = when_to_answer(inst, item, "en")
    assert hint is not None
    assert all(f'"{label}"' in hint for label in counted)
    others = {o.label.en for n in item.asked_if.items for o in inst.item(n).options.options}
    assert not any(f'"{label}"' in hint for label in others - set(counted))


def test_a_condition_on_some_questions_names_them_and_how_many(app):
    asq = load_instrument("asq")
    two_of_three = ItemCount((1, 2, 3), Range(1, 1), Range(2, None))
    item = replace(asq.item(5), asked_if=two_of_three)
    with app.test_request_context(), force_locale("en"):
        hint = when_to_answer(asq, item, "en")
    assert hint == 'Answer this if at least 2 of your answers to questions 1, 2, 3 were "Yes".'


def test_a_student_who_declined_question_1_reads_that_question_5_is_hers_to_answer(
    client, school, make_campaign
):
    assignment = _assignment(make_campaign(instruments=("asq",)), school.student)
    sign_in(client, school.student.user)
    client.post("/language/en", data={"next": "/"})
    _consent(client, assignment)
    answers = {"item_1": "2", "item_2": "0", "item_3": "0", "item_4": "0"}
    response = _post(client, assignment, "asq", answers)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Please answer item 5." in page
    assert ASQ_HINT in page
    assert "only if you answered" not in page
