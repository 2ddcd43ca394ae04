"""The batch screening report of a campaign, for the whole campaign or one department: coverage,
bands compared with the previous campaign, and whom to interview by name only for the interview
list's readers; each print audited, everyone else 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from casework import interviews
from screening.models import Campaign
from tests.casework import interview_world as w
from tests.casework.conftest import screened
from tests.pdf import needs_poppler
from tests.pdf import pdf_info
from tests.pdf import pdf_text

pytestmark = needs_poppler


@pytest.fixture
def world(campus) -> w.World:
    world = w.build(campus)
    world.institution.name = "湘江示范大学"
    world.computing.name = "计算机学院"
    world.maths.name = "数学学院"
    world.student.name = "王芳"
    world.classmate.name = "李雷"
    world.mathematician.name = "赵敏"
    for user in (world.director, world.counsellor, world.computing_counsellor, world.admin):
        user.locale = "zh_CN"
    db.session.commit()
    return world


def _round(world) -> Campaign:
    """Last year's round (PHQ-9) and this year's: 王芳 moderate (listed), 李雷 minimal, 赵敏 in
    maths moderately severe (listed)."""
    last = Campaign(
        institution_id=world.institution.id,
        name="2025级新生筛查",
        instruments=["phq9"],
        opens_at=clock.now() - timedelta(days=365),
        closes_at=clock.now() - timedelta(days=351),
    )
    db.session.add(last)
    db.session.flush()
    screened(world.student, last, last.opens_at, phq9=2)
    screened(world.classmate, last, last.opens_at, phq9=3)
    made = w.campaign(world, "phq9")
    made.name = "2026级新生筛查"
    db.session.commit()
    w.submit(made, world.student, "phq9", w.phq9_total(12))
    w.submit(made, world.classmate, "phq9", w.phq9_total(3))
    w.submit(made, world.mathematician, "phq9", w.phq9_total(16))
    return made


def _url(made, department=None) -> str:
    query = f"?department={department.id}" if department is not None else ""
    return f"/casework/campaigns/{made.id}/batch-report.pdf{query}"


def _printed(made) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "print",
                AuditEvent.record_type == "batch_report",
                AuditEvent.record_id == str(made.id),
                AuditEvent.outcome == "ok",
            )
        )
    )


def test_the_directors_department_report_has_coverage_bands_last_year_and_names(world, login):
    made = _round(world)
    response = login(world.director).get(_url(made, world.computing))
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for words in (
        "湘江示范大学",
        "批量筛查报告",
        "2026级新生筛查",
        "计算机学院",
        "2 名学生中已完成 2 名（100.0%）",
        "2025级新生筛查",  # compared with last year's round
        "中度抑郁",
        "+50.0",  # moderate: 0% last year, 50% now
        "-50.0",  # minimal: 100% last year, 50% now
        "王芳",  # on the interview list
        "50%",  # the bands' bar chart
    ):
        assert words in text, words
    assert "赵敏" not in text  # another department
    assert "李雷" not in text  # screened, not on the list: names only in the list
    assert "(A4)" in pdf_info(response.data)
    (row,) = _printed(made)
    assert row.actor_id == world.director.id
    named = db.session.scalars(
        select(AuditEvent.student_id).where(AuditEvent.action == "batch_report_names")
    ).all()
    assert named == [world.student.id]


def test_the_whole_campaign_without_an_earlier_round_says_so(world, login):
    made = w.campaign(world, "phq9", "gad7")
    w.submit(made, world.student, "phq9", w.phq9_total(12))
    text = pdf_text(login(world.counsellor).get(_url(made)).data)
    for words in ("全部院系", "无可比较的往期筛查", "3 名学生中已完成 0 名", "王芳"):
        assert words in text, words


def test_a_department_counsellor_sees_names_assigned_to_them_and_no_scores(world, login):
    made = _round(world)
    entry = next(e for e in w.entries(made) if e.student_id == world.student.id)
    interviews.assign(db.session, world.director, [entry], world.computing_counsellor, clock.now())
    client = login(world.computing_counsellor)
    text = pdf_text(client.get(_url(made, world.computing)).data)
    assert "王芳" in text
    assert "PHQ-9 中度抑郁" in text
    assert "12" not in text.replace("2026", "").replace("2025", "").split("应约谈")[-1]
    assert client.get(_url(made, world.maths)).status_code == 404
    assert client.get(_url(made)).status_code == 404


def test_the_administrator_gets_figures_but_no_names(world, login):
    made = _round(world)
    text = pdf_text(login(world.admin).get(_url(made, world.computing)).data)
    assert "中度抑郁" in text
    assert "王芳" not in text
    assert "名单仅打印给心理中心和负责约谈的院系辅导员" in text


def test_an_english_reader_gets_the_report_in_english(world, login):
    made = _round(world)
    world.director.locale = "en"
    db.session.commit()
    text = pdf_text(login(world.director).get(_url(made, world.computing)).data)
    for words in ("Batch screening report", "Moderate depression", "Whom to interview"):
        assert words in text, words


def test_forged_campaign_or_department_ids_get_404_and_an_audit_row(world, login, campus):
    made = _round(world)
    elsewhere = campus.department(campus.institution("OTH"), "Other")
    campus.commit()
    client = login(world.director)
    assert client.get("/casework/campaigns/999999/batch-report.pdf").status_code == 404
    assert client.get(_url(made, elsewhere)).status_code == 404
    malformed = f"/casework/campaigns/{made.id}/batch-report.pdf?department=x"
    assert client.get(malformed).status_code == 404
    denied = db.session.scalars(
        select(AuditEvent.record_id).where(
            AuditEvent.record_type == "batch_report", AuditEvent.outcome == "denied"
        )
    ).all()
    assert sorted(denied) == sorted(["999999", str(made.id), str(made.id)])
    assert not _printed(made)


def test_the_campaign_page_and_the_interview_list_link_the_reports(world, login):
    made = _round(world)
    page = login(world.counsellor).get(f"/screening/campaigns/{made.id}").get_data(as_text=True)
    assert _url(made) in page
    assert _url(made, world.computing) in page
    page = login(world.computing_counsellor).get(f"/interviews?campaign={made.id}")
    body = page.get_data(as_text=True)
    assert _url(made, world.computing) in body
    assert _url(made, world.maths) not in body
    assert f'href="{_url(made)}"' not in body
