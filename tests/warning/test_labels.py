"""Warning reasons and signal labels read in the viewer's language, for new and older rows alike,
and never show scores to department staff."""

from __future__ import annotations

import re
from datetime import datetime

import lxml.html
from flask_babel import force_locale
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from tests.factories import safety_answer
from warning import academic
from warning import labels
from warning import reports
from warning import services
from warning.models import ConcernCategory
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import SignalSource
from warning.reports import ReportingUnit

SCREENED_AT = datetime(2026, 9, 12, 3, 0)
ENGLISH_REASON = "red: PHQ-9 safety item positive in 2026 freshman intake, 2026-09-12"
# The stored reason as an English reader's page says it: its day in words, as every day reads.
ENGLISH_SHOWN = "red: PHQ-9 safety item positive in 2026 freshman intake, Sat 12 Sep"


def _safety_answer(unit) -> EarlyWarning:
    safety_answer(unit.student, SCREENED_AT)
    db.session.commit()
    return db.session.scalar(select(EarlyWarning))


def _chinese_counsellor(campus, unit):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    counsellor.locale = "zh_CN"
    campus.commit()
    return counsellor


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_red_safety_reason_reads_in_chinese_then_in_english_after_switching(unit, campus, login):
    warning = _safety_answer(unit)
    client = login(_chinese_counsellor(campus, unit))

    queue = _page(client, "/warnings/")
    assert "红色：PHQ-9 安全条目阳性（2026 freshman intake，9月12日 周六）" in queue
    assert "safety item positive" not in queue
    assert "red:" not in queue

    client.post("/language/en", data={"next": "/"})
    assert ENGLISH_SHOWN in _page(client, "/warnings/")
    assert warning.reason == ENGLISH_REASON  # the stored English is unchanged, its day ISO


def test_student_page_timeline_and_signal_read_in_chinese(unit, campus, login):
    _safety_answer(unit)
    client = login(_chinese_counsellor(campus, unit))

    page = _page(client, f"/warnings/students/{unit.student.id}")

    assert page.count("PHQ-9 安全条目阳性") >= 3  # reason, signal, timeline entries
    assert "safety item positive" not in page
    # The badge and the timeline's level name the level: the reason beside them does not repeat
    # it (it read "红色 红色：医院报告近期出院").
    current = lxml.html.fromstring(page).get_element_by_id("current-h").getparent()
    assert "红色 PHQ-9 安全条目阳性" in " ".join(current.text_content().split())
    assert "红色：" not in current.text_content()
    client.post("/language/en", data={"next": "/"})
    english = _page(client, f"/warnings/students/{unit.student.id}")
    assert "Red PHQ-9 safety item positive" in " ".join(english.split()).replace("</span> ", " ")
    assert "red: PHQ-9" not in english


def test_warning_recorded_before_label_keys_shows_its_stored_english(unit, campus, login):
    warning = _safety_answer(unit)
    signal = db.session.scalar(select(Signal))
    warning.reason, warning.reason_key, warning.reason_params = (
        "red: legacy reason text",
        None,
        None,
    )
    signal.label, signal.label_key, signal.label_params = "legacy signal label", None, None
    db.session.commit()
    client = login(_chinese_counsellor(campus, unit))

    assert "red: legacy reason text" in _page(client, "/warnings/")
    assert "legacy signal label" in _page(client, f"/warnings/students/{unit.student.id}")


def test_concern_report_reason_names_the_category_in_the_viewers_language(unit, campus, login):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    campus.commit()
    reports.file_concern_report(
        db.session,
        user=informant,
        unit=ReportingUnit("room", unit.room.id, unit.institution.id, unit.room.label),
        student=unit.student,
        category=ConcernCategory.SUICIDAL_TALK,
        text="Said he wants to disappear.",
        now=SCREENED_AT,
    )
    warning = db.session.scalar(select(EarlyWarning))
    assert warning.reason == "red: Dorm concern report: suicidal talk, 2026-09-12"
    client = login(_chinese_counsellor(campus, unit))

    assert "红色：宿舍异常情况报告：谈论自杀，9月12日 周六" in _page(client, "/warnings/")


