"""The printed referral form (转介单): the disclosed fields and nothing else, for the centre and the
hospital's liaison, every generation audited."""

from __future__ import annotations

from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from referrals.models import ReferralStatus
from tests import factories
from tests.factories import open_warning
from tests.pdf import needs_poppler
from tests.pdf import pdf_info
from tests.pdf import pdf_text
from tests.referrals.conftest import referral_in
from warning.policy import Level

pytestmark = needs_poppler


def _chinese(world):
    """The world in Chinese: names, the hospital, the readers' language, a counsellor's phone."""
    world.institution.name = "湘江示范大学"
    world.hospital.name = "湖南省脑科医院"
    world.student.name = "李雷"
    world.student.guardian_name = "李父"
    world.student.guardian_phone = "13912345678"
    world.counsellor.name = "王老师"
    world.counsellor.phone = "0731-88880001"
    for user in (world.counsellor, world.director, world.liaison, world.other_liaison):
        user.locale = "zh_CN"
    db.session.commit()


def _sent(world, **overrides):
    referral = referral_in(
        world,
        ReferralStatus.SENT,
        reason="持续情绪低落两月，需专科评估",
        screening_summary="PHQ-9 得分 17",
        green_channel=True,
        **overrides,
    )
    db.session.commit()
    return referral


def _prints(referral_id) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "print",
                AuditEvent.record_type == "referral_form",
                AuditEvent.record_id == str(referral_id),
                AuditEvent.outcome == "ok",
            )
        )
    )


def test_the_referral_form_holds_the_disclosed_fields_the_referrer_and_signature_lines(
    world, login
):
    _chinese(world)
    referral = _sent(world)
    client = login(world.counsellor)
    page = client.get(f"/referrals/{referral.id}")
    assert f"/referrals/{referral.id}/referral-form.pdf".encode() in page.data
    response = client.get(f"/referrals/{referral.id}/referral-form.pdf")
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for words in (
        "湘江示范大学",
        "转介单",
        "湖南省脑科医院",
        "李雷",
        "持续情绪低落两月，需专科评估",
        "王老师",
        "0731-88880001",
        "绿色通道",
        "转出单位",
        "接收医院",
        "保密",
    ):
        assert words in text, words
    assert "(A4)" in pdf_info(response.data)
    (row,) = _prints(referral.id)
    assert (row.student_id, row.actor_id) == (world.student.id, world.counsellor.id)


def test_the_page_says_when_to_book_as_planned_and_the_form_as_a_letter_writes_it(world, login):
    """A person plans by "明天 10:00"; a form printed and filed writes the day in full, in its
    language, never ISO (it printed "日期 2026-12-06")."""
    _chinese(world)
    referral = _sent(world)  # green channel, sent 10:00 on 14 September: book within 24 hours
    client = login(world.counsellor)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "<dd>明天 10:00" in page
    text = pdf_text(client.get(f"/referrals/{referral.id}/referral-form.pdf").data)
    assert "2026年9月15日 10:00" in text
    assert "2026-09-1" not in text
    assert "明天" not in text


def test_an_undisclosed_score_or_guardian_phone_never_reaches_the_form(world, login):
    _chinese(world)
    referral = _sent(world)
    text = pdf_text(login(world.counsellor).get(f"/referrals/{referral.id}/referral-form.pdf").data)
    assert "17" not in text.replace(str(referral.id), "")
    assert "PHQ-9" not in text
    assert "13912345678" not in text
    assert "李父" not in text


def test_a_ticked_guardian_contact_and_screening_summary_are_printed(world, login):
    _chinese(world)
    referral = _sent(
        world,
        disclosed_fields=["name", "guardian_contact", "screening_summary", "referral_reason"],
    )
    text = pdf_text(login(world.counsellor).get(f"/referrals/{referral.id}/referral-form.pdf").data)
    for words in ("李父 13912345678", "PHQ-9 得分 17", "监护人联系方式"):
        assert words in text, words


def test_the_hospitals_liaison_prints_the_same_disclosed_form(world, login):
    _chinese(world)
    referral = _sent(world)
    client = login(world.liaison)
    page = client.get(f"/hospital/referrals/{referral.id}")
    assert f"/hospital/referrals/{referral.id}/referral-form.pdf".encode() in page.data
    text = pdf_text(client.get(f"/hospital/referrals/{referral.id}/referral-form.pdf").data)
    assert "李雷" in text
    assert "王老师" in text
    assert "13912345678" not in text
    assert "PHQ-9" not in text
    (row,) = _prints(referral.id)
    assert row.actor_id == world.liaison.id


def test_a_reader_of_english_prints_the_form_in_chinese_unless_she_chooses_english(world, login):
    """The hospital files the form: it printed "Referral form" for a counsellor or a liaison who
    read the pages in English."""
    world.hospital.department, world.hospital.department_en = "心理科", "Department of Psychology"
    referral = _sent(world)
    for reader, url in (
        (world.counsellor, f"/referrals/{referral.id}/referral-form.pdf"),
        (world.liaison, f"/hospital/referrals/{referral.id}/referral-form.pdf"),
    ):
        client = login(reader)
        text = pdf_text(client.get(url).data)
        for words in ("转介单", "接收医院", "转出单位", "Li Lei", "心理科"):
            assert words in text, words
        assert "Referral form" not in text
        text = pdf_text(client.get(f"{url}?language=en").data)
        for words in ("Referral form", "Receiving hospital", "Referring unit", "Li Lei"):
            assert words in text, words
        assert "Department of Psychology" in " ".join(text.split())  # the department in English
        assert "转介单" not in text
        assert "心理科" not in text
    details = [row.detail for row in _prints(referral.id)]
    assert details == ["language=zh_CN", "language=en"] * 2


def test_the_referral_pages_offer_the_form_in_english_beside_the_default(world, login):
    referral = _sent(world)
    page = login(world.counsellor).get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f'href="/referrals/{referral.id}/referral-form.pdf"' in page
    assert "Printed in Chinese, the institution’s language." in page
    assert f'href="/referrals/{referral.id}/referral-form.pdf?language=en" lang="en"' in page
    page = login(world.liaison).get(f"/hospital/referrals/{referral.id}").get_data(as_text=True)
    assert f"/hospital/referrals/{referral.id}/referral-form.pdf?language=en" in page


def _denied(referral_id) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.record_type == "referral_form",
                AuditEvent.record_id == str(referral_id),
                AuditEvent.outcome == "denied",
            )
        )
    )


def test_another_hospitals_liaison_a_draft_and_a_forged_id_get_404_and_an_audit_row(
    world, login, campus
):
    sent = _sent(world)
    # A classmate's draft to the same hospital (one student has one referral there at a time).
    classmate = campus.student(world.student.class_group, name="Wang Fang")
    draft = factories.new_referral(
        open_warning(classmate, Level.RED), world.counsellor, world.hospital
    )
    client = login(world.other_liaison)
    assert client.get(f"/hospital/referrals/{sent.id}/referral-form.pdf").status_code == 404
    assert _denied(sent.id)
    client = login(world.liaison)
    assert client.get(f"/hospital/referrals/{draft.id}/referral-form.pdf").status_code == 404
    assert client.get("/hospital/referrals/999999/referral-form.pdf").status_code == 404
    assert _denied(999999)
    assert not _prints(sent.id)
    assert not _prints(draft.id)


def test_a_department_counsellor_cannot_print_the_referral_form(world, login):
    referral = _sent(world)
    response = login(world.dept_counsellor).get(f"/referrals/{referral.id}/referral-form.pdf")
    assert response.status_code in (403, 404)
    assert not _prints(referral.id)
