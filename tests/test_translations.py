"""Both interfaces are complete: every UI string has its Chinese translation, the catalog follows
the code, and key pages show one language at a time (Chinese by default, English on request).

English is the source language; a string added to the code without a translation fails here with
the instruction to run `make messages` and translate it.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from gettext import GNUTranslations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from config import BASE_DIR
from referrals import leave
from screening import campaigns
from screening.models import CampaignAssignment
from tests.conftest import sign_in
from tests.factories import TERM_START
from tests.factories import went_live
from warning import response
from warning import services

TRANSLATIONS = BASE_DIR / "translations"
POT = TRANSLATIONS / "messages.pot"
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
FIX = "run `make messages`, then translate the new strings in " + str(ZH_PO.relative_to(BASE_DIR))

PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")
CJK = re.compile(r"[\u3400-\u9fff\uff08-\uff1f\u3001-\u3011]")
# Chinese that an English page may show on purpose: the brand and the switch back to Chinese.
CHINESE_ON_PURPOSE = ("心桥", "中文")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id) for m in catalog if m.id}


def _compiled(catalog: Catalog) -> GNUTranslations:
    """The catalog as the app will load it after `pybabel compile`."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return GNUTranslations(buffer)


# --------------------------------------------------------------------------------------------------
# The catalogs
# --------------------------------------------------------------------------------------------------


def test_every_message_of_the_template_has_a_chinese_translation_with_the_same_placeholders():
    template, zh = _read(POT), _read(ZH_PO)
    assert _keys(template) - _keys(zh) == set(), f"strings missing from the zh catalog: {FIX}"
    compiled = _compiled(zh)
    untranslated, mismatched = [], []
    for message in template:
        if not message.id:
            continue
        english, translated = _english_and_chinese(compiled, message)
        if translated == english and not any(_forms(zh.get(message.id, message.context).string)):
            untranslated.append(english)
        elif sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(translated)):
            mismatched.append((english, translated))
    assert untranslated == [], f"untranslated strings: {FIX}"
    assert mismatched == [], "placeholders differ between the English text and its translation"


def _english_and_chinese(compiled: GNUTranslations, message) -> tuple[str, str]:
    """The English text and its Chinese; for a plural (ngettext) the English plural, since
    Chinese has one form for every count."""
    if isinstance(message.id, tuple):
        singular, plural = message.id
        return plural, compiled.ngettext(singular, plural, 2)
    if message.context:
        return message.id, compiled.pgettext(message.context, message.id)
    return message.id, compiled.gettext(message.id)


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return string if isinstance(string, tuple) else (string,)


def test_chinese_catalog_has_no_fuzzy_or_leftover_entries():
    zh, template = _read(ZH_PO), _read(POT)
    fuzzy = [m.id for m in zh if m.id and m.fuzzy]
    assert fuzzy == [], "fuzzy translations are not used by the app; review and unmark them"
    assert _keys(zh) - _keys(template) == set(), f"strings no longer in the code: {FIX}"


def test_the_centre_has_one_chinese_name_in_every_text():
    """The student's home and booking pages said 心理健康教育中心 where the consent and crisis
    texts say 心理健康教育与咨询中心, and a menu 咨询中心: the centre is 心理健康教育与咨询中心 in
    full and 心理中心 for short, in every text."""
    other_names = re.compile(r"心理健康教育中心|(?<![与理])咨询中心")
    named_otherwise = [
        m.id for m in _read(ZH_PO) if m.id and any(other_names.search(s) for s in _forms(m.string))
    ]
    assert named_otherwise == []


def test_message_template_is_up_to_date_with_the_code(tmp_path, monkeypatch):
    fresh = tmp_path / "messages.pot"
    monkeypatch.chdir(BASE_DIR)  # the same command, from the same place, as `make messages`
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext"]
        + ["-k", "N_", "-k", "pgettext:1c,2", "-k", "_lp:1c,2", "-k", "lazy_pgettext:1c,2"]
        + ["-k", "npgettext:1c,2,3", "-o", str(fresh), "--ignore-dirs=.venv tests bench", "."]
    )
    in_code, in_template = _keys(_read(fresh)), _keys(_read(POT))
    assert in_code - in_template == set(), f"new UI strings not in the catalog: {FIX}"
    assert in_template - in_code == set(), f"the catalog has strings the code no longer uses: {FIX}"


