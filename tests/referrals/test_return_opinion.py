"""The printed return-to-school assessment opinion (复学评估意见书): the hospital statement as
recorded, the centre's conclusion, the plan and the 1/3/6-month follow-ups, for the leave's
readers only and only once the centre has assessed the return."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from referrals import leave as rules
from referrals.models import LeaveReason
from referrals.models import PlanSection
from referrals.models import ReturnAssessment
from tests.pdf import needs_poppler
from tests.pdf import pdf_info
from tests.pdf import pdf_text
from tests.referrals.plans import meals_with_the_informant

pytestmark = needs_poppler


def _chinese(world):
    world.institution.name = "湘江示范大学"
    world.student.name = "李雷"
    world.counsellor.name = "王老师"
    for user in (world.counsellor, world.director):
        user.locale = "zh_CN"
    db.session.commit()


def _leave(world):
    data = rules.NewLeave(date(2026, 9, 1), date(2027, 1, 31), LeaveReason.MENTAL_HEALTH)
    return rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())


def _assessed(world, outcome=ReturnAssessment.FIT_TO_RETURN):
    leave = _leave(world)
    rules.record_statement(
        db.session,
        world.counsellor,
        leave,
        date(2026, 9, 10),
        "湖南省脑科医院",
        "抑郁发作，规律服药后病情稳定，可复学",
        clock.now().date(),
    )
    rules.record_assessment(
        db.session, world.counsellor, leave, outcome, "情绪平稳，社会功能恢复良好", clock.now()
    )
    return leave


def _prints(leave_id) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "print",
                AuditEvent.record_type == "return_opinion",
                AuditEvent.record_id == str(leave_id),
                AuditEvent.outcome == "ok",
            )
        )
    )


def test_the_opinion_holds_the_statement_the_conclusion_the_plan_and_the_follow_ups(world, login):
    _chinese(world)
    leave = _assessed(world)
    rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.ACADEMIC,
        "本学期减修两门课程",
        world.dept_counsellor.id,
        date(2026, 10, 1),
    )
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 20))
    client = login(world.counsellor)
    assert b"return-opinion.pdf" in client.get(f"/referrals/leave/{leave.id}").data
    response = client.get(f"/referrals/leave/{leave.id}/return-opinion.pdf")
    text = pdf_text(response.data)
    for words in (
        "湘江示范大学",
        "复学评估意见书",
        "李雷",
        "湖南省脑科医院",
        "抑郁发作，规律服药后病情稳定，可复学",
        "情绪平稳，社会功能恢复良好",
        "■ 同意复学",
        "□ 暂缓复学",
        "本学期减修两门课程",
        "2026年10月20日",  # the 1-month follow-up after the return, in words
        "2027年3月20日",  # the 6-month one
        "中心评估人",
        "中心主任",
        "院系",
    ):
        assert words in text, words
    assert "(A4)" in pdf_info(response.data)
    (row,) = _prints(leave.id)
    assert (row.student_id, row.actor_id) == (world.student.id, world.counsellor.id)


def test_a_deferred_return_ticks_deferral_and_continued_treatment(world, login):
    _chinese(world)
    leave = _assessed(world, ReturnAssessment.NOT_YET)
    client = login(world.director)
    text = pdf_text(client.get(f"/referrals/leave/{leave.id}/return-opinion.pdf").data)
    for words in ("□ 同意复学", "■ 暂缓复学", "■ 建议继续治疗", "自返校之日起计算"):
        assert words in text, words


def test_a_counsellor_reading_english_prints_the_opinion_in_chinese_unless_she_chooses_english(
    world, login
):
    """The opinion goes to the department and the student: it printed in the language of
    whoever downloaded it, "Return-to-school assessment opinion" for a Chinese department."""
    leave = _assessed(world)
    client = login(world.counsellor)  # reads the pages in English
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert f"/referrals/leave/{leave.id}/return-opinion.pdf?language=en" in page
    text = pdf_text(client.get(f"/referrals/leave/{leave.id}/return-opinion.pdf").data)
    for words in ("复学评估意见书", "同意复学", "心理中心主任"):
        assert words in text, words
    assert "Return approved" not in text
    chosen = client.get(f"/referrals/leave/{leave.id}/return-opinion.pdf?language=en")
    text = pdf_text(chosen.data)
    for words in ("Return-to-school assessment opinion", "Return approved", "Centre director"):
        assert words in text, words
    assert "复学评估意见书" not in text
    assert [row.detail for row in _prints(leave.id)] == ["language=zh_CN", "language=en"]


def test_before_the_assessment_the_reader_is_told_why_and_nothing_is_printed(world, login):
    _chinese(world)
    leave = _leave(world)
    client = login(world.counsellor)
    response = client.get(f"/referrals/leave/{leave.id}/return-opinion.pdf", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "中心完成复学评估后方可打印意见书" in response.get_data(as_text=True)
    assert not _prints(leave.id)


def test_readers_outside_the_leaves_scope_and_forged_ids_get_404_with_an_audit_row(world, login):
    leave = _assessed(world)
    response = login(world.dept_counsellor).get(f"/referrals/leave/{leave.id}/return-opinion.pdf")
    assert response.status_code in (403, 404)
    client = login(world.counsellor)
    assert client.get("/referrals/leave/999999/return-opinion.pdf").status_code == 404
    denied = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "return_opinion", AuditEvent.outcome == "denied"
        )
    ).all()
    assert [d.record_id for d in denied] == ["999999"]
    assert not _prints(leave.id)


def test_the_printed_plan_names_each_owner_with_their_role(world, login):
    """In English, each owner with their role, and the statement's hospital, typed in Chinese,
    by the partner hospital's English name, as the referral form names it."""
    world.hospital.name, world.hospital.name_en = "湖南省脑科医院", "Hunan Brain Hospital"
    leave = _assessed(world)
    meals_with_the_informant(world, leave, date(2026, 10, 1))
    text = pdf_text(
        login(world.counsellor)
        .get(f"/referrals/leave/{leave.id}/return-opinion.pdf?language=en")
        .data
    )
    assert f"{world.informant.name} (Dorm informant)" in " ".join(text.split())
    assert "Hunan Brain Hospital" in " ".join(text.split())
    assert "湖南省脑科医院" not in text


def test_the_follow_up_dates_are_bracketed_as_each_language_writes_them(world, login):
    """The Chinese opinion read 「1 个月 (2026年10月20日)」, an English bracket after a space in
    Chinese text: now 「1 个月（2026年10月20日）」, and "1 month (20 October 2026)" in English."""
    leave = _assessed(world)
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 20))
    client = login(world.counsellor)
    url = f"/referrals/leave/{leave.id}/return-opinion.pdf"

    chinese = pdf_text(client.get(url).data)
    english = pdf_text(client.get(f"{url}?language=en").data)

    assert "1 个月（2026年10月20日）、3 个月（2026年12月20日）" in chinese
    assert "(" not in chinese.split("复学后随访", 1)[1].split("\n", 1)[0]
    assert "1 month (20 October 2026), 3 months (20 December 2026)" in english
