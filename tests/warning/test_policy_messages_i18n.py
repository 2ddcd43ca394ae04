"""The problems of a triage policy draft read in the administrator's language on the policy page.

Settings and values from the YAML (paths such as ``rules[0].level``, levels, flags) are shown as
written: they are what the administrator has to type.
"""

from __future__ import annotations

import html

import pytest

from campus.extensions import db
from campus.models import Role
from warning import retriage
from warning.models import PolicyKind

BROKEN = "version: 1\nrules:\n  - {level: purple, when: {flag: safety}}\n"
WITHOUT_SAFETY_RULE = retriage.default_yaml().replace(
    "  - {key: safety_item, level: red, when: {flag: safety}}\n", ""
)


def _post_draft(campus, unit, login, locale: str, yaml_text: str) -> str:
    admin = campus.staff(unit.institution, Role.ADMIN)
    admin.locale = locale
    campus.commit()
    response = login(admin).post("/warnings/policy", data={"yaml_text": yaml_text})
    assert response.status_code == 400
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        (
            "zh_CN",
            (
                'version：必填，须为文本（数字请加引号，如 "2026.1"）',
                "rules[0].level：未知级别 'purple'（应为 blue、yellow 或 red）",
                "expiry_days：必填，分别给出 blue、yellow、red 的天数（null 表示永不失效）",
            ),
            ("required, a text", "unknown level", "days for blue"),
        ),
        (
            "en",
            (
                'version: required, a text (quote numbers: "2026.1")',
                "rules[0].level: unknown level 'purple' (expected blue, yellow or red)",
                "expiry_days: required, days for blue, yellow and red (null = never)",
            ),
            ("必填", "未知级别", "永不失效"),
        ),
    ],
)
def test_every_problem_of_a_broken_draft_reads_in_the_admins_language(
    campus, unit, login, locale, shown, hidden
):
    page = _post_draft(campus, unit, login, locale, BROKEN)
    for phrase in shown:
        assert phrase in page
    for phrase in hidden:
        assert phrase not in page


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        (
            "zh_CN",
            "rules：筛查安全条目阳性（标记 safety）必须定为红色预警；请为其添加一条红色规则",
            "must grade red",
        ),
        (
            "en",
            "rules: a screening safety item (flag safety) must grade red; add a red rule for it",
            "必须定为红色预警",
        ),
    ],
)
def test_a_draft_that_would_miss_a_crisis_is_refused_in_the_admins_language(
    campus, unit, login, locale, shown, hidden
):
    page = _post_draft(campus, unit, login, locale, WITHOUT_SAFETY_RULE)
    assert shown in page
    assert hidden not in page


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("zh_CN", "已存在；请填写新的版本号"), ("en", "exists already; give a new version")],
)
def test_saving_a_version_twice_is_refused_in_the_admins_language(
    campus, unit, login, locale, shown
):
    admin = campus.staff(unit.institution, Role.ADMIN)
    admin.locale = locale
    campus.commit()
    client = login(admin)
    text = retriage.default_yaml().replace('version: "default-2026.1"', 'version: "campus-1"')
    first = client.post("/warnings/policy", data={"yaml_text": text})
    assert first.status_code == 302
    again = client.post("/warnings/policy", data={"yaml_text": text})
    assert again.status_code == 400
    assert shown in html.unescape(again.get_data(as_text=True))


@pytest.mark.parametrize("kind", ["policy", "response-policy"])
def test_a_draft_under_the_shipped_policys_label_is_refused(campus, unit, login, kind):
    """Two different policies under one name: every deadline records the label, and the audit
    could no longer tell which rules set it."""
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    client = login(admin)
    kind_of = PolicyKind.TRIAGE if kind == "policy" else PolicyKind.RESPONSE
    changed = retriage.default_yaml(kind_of).replace("hours: 1\n", "hours: 2\n", 1)
    refused = client.post(f"/warnings/{kind}", data={"yaml_text": changed})
    assert refused.status_code == 400
    assert "exists already; give a new version" in html.unescape(refused.get_data(as_text=True))
    assert retriage.versions(db.session, unit.institution.id, kind_of) == []


def test_a_draft_under_an_earlier_shipped_response_policys_label_is_refused(campus, unit, login):
    """The deadlines set under response-default-2026.1 (a red's peer watch owed by the class)
    still name it: a campus's own policy may not take that name now that 2026.2 ships."""
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    earlier = retriage.default_yaml(PolicyKind.RESPONSE).replace(
        '"response-default-2026.2"', '"response-default-2026.1"'
    )
    refused = login(admin).post("/warnings/response-policy", data={"yaml_text": earlier})
    assert refused.status_code == 400
    assert "exists already; give a new version" in html.unescape(refused.get_data(as_text=True))
    assert retriage.versions(db.session, unit.institution.id, PolicyKind.RESPONSE) == []


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("zh_CN", "第 3 行第 1 列附近不是有效的 YAML（花括号 { 没有闭合，或缺少英文逗号“,”）"),
        ("en", "not valid YAML near line 3, column 1 (a { is not closed, or a comma is missing)"),
    ],
)
def test_a_draft_that_is_not_yaml_says_where_in_the_admins_language(
    campus, unit, login, locale, shown
):
    page = _post_draft(campus, unit, login, locale, "version: x\nrules: [{key: a\n")
    assert shown in page
    assert "while parsing" not in page  # PyYAML's paragraph, with its own marks, is not shown
    assert "expected ','" not in page  # nor its sentence, where the slip is a common one
