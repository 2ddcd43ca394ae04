"""Issue #15 items 8 and 9: one meaning per message, names in the reader's language, no codes.

Names people enter (campaigns, hospitals, institutions) have a Chinese and an optional English
form; each reader sees the one of their language. Codes (instrument codes, flags, policy version
ids) are shown as the words a counsellor uses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Hospital
from campus.models import Role
from referrals.models import ReferralStatus
from screening import campaigns
from screening.models import Campaign
from tests import factories
from tests.conftest import sign_in
from warning import labels
from warning import services


@pytest.fixture
def school(campus):
    inst = campus.institution("XJU", "湘江大学")
    inst.name_en = "Xiangjiang University"
    department = campus.department(inst, "计算机学院")
    group = campus.class_group(department, "CS2601", grade=2026)
    student = campus.student(group, name="李华")
    admin = campus.staff(inst, Role.ADMIN)
    counsellor = campus.staff(inst, Role.SCHOOL_COUNSELLOR)
    for user in (student.user, admin, counsellor):
        user.locale = None  # the institution's default: Chinese
    campus.commit()
    return inst, student, admin, counsellor


def _in_english(client) -> None:
    client.post("/language/en", data={"next": "/"})


def _campaign(school, **names) -> Campaign:
    inst, _student, admin, _counsellor = school
    spec = campaigns.CampaignSpec(
        instruments=["phq9"],
        opens_at=clock.now() - timedelta(days=1),
        closes_at=clock.now() + timedelta(days=14),
        grades=[2026],
        **names,
    )
    return campaigns.save_campaign(db.session, inst, admin, spec)


def test_students_screening_button_says_start_answering_not_home(client, school):
    _campaign(school, name="2026级新生心理普查")
    sign_in(client, school[1].user)
    page = client.get("/screening/mine").get_data(as_text=True)
    assert "开始作答" in page
    assert "首页" not in page


def test_campaign_named_in_two_languages_reads_in_each_readers_language(client, school):
    _campaign(school, name="2026级新生心理普查", name_en="2026 freshman intake")
    sign_in(client, school[3])
    page = client.get("/screening/campaigns").get_data(as_text=True)
    assert "2026级新生心理普查" in page
    assert "2026 freshman intake" not in page
    _in_english(client)
    page = client.get("/screening/campaigns").get_data(as_text=True)
    assert "2026 freshman intake" in page
    assert "2026级新生心理普查" not in page


def test_administrator_enters_a_campaigns_english_name_in_the_form(client, school):
    sign_in(client, school[2])
    response = client.post(
        "/screening/campaigns/new",
        data={
            "name": "2026级新生心理普查",
            "name_en": "2026 freshman intake",
            "instruments": "phq9",
            "grades": ["2026"],
            "opens_at": "2026-09-13T08:00",
            "closes_at": "2026-10-13T08:00",
            "reminder_every_days": "3",
        },
    )
    assert response.status_code == 302, response.data[:2000]
    campaign = db.session.scalar(select(Campaign))
    assert (campaign.name, campaign.name_en) == ("2026级新生心理普查", "2026 freshman intake")


def test_hospital_without_an_english_name_reads_in_chinese_to_everyone(client, school):
    sign_in(client, school[2])
    response = client.post(
        "/admin/hospitals",
        data={"name": "湖南省脑科医院", "name_en": "Hunan Brain Hospital", "department": "心理科"},
    )
    assert response.status_code == 302
    client.post("/admin/hospitals", data={"name": "长沙市第一医院"})
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "湖南省脑科医院"))
    assert hospital.name_en == "Hunan Brain Hospital"
    page = client.get("/admin/hospitals").get_data(as_text=True)
    assert "湖南省脑科医院" in page
    assert "Hunan Brain Hospital" not in page
    assert "科室" in page  # the hospital's department, not a school's 院系
    _in_english(client)
    page = client.get("/admin/hospitals").get_data(as_text=True)
    assert "Hunan Brain Hospital" in page
    assert "长沙市第一医院" in page  # no English name: the Chinese one, never a blank


def test_warning_reason_names_the_campaign_in_the_readers_language(app, school):
    _inst, student, _admin, _counsellor = school
    campaign = _campaign(school, name="2026级新生心理普查", name_en="2026 freshman intake")
    label = labels.screening(
        "PHQ-9",
        safety=True,
        band=None,
        campaign=labels.name_of(campaign),
        observed_at=clock.now(),
    )
    services.record_signal(
        db.session,
        student=student,
        source="screening",
        observed_at=clock.now(),
        label=label,
        instrument="phq9",
        total=12,
        flags=["phq9_item9", "safety"],
    )
    db.session.commit()
    warning = services.open_warning(db.session, student.id)
    assert "2026 freshman intake" in warning.reason  # the stored English, for audit and exports
    with app.test_request_context(), force_locale("zh_CN"):
        shown = labels.render(warning.reason_key, warning.reason_params)
    assert "2026级新生心理普查" in shown
    assert "freshman" not in shown


def test_policy_version_and_flags_read_as_words(app):
    with app.test_request_context(), force_locale("zh_CN"):
        assert labels.policy_name("default-2026.1") == "预警分级策略（2026 年第 1 版）"
        assert labels.policy_name("response-default-2026.1", "response") == (
            "预警响应策略（2026 年第 1 版）"
        )
        assert labels.flag_names("phq9_item9;safety") == (
            "PHQ-9 第 9 题（有死亡或自伤念头）、安全条目阳性"
        )
        assert labels.flag_names("concern:self_harm") == "异常情况报告：自伤"
    with app.test_request_context(), force_locale("en"):
        assert labels.policy_name("default-2026.1") == "Triage policy (2026, version 1)"


def test_hospital_liaison_reads_gender_and_consent_method_in_words(client, campus, school):
    inst, student, _admin, counsellor = school
    student.gender = "F"
    hospital = campus.hospital(inst, "湖南省脑科医院")
    liaison = campus.staff(inst, Role.HOSPITAL_LIAISON, hospital=hospital)
    liaison.locale = None
    campus.commit()
    referral = factories.referral_in(
        ReferralStatus.SENT,
        factories.open_warning(student),
        counsellor,
        hospital,
        consent_method="in_person",
    )
    sign_in(client, liaison)
    page = client.get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert "<dd>女</dd>" in page
    assert "<dd>F</dd>" not in page
    client.post("/logout")
    sign_in(client, counsellor)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "当面口头同意" in page
    assert "in_person" not in page


def test_editing_a_campaign_keeps_its_english_name_in_the_form(client, school):
    campaign = _campaign(school, name="2026级新生心理普查", name_en="2026 freshman intake")
    db.session.commit()
    sign_in(client, school[2])
    page = client.get(f"/screening/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="2026 freshman intake"' in page