def test_notification_texts_marked_for_later_translation_are_in_the_catalog():
    """`N_` texts are stored in English and translated when a reader opens the inbox."""
    zh = _compiled(_read(ZH_PO))
    for text in [response.PEER_TASK_TEXT, *response.NOTIFICATION_TEXT.values()]:
        assert zh.gettext(text) != text


# --------------------------------------------------------------------------------------------------
# Pages in each language
# --------------------------------------------------------------------------------------------------


def _in_english(client) -> None:
    response = client.post("/language/en", data={"next": "/"})
    assert response.status_code == 302


def _assert_chinese(page: str, chinese: tuple[str, ...], english: tuple[str, ...]) -> None:
    for phrase in chinese:
        assert phrase in page
    for phrase in english:
        assert phrase not in page


def _assert_english(page: str, english: tuple[str, ...], chinese: tuple[str, ...]) -> None:
    for phrase in english:
        assert phrase in page
    for phrase in chinese:
        assert phrase not in page
    body = page
    for allowed in CHINESE_ON_PURPOSE:
        body = body.replace(allowed, "")
    assert CJK.findall(body) == [], "an English page shows Chinese text"


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU")
    department = campus.department(inst, "Computing")
    group = campus.class_group(department, "CS2601", grade=2026)
    student = campus.student(group, name="Li Hua")
    admin = campus.staff(inst, Role.ADMIN)
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    for user in (student.user, admin, counsellor):
        user.locale = None  # no language of their own: the institution's default applies
    campus.commit()
    return inst, student, admin, counsellor


def test_sign_in_page_is_chinese_by_default_and_english_after_switching(client):
    chinese = ("登录心桥", "学校代码", "学号或工号", "密码")
    english = ("Sign in to Xinqiao", "Institution code", "Student or staff number", "Password")
    _assert_chinese(client.get("/login").get_data(as_text=True), chinese, english)
    _in_english(client)
    _assert_english(client.get("/login").get_data(as_text=True), english, chinese)


@pytest.mark.parametrize(
    ("browser", "english_expected"),
    [("en-US,en;q=0.9", True), ("en-GB", True), ("zh-CN,zh;q=0.9,en;q=0.8", False), ("fr", False)],
)
def test_a_visitor_who_chose_no_language_reads_the_browsers_if_it_is_one_of_ours(
    client, browser, english_expected
):
    chinese = ("登录心桥", "学校代码")
    english = ("Sign in to Xinqiao", "Institution code")
    page = client.get("/login", headers={"Accept-Language": browser}).get_data(as_text=True)
    if english_expected:
        _assert_english(page, english, chinese)
    else:
        _assert_chinese(page, chinese, english)


def test_a_saved_language_outranks_the_browsers(client, school):
    _inst, student, _admin, _counsellor = school
    student.user.locale = "zh_CN"
    db.session.commit()
    sign_in(client, student.user)
    page = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in page


def _phq9_assignment(school) -> CampaignAssignment:
    inst, student, admin, _counsellor = school
    spec = campaigns.CampaignSpec(
        name="2026 freshman intake",
        instruments=["phq9"],
        opens_at=clock.now() - timedelta(days=1),
        closes_at=clock.now() + timedelta(days=14),
        grades=[2026],
        department_ids=[],
        reminder_every_days=0,
    )
    campaign = campaigns.save_campaign(db.session, inst, admin, spec)
    return db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
    )


