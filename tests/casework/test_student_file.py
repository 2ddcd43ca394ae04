"""The student file: one page per student, each section only for the capability it needs, one
audited read per view, linked from the lists that name a student where the viewer may open it."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from campus.scope import grant_break_glass
from tests.casework.conftest import campaign
from tests.casework.conftest import screened
from tests.factories import phq9_signal


def _file(login, user, student):
    return login(user).get(f"/casework/students/{student.id}")


def _history(world) -> None:
    autumn = campaign(world.institution, "2025秋季普查", datetime(2025, 9, 10))
    spring = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, autumn, datetime(2025, 9, 12), phq9=4, gad7=3)
    screened(world.student, spring, datetime(2026, 3, 12), phq9=13, gad7=5)
    phq9_signal(world.student, 13)


def _audit_rows(student_id=None, outcome="ok"):
    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "student_file", AuditEvent.outcome == outcome
        )
    ).all()


def test_caseload_counsellor_sees_every_section_with_trends_and_reliable_worsening(world, login):
    _history(world)
    page = _file(login, world.school_counsellor, world.student)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in ('id="warnings"', 'id="family"', 'id="screening"', 'id="referrals"'):
        assert section in html
    assert "<svg" in html  # a trend chart per instrument
    assert "Reliable worsening" in html  # PHQ-9 rose 4 → 13 between rounds
    assert "2026春季复查" in html
    assert f"/screening/students/{world.student.id}/results" in html
    (row,) = _audit_rows()
    assert row.student_id == world.student.id
    assert row.actor_id == world.school_counsellor.id
    assert row.action == "read_file"
    assert row.detail == (
        "capability=CLINICAL sections=consent,warnings,family,screening,referrals,interviews,"
        "crises,appointments"
    )


def _band_cells(html: str) -> list[str]:
    """The band column of each trend table, in the page's order (newest result first)."""
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)[2] for row in html.split("<tr><td>")[1:]]


def test_a_results_band_reads_as_its_instrument_names_it_on_the_file_and_the_results_page(
    world, login
):
    """The file said 中度 where the results page said 中度抑郁: one label, the instrument's."""
    _history(world)
    client = login(world.school_counsellor)
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    screening = page.split('id="screening"', 1)[1].split("</section>", 1)[0]
    assert _band_cells(screening) == ["轻度焦虑", "无或极轻微焦虑", "中度抑郁", "无或极轻微抑郁"]
    results = client.get(f"/screening/students/{world.student.id}/results")
    assert _band_cells(results.get_data(as_text=True).split("<h2>", 1)[1]) == [
        "无或极轻微焦虑",
        "轻度焦虑",
        "无或极轻微抑郁",
        "中度抑郁",
    ]
    client.post("/language/en", data={"next": "/"})
    page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert ">Moderate depression</td>" in page


def test_department_counsellor_sees_level_and_family_but_no_scores_or_answers(world, login):
    _history(world)
    html = _file(login, world.dept_counsellor, world.student).get_data(as_text=True)
    assert 'id="warnings"' in html
    assert 'id="family"' in html
    assert 'id="screening"' not in html
    assert 'id="referrals"' not in html
    assert "<svg" not in html
    assert "/results" not in html
    assert "PHQ-9 = 13" not in html  # the timeline hides scores below CLINICAL
    assert "Screening results" in html  # named among the sections not shown
    assert (
        _audit_rows()[0].detail
        # no counselling; the crisis records she may open (casework.crisis_permissions)
        == "capability=WARNING sections=consent,warnings,family,crises"
    )


def test_class_committee_member_cannot_open_the_file_and_the_attempt_is_audited(world, login):
    assert _file(login, world.class_committee, world.student).status_code == 404
    (row,) = _audit_rows(outcome="denied")
    assert row.actor_id == world.class_committee.id
    assert row.record_id == str(world.student.id)


def test_another_departments_counsellor_gets_404(world, login):
    assert _file(login, world.other_counsellor, world.student).status_code == 404


def test_off_caseload_counsellor_sees_clinical_sections_only_after_break_glass(world, login):
    _history(world)
    client = login(world.off_caseload)
    html = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert 'id="screening"' not in html
    assert "break-glass" in html
    grant_break_glass(db.session, world.off_caseload, world.student, "Crisis call at night", 60)
    html = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert 'id="screening"' in html


def test_my_students_links_a_name_to_the_file_only_for_those_who_may_open_it(world, login):
    href = f'href="/casework/students/{world.student.id}"'
    assert href in login(world.dept_counsellor).get("/students").get_data(as_text=True)
    assert href not in login(world.class_committee).get("/students").get_data(as_text=True)


def test_the_page_shows_the_latest_timeline_entries_and_links_to_the_whole_timeline(
    world, login, monkeypatch
):
    from casework import file_sections

    monkeypatch.setattr(file_sections, "TIMELINE_ON_PAGE", 1)
    phq9_signal(world.student, 13)  # a signal and the warning it opened: two entries
    html = _file(login, world.dept_counsellor, world.student).get_data(as_text=True)
    timeline = html[html.index('<ol class="timeline">') :]
    assert timeline[: timeline.index("</ol>")].count("<li>") == 1
    assert "The latest 1 of 2 entries." in html
    assert f"/warnings/students/{world.student.id}#timeline-h" in html


def _chart_texts(html: str, code: str) -> tuple[str, list[str]]:
    """One instrument's trend chart on the file, and the words it shows, in order."""
    svg = html.split(f'aria-labelledby="trend-{code}-t', 1)[1].split("</svg>", 1)[0]
    return svg, re.findall(r"<text [^>]*>([^<]*)</text>", svg)


def test_a_trend_chart_says_its_days_in_words_and_shows_a_score_of_zero(world, login):
    """The chart read 「2025-09-12」 in tiny type under its points, and a PHQ-9 of 0 was a dot lost
    in the axis line: now each point's day reads as the page says days, the year where it
    starts, and a 0 is a ring on the axis with its score above it."""
    autumn = campaign(world.institution, "2025秋季普查", datetime(2025, 9, 10))
    spring = campaign(world.institution, "2026春季复查", datetime(2026, 3, 10))
    screened(world.student, autumn, datetime(2025, 9, 12, 2), phq9=0)
    screened(world.student, spring, datetime(2026, 3, 12, 2), phq9=13)
    client = login(world.school_counsellor)
    client.post("/language/zh_CN", data={"next": "/"})
    page = f"/casework/students/{world.student.id}"

    svg, texts = _chart_texts(client.get(page).get_data(as_text=True), "phq9")

    # The scale (27 … 0), then each point's day (its year under the first of each year), then
    # each score above its point.
    assert texts == ["27", "0", "9月12日", "2025年", "3月12日", "2026年", "0", "13"]
    assert "2025-09-12" not in svg
    assert "<title>2025年9月12日：0</title>" in svg  # its tooltip
    assert re.search(r'<circle [^>]*fill="#ffffff" stroke=', svg)  # the 0 stands out
    assert min(int(size) for size in re.findall(r'font-size="(\d+)"', svg)) >= 13

    client.post("/language/en", data={"next": "/"})
    _svg, texts = _chart_texts(client.get(page).get_data(as_text=True), "phq9")
    assert texts[2:6] == ["12 Sep", "2025", "12 Mar", "2026"]
