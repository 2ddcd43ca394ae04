"""The policy pages say what the policy in force, or a draft, does in the reader's words."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from warning import policy_words
from warning import retriage
from warning.models import PolicyKind
from warning.models import PolicyVersion
from warning.models import SignalSource


def _text(response) -> str:
    """The page's words, tags dropped and spaces folded, as a reader sees them."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page))


def _admin(campus, unit, locale: str = "en"):
    admin = campus.staff(unit.institution, Role.ADMIN)
    admin.locale = locale
    campus.commit()
    return admin


def _activate(client, path: str, text: str) -> PolicyVersion:
    assert client.post(path, data={"yaml_text": text}).status_code == 302
    draft = db.session.scalars(select(PolicyVersion).order_by(PolicyVersion.id.desc())).first()
    assert client.post(f"/warnings/policy/{draft.id}/activate").status_code == 302
    return draft


def test_the_response_policy_in_force_is_said_level_by_level(campus, unit, login):
    client = login(_admin(campus, unit))
    page = _text(client.get("/warnings/response-policy"))
    assert "Acknowledge: counselling centre, within 1 hour" in page
    assert "Notify the guardian: department, within 24 hours" in page
    # The department arranges a red's peer watch; no peer is given it when the red is set.
    assert "Arrange the peer watch: department, within 24 hours" in page
    assert "Arrange the peer watch: class" not in page
    assert "every 7 days" in page
    assert "reminded every 4 hours" in page

    draft = (
        retriage.default_yaml(PolicyKind.RESPONSE)
        .replace('"response-default-2026.2"', '"campus-2027.1"')
        .replace(
            "{kind: acknowledge, within_hours: 1, tier: school}",
            "{kind: acknowledge, within_hours: 0.5, tier: school}",
        )
        .replace("leadership_reminder_hours: 4", "leadership_reminder_hours: 2")
    )
    version = _activate(client, "/warnings/response-policy", draft)
    page = _text(client.get("/warnings/response-policy"))
    assert "Acknowledge: counselling centre, within 30 minutes" in page
    assert "within 1 hour" not in page
    assert "reminded every 2 hours" in page
    # The version's own page says the same of that version.
    assert "within 30 minutes" in _text(client.get(f"/warnings/policy/{version.id}"))


def test_the_triage_policy_in_force_is_said_rule_by_rule(campus, unit, login):
    client = login(_admin(campus, unit))
    page = _text(client.get("/warnings/policy"))
    red, rest = page.split("Yellow", 1)[0], page.split("Yellow", 1)[1]
    assert "PHQ-9 total 20 or more phq9_severe" in red
    assert "PHQ-9 total 10 to 19 phq9_moderate" in rest
    assert "2 or more reports within 30 days" in rest
    assert "red until a school counsellor closes the warning" in page

    draft = (
        retriage.default_yaml()
        .replace('"default-2026.1"', '"campus-2027.1"')
        .replace(
            "{instrument: phq9, total_min: 10, total_max: 19}",
            "{instrument: phq9, total_min: 8, total_max: 19}",
        )
    )
    _activate(client, "/warnings/policy", draft)
    page = _text(client.get("/warnings/policy"))
    assert "PHQ-9 total 8 to 19 phq9_moderate" in page
    assert "PHQ-9 total 10 to 19" not in page


def test_a_chinese_administrator_reads_the_policies_in_chinese(campus, unit, login):
    client = login(_admin(campus, unit, "zh_CN"))
    response = _text(client.get("/warnings/response-policy"))
    assert "确认接收：心理中心，1小时内" in response
    assert "安排朋辈陪伴：院系，24小时内" in response
    assert "within" not in response.split("策略（YAML）")[0]
    triage = _text(client.get("/warnings/policy"))
    assert "PHQ-9 总分 20 分及以上" in triage
    assert "来自异常情况报告或班级/宿舍周报" in triage
    assert "UPI 第一类，且无UPI 第 25 题" in triage
    assert "total" not in triage.split("策略（YAML）")[0]


@pytest.mark.parametrize(
    ("window", "words"),
    [
        (timedelta(minutes=30), "30 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(hours=48), "2 days"),
        (timedelta(hours=168), "7 days"),
    ],
)
def test_a_window_is_said_exactly_never_rounded(app, window, words):
    with app.test_request_context(), force_locale("en"):
        assert policy_words.window_words(window) == words


def test_every_signal_source_has_words():
    assert set(policy_words.SOURCE_WORDS) == {source.value for source in SignalSource}