def test_students_screening_pages_and_questions_follow_the_chosen_language(client, school):
    assignment = _phq9_assignment(school)
    sign_in(client, school[1].user)
    consent_url = f"/screening/a/{assignment.id}/consent"
    chinese = ("我的心理测评", "开始之前", "同意并开始")
    english = ("My screenings", "Before you start", "Agree and start")
    pages = client.get("/screening/mine").get_data(as_text=True) + client.get(consent_url).get_data(
        as_text=True
    )
    _assert_chinese(pages, chinese, english)
    _in_english(client)
    pages = client.get("/screening/mine").get_data(as_text=True) + client.get(consent_url).get_data(
        as_text=True
    )
    _assert_english(pages, english, chinese)

    client.post(consent_url, data={"informed": "y", "sensitive_data": "y"})
    instrument = client.get(f"/screening/a/{assignment.id}/i/phq9").get_data(as_text=True)
    _assert_english(instrument, ("Little interest or pleasure in doing things",), ("提交本部分",))
    client.post("/language/zh_CN", data={"next": "/"})
    instrument = client.get(f"/screening/a/{assignment.id}/i/phq9").get_data(as_text=True)
    _assert_chinese(instrument, ("做事时提不起劲或没有兴趣", "提交本部分"), ("Submit this part",))


def test_warnings_queue_is_chinese_by_default_and_english_after_switching(client, school):
    _inst, student, _admin, counsellor = school
    services.record_signal(
        db.session,
        student=student,
        source="screening",
        observed_at=clock.now(),
        label="PHQ-9 moderate in the intake",
        instrument="phq9",
        total=15,
    )
    db.session.commit()
    sign_in(client, counsellor)
    chinese = ("预警", "红色优先", "全部级别", "黄色")
    english = ("Warnings", "Red first", "All levels", "Yellow")
    page = client.get("/warnings/").get_data(as_text=True)
    assert "Li Hua" in page
    _assert_chinese(page, chinese, english)
    _in_english(client)
    page = client.get("/warnings/").get_data(as_text=True)
    assert "Li Hua" in page
    _assert_english(page, english, chinese)


def test_missing_weekly_report_task_reads_in_the_department_counsellors_language(client, campus):
    from warning.escalation import sweep_missing_reports

    inst = campus.institution("XJU")
    department = campus.department(inst, "Computing")
    group = campus.class_group(department, "CS-2026-1")
    committee = campus.staff(inst, Role.CLASS_COMMITTEE, group=group)
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=department)
    counsellor.locale = None
    went_live(TERM_START, inst, committee)
    campus.commit()
    clock.set_now(clock.now() + timedelta(days=2))
    assert sweep_missing_reports(db.session, clock.now()) >= 1
    db.session.commit()
    sign_in(client, counsellor)
    chinese = ("班级 CS-2026-1 未提交", "这一周的周报")
    english = ("Class CS-2026-1 has not filed its weekly report for the week of",)
    _assert_chinese(client.get("/tasks").get_data(as_text=True), chinese, english)
    _in_english(client)
    _assert_english(client.get("/tasks").get_data(as_text=True), english, chinese)


@pytest.mark.parametrize(
    ("kind", "stored", "message", "chinese"),
    [
        (
            "return_plan",
            "Please keep company with Li Hua and see how they are doing",
            (response.PEER_TASK_TEXT, {"name": "Li Hua"}),
            "请多陪伴Li Hua，关心一下对方的近况",
        ),
        (
            "return_plan",
            "Return-to-school support for Li Hua: Deferred exams",
            (leave.STAFF_TASK_TEXT, {"name": "Li Hua", "text": "Deferred exams"}),
            "Li Hua的复学支持：Deferred exams",
        ),
        (
            "return_follow_up",
            "Follow-up 3 month(s) after return to school: Li Hua",
            (leave.FOLLOW_UP_TASK_TEXT, {"months": 3, "name": "Li Hua"}),
            "复学后 3 个月随访：Li Hua",
        ),
    ],
)
def test_return_plan_tasks_stored_in_english_read_in_chinese(app, kind, stored, message, chinese):
    from flask_babel import force_locale

    from warning.models import Task
    from warning.response_views import task_text

    key, params = message
    task = Task(kind=kind, text=stored, text_key=key, text_params=params)
    with app.test_request_context():
        assert task_text(task) == chinese
        with force_locale("en"):
            assert task_text(task) == stored
