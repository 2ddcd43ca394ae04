"""What a student reads as an instrument's title: neutral words, never the clinical name."""

from __future__ import annotations

import pytest

from screening.scoring import load_instrument
from tests.conftest import sign_in
from tests.screening.test_intake import _assignment
from tests.screening.test_intake import _consent

SHIPPED = ("phq9", "phq2", "gad7", "gad2", "asq", "k10", "k6", "dass21", "literacy", "mhls")
LICENSED = ("scl90", "upi")
# Words that name a disorder, a risk or a clinical scale: alarming or priming on a student's page.
CLINICAL_WORDS = ("抑郁", "焦虑", "自杀", "量表", "患者", "困扰", "症状", "人格", "风险")
CLINICAL_WORDS_EN = ("depress", "anxiety", "suicide", "patient", "disorder", "distress", "scale")


@pytest.mark.parametrize("code", SHIPPED + LICENSED)
def test_every_instrument_has_a_neutral_title_for_students(code):
    inst = load_instrument(code)
    assert not any(word in inst.student_title.zh_CN for word in CLINICAL_WORDS)
    assert not any(word in inst.student_title.en.lower() for word in CLINICAL_WORDS_EN)
    assert inst.abbreviation not in inst.student_title.zh_CN + inst.student_title.en
    assert inst.source["citation"]  # the clinical name keeps its cited source, for staff


@pytest.mark.parametrize(
    ("code", "title", "clinical"),
    [
        ("phq9", "心情问卷", "患者健康问卷抑郁量表"),
        ("asq", "关于你近况的几个问题", "自杀风险筛查问题"),
    ],
)
def test_the_student_page_shows_the_neutral_title(
    client, school, make_campaign, code, title, clinical
):
    campaign = make_campaign(instruments=(code,))
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    client.post("/language/zh_CN", data={"next": "/"})
    _consent(client, assignment)
    page = client.get(f"/screening/a/{assignment.id}/i/{code}").get_data(as_text=True)
    assert title in page
    assert clinical not in page


def test_a_finished_student_reads_each_part_again_under_the_title_she_answered_it_under(
    client, school, make_campaign
):
    from tests.screening.test_intake import ASQ_NO
    from tests.screening.test_intake import GAD7_CALM
    from tests.screening.test_intake import PHQ9_CALM
    from tests.screening.test_intake import _literacy_answers
    from tests.screening.test_intake import _post

    campaign = make_campaign(instruments=("literacy", "phq9", "gad7", "asq"))
    assignment = _assignment(campaign, school.student)
    sign_in(client, school.student.user)
    client.post("/language/zh_CN", data={"next": "/"})
    _consent(client, assignment)
    answers = {"literacy": _literacy_answers(), "phq9": PHQ9_CALM, "gad7": GAD7_CALM}
    for code in campaign.instruments:
        _post(client, assignment, code, answers.get(code, ASQ_NO), token=code)
    page = client.get("/screening/mine").get_data(as_text=True)
    for title in ("心理健康知识小测", "心情问卷", "近期感受", "关于你近况的几个问题"):
        assert f">{title}</a>" in page
    for clinical in ("MHL Quiz", "PHQ-9", "GAD-7", "ASQ"):
        assert clinical not in page