def test_reliable_worsening_label_carries_no_scores_for_department_staff(unit, campus, login):
    services.record_signal(
        db.session,
        student=unit.student,
        source=SignalSource.TRAJECTORY,
        observed_at=SCREENED_AT,
        label=labels.reliable_worsening("PHQ-9", "2025 intake", "2026 spring round"),
        instrument="phq9",
        total=23,
        flags={"reliable_worsening"},
        explicit_level=2,
    )
    db.session.commit()
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()

    page = _page(login(counsellor), f"/warnings/students/{unit.student.id}")

    assert "PHQ-9 reliably worse: 2025 intake → 2026 spring round" in page
    # The score as a number of its own (not inside a random token such as the CSRF nonce).
    assert re.search(r"(?<![\w-])23(?![\w-])", page) is None


def test_a_mistranslated_label_falls_back_to_english_instead_of_breaking_the_page(app):
    with app.test_request_context():
        shown = labels.render("%(missing)s and %(instrument)s", {"instrument": "PHQ-9"}, "old")
        assert shown == "old"
        assert labels.render(None, None, "stored English") == "stored English"


def test_reason_raised_by_a_key_group_reads_in_chinese(unit, campus, login):
    services.hand_off_screening_result(
        db.session,
        student=unit.student,
        instrument="phq9",
        total=7,
        flags="",
        observed_at=SCREENED_AT,
        campaign_name="2026 freshman intake",
        result_id=8,
        band="mild",
    )
    academic.record_life_event(
        db.session,
        student=unit.student,
        kind="family_change",
        occurred_on=SCREENED_AT.date(),
        note=None,
        actor=campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department),
        now=SCREENED_AT,
    )
    warning = db.session.scalar(select(EarlyWarning))
    assert "raised from blue by a key group" in warning.reason
    client = login(_chinese_counsellor(campus, unit))

    assert "因属重点关注群体，由蓝色上调" in _page(client, "/warnings/")


def test_academic_reasons_are_joined_with_the_chinese_list_mark(app):
    label = labels.academic_difficulty(
        "2025-2026-2", [labels.failed_credits(14), labels.academic_warning()]
    )
    with app.test_request_context(), force_locale("zh_CN"):
        chinese = labels.render(label.key, label.params)
    assert chinese == "2025-2026-2 学业困难：不及格 14 学分、学业预警"
    english = "Academic difficulty in 2025-2026-2: 14 failed credits, academic warning"
    assert label.english() == english


def _timeline_signal(page: str) -> str:
    """The timeline's screening signal as it reads, its spacing as a reader sees it."""
    (entry,) = [
        " ".join(li.text_content().split())
        for li in lxml.html.fromstring(page).xpath("//ol[@class='timeline']/li")
        if "PHQ-9 =" in li.text_content()
    ]
    return entry


def test_a_signals_score_is_bracketed_as_the_readers_language_writes_it(unit, campus, login):
    """The timeline read 「…9月12日 周六） (PHQ-9 = 12; PHQ-9 第 9 题…)」: English brackets and
    semicolon, after a space, in Chinese. Now the Chinese reads with full-width ones."""
    _safety_answer(unit)
    director = campus.staff(unit.institution, Role.DIRECTOR)  # sees scores
    director.locale = "zh_CN"
    campus.commit()
    client = login(director)

    chinese = _timeline_signal(_page(client, f"/warnings/students/{unit.student.id}"))
    client.post("/language/en", data={"next": "/"})
    english = _timeline_signal(_page(client, f"/warnings/students/{unit.student.id}"))

    assert chinese.endswith(
        "9月12日 周六）（PHQ-9 = 12；PHQ-9 第 9 题（有死亡或自伤念头）、安全条目阳性）"
    )
    assert english.endswith(
        "Sat 12 Sep (PHQ-9 = 12; PHQ-9 item 9 (thoughts of death or self-harm), safety answer)"
    )
