"""The printed student file and the individual screening report: A4 PDFs whose Chinese text holds
what the reader may see and nothing more, each generation audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from tests.casework.conftest import campaign
from tests.casework.conftest import screened
from tests.pdf import needs_poppler
from tests.pdf import pdf_info
from tests.pdf import pdf_text

pytestmark = needs_poppler


def _zh(user):
    """`user`, reading in Chinese."""
    user.locale = "zh_CN"
    db.session.commit()
    return user


def _printed(document: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "print", AuditEvent.record_type == document
            )
        )
    )


def test_the_file_pdf_holds_the_institution_the_student_and_the_confidentiality_line(world, login):
    round_ = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, round_, datetime(2026, 3, 12), phq9=13)
    client = login(_zh(world.school_counsellor))
    client.post(
        f"/casework/students/{world.student.id}/family-contacts/new",
        data={
            "submission": "a" * 32,
            "at": "2026-09-14T09:00",
            "direction": "we_called",
            "guardian_name": "张父",
            "channel": "phone",
            "summary": "家长同意陪同就医。",
            "outcome": "reached",
        },
    )
    response = client.get(f"/casework/students/{world.student.id}/file.pdf")
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for words in ("湘江示范大学", "学生档案", "张三", "家长同意陪同就医。", "2026春季复查", "保密"):
        assert words in text, words
    assert "(A4)" in pdf_info(response.data)
    (row,) = _printed("student_file")
    assert (row.student_id, row.actor_id) == (world.student.id, world.school_counsellor.id)


def test_a_department_counsellors_file_pdf_leaves_out_the_screening(world, login):
    round_ = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, round_, datetime(2026, 3, 12), phq9=13)
    response = login(_zh(world.dept_counsellor)).get(
        f"/casework/students/{world.student.id}/file.pdf"
    )
    text = pdf_text(response.data)
    assert "张三" in text
    assert "2026春季复查" not in text
    assert "筛查结果" in text  # named as not included


def test_the_screening_report_is_neutral_and_shows_crisis_resources_after_a_safety_answer(
    world, login
):
    round_ = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, round_, datetime(2026, 3, 12), flags="safety;phq9_item9", phq9=22)
    response = login(_zh(world.school_counsellor)).get(
        f"/casework/students/{world.student.id}/screening-report/{round_.id}.pdf"
    )
    text = pdf_text(response.data)
    assert "个人心理测评报告" in text
    assert "2026春季复查" in text
    assert "心理援助热线" in text
    assert "重度抑郁" not in text
    assert "22" not in text
    assert len(_printed("screening_report")) == 1


def test_a_counsellor_reading_english_prints_a_students_report_in_chinese_unless_she_chooses(
    world, login
):
    """The report is handed to the student: it printed in the language of the counsellor who
    downloaded it."""
    round_ = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, round_, datetime(2026, 3, 12), phq9=3)
    client = login(world.school_counsellor)  # reads the pages in English
    url = f"/casework/students/{world.student.id}/screening-report/{round_.id}.pdf"
    file = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert f'href="{url}?language=en" lang="en"' in file
    text = pdf_text(client.get(url).data)
    assert "个人心理测评报告" in text
    assert "在常见范围内" in text
    text = pdf_text(client.get(f"{url}?language=en").data)
    assert "个人心理测评报告" not in text
    assert "usual range" in text
    assert [row.detail for row in _printed("screening_report")] == ["language=zh_CN", "language=en"]


def test_a_student_reading_english_gets_her_own_report_in_english(world, login):
    """She is the one it is addressed to: her own download follows her language."""
    shown = campaign(
        world.institution, "Spring check", datetime(2026, 3, 10), students_see_report=True
    )
    screened(world.student, shown, datetime(2026, 3, 12), phq9=3)
    text = pdf_text(login(world.student.user).get(f"/casework/my-reports/{shown.id}.pdf").data)
    assert "usual range" in text
    assert "个人心理测评报告" not in text


def test_a_student_downloads_their_report_only_where_the_campaign_allows_it(world, login):
    shown = campaign(world.institution, "允许查看", datetime(2026, 3, 10), students_see_report=True)
    hidden = campaign(world.institution, "不允许查看", datetime(2026, 4, 10))
    screened(world.student, shown, datetime(2026, 3, 12), phq9=3)
    screened(world.student, hidden, datetime(2026, 4, 12), phq9=3)
    client = login(_zh(world.student.user))
    allowed = client.get(f"/casework/my-reports/{shown.id}.pdf")
    assert "在常见范围内" in pdf_text(allowed.data)
    assert client.get(f"/casework/my-reports/{hidden.id}.pdf").status_code == 404
    mine = client.get("/screening/mine").get_data(as_text=True)
    assert f"/casework/my-reports/{shown.id}.pdf" in mine
    assert f"/casework/my-reports/{hidden.id}.pdf" not in mine


def test_a_department_counsellor_cannot_print_a_screening_report(world, login):
    round_ = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, round_, datetime(2026, 3, 12), phq9=13)
    client = login(world.dept_counsellor)
    url = f"/casework/students/{world.student.id}/screening-report/{round_.id}.pdf"
    assert client.get(url).status_code == 403


def test_a_negative_asq_reads_as_the_usual_range_in_the_students_report(world, login):
    shown = campaign(world.institution, "允许查看", datetime(2026, 3, 10), students_see_report=True)
    (asq,) = screened(world.student, shown, datetime(2026, 3, 12), asq=0)
    asq.band = "negative"
    db.session.commit()
    text = pdf_text(login(_zh(world.student.user)).get(f"/casework/my-reports/{shown.id}.pdf").data)
    assert "在常见范围内" in text
    assert "压力" not in text
