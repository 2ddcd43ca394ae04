"""Bulk import of paper results, trajectories across rounds, and who may read answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import session
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Caseload
from campus.models import Role
from campus.spreadsheets import ImportFileError
from screening import results_import
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from screening.scoring import load_instrument
from screening.trajectories import trajectory
from screening.vocabulary import instrument_short_name
from tests.conftest import sign_in
from warning.models import Signal

HEADER = "student_number," + ",".join(f"q{n}" for n in range(1, 11)) + "\n"


def _row(number: str, answers: list[int | str]) -> str:
    return number + "," + ",".join(map(str, answers)) + "\n"


def _import(campaign, text: str, actor, clean_rows_only: bool = False):
    frame = results_import.read_table("paper.csv", text.encode("utf-8"))
    return results_import.import_results(
        db.session,
        campaign,
        load_instrument("phq9"),
        frame,
        actor=actor,
        now=clock.now(),
        clean_rows_only=clean_rows_only,
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_clean_paper_file_is_scored_and_handed_to_the_warning_stage(school, make_campaign):
    campaign = make_campaign()
    text = HEADER + _row(school.student.student_number, [2] * 8 + [0, ""])
    text += _row(school.minor.student_number, [0] * 8 + [1, 0])
    report = _import(campaign, text, school.admin)
    assert report.imported
    assert report.imported_count == 2
    totals = dict(
        db.session.execute(select(ScreeningResult.student_id, ScreeningResult.total)).all()
    )
    assert totals == {school.student.id: 16, school.minor.id: 1}
    assert _count(Signal) == 2  # moderately severe (yellow) and the safety item (red)


def test_a_broken_file_reports_every_bad_row_and_imports_nothing(school, make_campaign):
    campaign = make_campaign()
    text = HEADER
    text += _row(school.student.student_number, [0] * 10)
    text += _row(school.minor.student_number, [0] * 8 + [7, 0])
    text += _row("NOBODY", [0] * 10)
    text += _row(school.senior.student_number, [0] * 10)
    text += _row(school.student.student_number, [0] * 7 + ["", 0, 0])
    report = _import(campaign, text, school.admin)
    assert not report.imported
    reasons = {(e.line, e.reason) for e in report.errors}
    assert (3, "Item 9: 7 is not one of the allowed answers (0, 1, 2, 3).") in reasons
    assert (4, "student NOBODY is not in this campaign's cohort") in reasons
    assert (
        5,
        f"student {school.senior.student_number} is not in this campaign's cohort",
    ) in reasons
    assert any(line == 6 and "Please answer item 8." in r for line, r in reasons)
    assert any(line == 2 and "also on row(s) 6" in r for line, r in reasons)
    assert _count(ScreeningResult) == 0
    assert _count(Signal) == 0


def test_clean_rows_only_imports_the_good_rows_and_skips_the_bad(school, make_campaign):
    campaign = make_campaign()
    text = HEADER + _row(school.student.student_number, [0] * 10)
    text += _row("NOBODY", [0] * 10)
    report = _import(campaign, text, school.admin, clean_rows_only=True)
    assert report.imported
    assert report.imported_count == 1
    assert _count(ScreeningResult) == 1


def test_a_file_with_the_wrong_columns_is_refused_whole(school, make_campaign):
    campaign = make_campaign()
    with pytest.raises(ImportFileError, match="q1 to q10"):
        _import(campaign, "student_number,q1,q2\nX,0,0\n", school.admin)
    with pytest.raises(ImportFileError, match="Only CSV or XLSX"):
        results_import.read_table("paper.pdf", b"%PDF")


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        (
            "zh_CN",
            "PHQ-9 每个条目需要一列，按顺序为 q1 至 q10（或 1 至 10）。"
            "文件中的列：student_number, q1, q2。",
        ),
        (
            "en",
            "PHQ-9 needs one column per item, in order: q1 to q10 (or 1 to 10). "
            "Columns in the file: student_number, q1, q2.",
        ),
    ],
)
def test_a_file_with_the_wrong_columns_says_so_in_the_viewers_language(
    client, school, make_campaign, locale, shown
):
    import html
    import io

    campaign = make_campaign()
    school.admin.locale = locale
    db.session.commit()
    sign_in(client, school.admin)
    response = client.post(
        f"/screening/campaigns/{campaign.id}/import",
        data={
            "instrument": "phq9",
            "file": (io.BytesIO(b"student_number,q1,q2\nX,0,0\n"), "p.csv"),
        },
        content_type="multipart/form-data",
    )
    assert shown in html.unescape(response.get_data(as_text=True))
    assert _count(ScreeningResult) == 0


def test_admin_imports_results_through_the_web_page(client, school, make_campaign):
    import io

    campaign = make_campaign()
    sign_in(client, school.admin)
    client.post("/language/en", data={"next": "/"})
    text = HEADER + _row("NOBODY", [0] * 10)
    response = client.post(
        f"/screening/campaigns/{campaign.id}/import",
        data={"instrument": "phq9", "file": (io.BytesIO(text.encode()), "paper.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert b"Nothing was imported" in response.data
    assert b"NOBODY" in response.data


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        (
            "zh_CN",
            [
                "学号 NOBODY 的学生不在本次筛查活动的筛查对象中",
                "第 9 题：7 不是可选的答案（0, 1, 2, 3）。",
            ],
            ["cohort", "allowed answers"],
        ),
        (
            "en",
            [
                "student NOBODY is not in this campaign's cohort",
                "Item 9: 7 is not one of the allowed answers (0, 1, 2, 3).",
            ],
            ["筛查对象", "可选的答案"],
        ),
    ],
)
def test_results_import_page_shows_bad_rows_in_the_viewers_language(
    client, school, make_campaign, locale, shown, hidden
):
    import html
    import io

    campaign = make_campaign()
    school.admin.locale = locale
    db.session.commit()
    sign_in(client, school.admin)
    text = HEADER + _row("NOBODY", [0] * 10) + _row(school.student.student_number, [0] * 8 + [7, 0])
    response = client.post(
        f"/screening/campaigns/{campaign.id}/import",
        data={
            "instrument": "phq9",
            "file": (io.BytesIO(text.encode()), "paper.csv"),
        },
        content_type="multipart/form-data",
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert all(phrase in page for phrase in shown)
    assert not any(phrase in page for phrase in hidden)


def test_a_reliable_worsening_between_rounds_is_recorded_as_a_signal(school, make_campaign):
    spring = make_campaign(
        "2026 spring",
        opens=clock.now() - timedelta(days=200),
        closes=clock.now() - timedelta(days=150),
    )
    _import(spring, HEADER + _row(school.student.student_number, [0] * 9 + [0]), school.admin)
    autumn = make_campaign("2026 autumn")
    clock.advance(timedelta(hours=1))
    worse = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]  # 0 -> 6: the PHQ-9 reliable-change criterion
    _import(autumn, HEADER + _row(school.student.student_number, worse), school.admin)
    signal = db.session.scalar(select(Signal).where(Signal.source == "trajectory"))
    assert signal is not None
    assert "reliable_worsening" in signal.flag_set
    points = trajectory(db.session, school.student.id, "phq9")
    assert [p.total for p in points] == [0, 6]
    assert [p.reliable_worsening for p in points] == [False, True]


def test_a_change_below_the_criterion_is_not_a_signal(school, make_campaign):
    spring = make_campaign(
        "2026 spring",
        opens=clock.now() - timedelta(days=200),
        closes=clock.now() - timedelta(days=150),
    )
    _import(spring, HEADER + _row(school.student.student_number, [0] * 10), school.admin)
    autumn = make_campaign("2026 autumn")
    clock.advance(timedelta(hours=1))
    _import(autumn, HEADER + _row(school.student.student_number, [1] * 5 + [0] * 5), school.admin)
    assert db.session.scalar(select(Signal).where(Signal.source == "trajectory")) is None


def test_answers_are_shown_only_to_the_caseload_counsellor_and_audited(
    client, school, make_campaign
):
    from campus.audit import AuditEvent

    campaign = make_campaign()
    _import(campaign, HEADER + _row(school.student.student_number, [1] * 10), school.admin)
    url = f"/screening/students/{school.student.id}/results"
    sign_in(client, school.classmate.user)  # a classmate who is the class committee member
    assert client.get(url).status_code == 403
    client.post("/logout")
    sign_in(client, school.counsellor)
    assert client.get(url).status_code == 404  # not on the caseload
    db.session.add(Caseload(counsellor_id=school.counsellor.id, student_id=school.student.id))
    db.session.commit()
    page = client.get(url)
    assert page.status_code == 200
    assert b"PHQ-9" in page.data
    audited = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "read_screening_results", AuditEvent.outcome == "ok")
    )
    assert audited == 1


def test_another_student_cannot_read_a_students_feedback(client, school, make_campaign):
    campaign = make_campaign()
    _import(campaign, HEADER + _row(school.student.student_number, [1] * 10), school.admin)
    assignment = db.session.scalar(
        select(CampaignAssignment).where(CampaignAssignment.student_id == school.student.id)
    )
    sign_in(client, school.minor.user)
    assert client.get(f"/screening/a/{assignment.id}/i/phq9/done").status_code == 404
    assert school.committee.has_role(Role.CLASS_COMMITTEE)


def test_a_student_submitting_online_while_their_paper_row_is_imported_is_reported_not_a_crash(
    school, make_campaign, monkeypatch
):
    from sqlalchemy.orm import Session

    from screening import intake

    campaign = make_campaign()
    assignment_id = db.session.scalar(
        select(CampaignAssignment.id).where(CampaignAssignment.student_id == school.student.id)
    )
    already_scored = results_import._already_scored

    def then_the_student_submits_online(*args):
        done = already_scored(*args)
        monkeypatch.setattr(results_import, "_already_scored", already_scored)
        with Session(db.engine) as online:
            assignment = intake.own_assignment(online, school.student.user, assignment_id)
            answers = {n: 0 for n in range(1, 10)}
            inst = load_instrument("phq9")
            intake.submit(
                online, assignment, inst, answers, token="t", locale="en", now=clock.now()
            )
        return done

    monkeypatch.setattr(results_import, "_already_scored", then_the_student_submits_online)
    text = HEADER + _row(school.student.student_number, [2] * 8 + [0, ""])
    text += _row(school.minor.student_number, [0] * 8 + [1, 0])
    report = _import(campaign, text, school.admin)
    assert not report.imported
    assert [e.line for e in report.errors] == [2]
    assert "already has a result" in str(report.errors[0].reason)
    assert _count(ScreeningResult) == 1


def test_the_import_page_offers_a_paper_template_per_instrument_of_the_campaign(
    client, school, make_campaign
):
    import io

    from openpyxl import load_workbook

    campaign = make_campaign(instruments=("phq9",))
    sign_in(client, school.admin)
    page = client.get(f"/screening/campaigns/{campaign.id}/import").get_data(as_text=True)
    assert f"/screening/campaigns/{campaign.id}/import/phq9.xlsx" in page
    download = client.get(f"/screening/campaigns/{campaign.id}/import/phq9.xlsx")
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert [c.value for c in sheet[1]] == ["学号", *map(str, range(1, 11))]
    assert client.get(f"/screening/campaigns/{campaign.id}/import/gad7.csv").status_code == 404


def _results_in_chinese(client, school, make_campaign) -> str:
    """The results page of a student whose PHQ-9 (every item 1, total 9) was imported, as her
    school counsellor reads it in Chinese."""
    campaign = make_campaign()
    _import(campaign, HEADER + _row(school.student.student_number, [1] * 10), school.admin)
    db.session.add(Caseload(counsellor_id=school.counsellor.id, student_id=school.student.id))
    school.counsellor.locale = "zh_CN"
    db.session.commit()
    sign_in(client, school.counsellor)
    return client.get(f"/screening/students/{school.student.id}/results").get_data(as_text=True)


def test_each_answer_on_the_results_page_follows_a_chinese_colon(client, school, make_campaign):
    page = _results_in_chinese(client, school, make_campaign)
    assert "做事时提不起劲或没有兴趣：1" in page


def test_the_results_table_names_each_band_as_the_instrument_does_in_the_readers_language(
    client, school, make_campaign
):
    page = _results_in_chinese(client, school, make_campaign)
    assert "<td>轻度抑郁</td>" in page  # PHQ-9 total 9
    assert "<td>mild</td>" not in page


@pytest.mark.parametrize(
    ("language", "literacy"), [("zh_CN", "心理健康知识小测"), ("en", "MHL Quiz")]
)
def test_the_literacy_check_is_named_in_the_readers_language_where_a_scale_keeps_its_code(
    app, language, literacy
):
    """The results page read "MHL Quiz" to a Chinese counsellor beside PHQ-9 and GAD-7, which
    are codes read the same in both languages."""
    with app.test_request_context():
        session["lang"] = language  # as the page's language switch sets it
        assert instrument_short_name("literacy") == literacy
        assert instrument_short_name("phq9") == "PHQ-9"
