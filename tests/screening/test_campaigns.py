"""Campaigns: validation, who is targeted, live status counts, reminders, admin pages."""

from __future__ import annotations

import html
import io
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Student
from campus.notifications import Notification
from screening import campaigns
from screening.models import CampaignAssignment
from tests.conftest import sign_in


def _assigned(campaign) -> set[int]:
    return set(
        db.session.scalars(
            select(CampaignAssignment.student_id).where(
                CampaignAssignment.campaign_id == campaign.id
            )
        )
    )


@pytest.mark.parametrize(
    ("instruments", "opens", "closes", "problem"),
    [
        ((), 0, 5, "Choose at least one instrument."),
        (("phq99",), 0, 5, "Unknown instrument phq99."),
        (("phq9", "phq9"), 0, 5, "Each instrument can appear only once."),
        (("phq9",), 5, 5, "The window must close after it opens."),
        (("upi",), 0, 5, "The questions of UPI are licensed and their text is not loaded"),
    ],
)
def test_campaign_with_a_bad_definition_is_refused_and_nothing_saved(
    school, make_campaign, instruments, opens, closes, problem
):
    now = clock.now()
    with pytest.raises(campaigns.CampaignError) as refused:
        make_campaign(
            instruments=instruments,
            opens=now + timedelta(days=opens),
            closes=now + timedelta(days=closes),
        )
    assert any(p.startswith(problem) for p in refused.value.problems)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CampaignAssignment)) == 0


def test_a_new_campaign_whose_window_has_closed_is_refused(school):
    """Before: saved, its students saw it only as ended, and a campaign cannot be deleted."""
    now = clock.now()
    spec = campaigns.CampaignSpec(
        name="last term",
        instruments=["phq9"],
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(days=20),
        grades=[2026],
    )
    with pytest.raises(campaigns.CampaignError) as refused:
        campaigns.save_campaign(db.session, school.institution, school.admin, spec)
    assert "The window has already closed: choose a closing time to come." in (
        refused.value.problems
    )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CampaignAssignment)) == 0


def test_students_who_join_the_cohort_later_are_assigned_while_the_campaign_is_open(
    school, make_campaign, campus
):
    """A roster imported in the first week came after the intake campaign was saved: its
    students were never asked to screen."""
    running = make_campaign("intake")
    ended = make_campaign("earlier", closes=clock.now() + timedelta(hours=1))
    clock.set_now(clock.now() + timedelta(hours=2))
    late = campus.student(school.freshmen, name="Late Freshman")
    campus.student(school.seniors, name="Late Senior")
    campus.commit()
    assert campaigns.late_students_sweep(db.session, clock.now()) == 1
    assert late.id in _assigned(running)
    assert late.id not in _assigned(ended)
    assert campaigns.late_students_sweep(db.session, clock.now()) == 0


def test_freshmen_imported_during_a_campaign_join_it_at_once_and_the_import_page_says_so(
    school, make_campaign, login
):
    """Before: they joined only at the scheduler's next sweep, and until then the campaign's
    coverage left them out without a word to the administrator."""
    intake = make_campaign("intake")
    later = make_campaign(
        "second round",
        opens=clock.now() + timedelta(days=30),
        closes=clock.now() + timedelta(days=40),
    )
    client = login(school.admin)
    roster_file = (
        "student_number,name,gender,birth_date,department,class\n"
        "2026901,New One,男,2008-01-01,Computing,CS2601\n"
        "2026902,New Two,女,2008-02-02,Mathematics,MA2601\n"
        "2025901,Transfer,女,2007-02-02,Computing,CS2501\n"
    )
    response = client.post(
        "/admin/roster",
        data={"file": (io.BytesIO(roster_file.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200, page
    new = set(db.session.scalars(select(Student.id).where(Student.student_number.like("20269%"))))
    assert new <= _assigned(intake)
    assert new <= _assigned(later)
    assert "2 students joined the screening under way “intake”." in page
    assert "2 students joined the upcoming screening “second round”." in page
    assert campaigns.late_students_sweep(db.session, clock.now()) == 0


def test_campaign_targets_the_enrolled_students_of_its_grade_and_departments(school, make_campaign):
    all_freshmen = make_campaign("all freshmen", grades=(2026,))
    computing_freshmen = make_campaign(
        "computing freshmen", grades=(2026,), departments=(school.computing,)
    )
    assert _assigned(all_freshmen) == {
        school.student.id,
        school.minor.id,
        school.classmate.id,
        school.mathematician.id,
    }
    assert _assigned(computing_freshmen) == {
        school.student.id,
        school.minor.id,
        school.classmate.id,
    }


def test_statuses_move_from_due_to_started_to_completed_and_coverage_counts_them(
    school, make_campaign
):
    campaign = make_campaign()
    assignments = {
        a.student_id: a
        for a in db.session.scalars(
            select(CampaignAssignment).where(CampaignAssignment.campaign_id == campaign.id)
        )
    }
    assignments[school.student.id].started_at = clock.now()
    assignments[school.minor.id].started_at = clock.now()
    assignments[school.minor.id].completed_at = clock.now()
    db.session.commit()
    cover = campaigns.coverage(db.session, campaign, school.admin, clock.now())
    assert (cover.due, cover.started, cover.completed, cover.expired) == (2, 1, 1, 0)
    by_department = {
        name: cover
        for _, name, cover in campaigns.coverage_by_department(
            db.session, campaign, school.admin, clock.now()
        )
    }
    assert by_department["Computing"].completed == 1
    assert by_department["Mathematics"].due == 1

    after_window = campaign.closes_at + timedelta(minutes=1)
    late = campaigns.coverage(db.session, campaign, school.admin, after_window)
    assert (late.due, late.started, late.completed, late.expired) == (0, 0, 1, 3)


def test_reminders_go_to_students_who_still_owe_and_never_twice_the_same_day(school, make_campaign):
    campaign = make_campaign(reminder_every_days=2)
    assert campaigns.send_reminders(db.session, campaign, clock.now()) == 4
    db.session.commit()
    assert campaigns.send_reminders(db.session, campaign, clock.now() + timedelta(hours=3)) == 0
    assert campaigns.send_reminders(db.session, campaign, clock.now() + timedelta(days=1)) == 0
    assert campaigns.send_reminders(db.session, campaign, clock.now() + timedelta(days=2)) == 4
    db.session.commit()
    texts = db.session.scalars(
        select(Notification.text).where(Notification.user_id == school.student.user_id)
    ).all()
    assert len(texts) == 2
    assert texts[0].startswith("Please complete your mental health screening")


def test_admin_creates_a_campaign_in_the_browser_and_sees_its_coverage(client, school):
    sign_in(client, school.admin)
    response = client.post(
        "/screening/campaigns/new",
        data={
            "name": "2026 freshman intake",
            "instruments": ["literacy", "phq9", "gad7", "asq"],
            "grades": ["2026"],
            "opens_at": "2026-09-13T08:00",
            "closes_at": "2026-10-13T08:00",
            "reminder_every_days": "3",
        },
    )
    assert response.status_code == 302, response.data[:2000]
    detail = client.get(response.headers["Location"])
    assert b"0 of 4 students completed" in detail.data
    listing = client.get("/screening/campaigns")
    assert b"2026 freshman intake" in listing.data


def test_the_administrator_drills_from_a_department_row_to_its_classes_counts_only_audited(
    client, school, campus, make_campaign
):
    campaign = make_campaign()
    other = campus.department(campus.institution("OTHER"), "Elsewhere")
    assignment = db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == school.minor.id,
        )
    )
    assignment.started_at = assignment.completed_at = clock.now()
    campus.commit()
    sign_in(client, school.admin)
    page = client.get(f"/screening/campaigns/{campaign.id}").get_data(as_text=True)
    link = f"/screening/campaigns/{campaign.id}/coverage/{school.computing.id}"
    assert f'href="{link}"' in page
    drill = client.get(link)
    text = drill.get_data(as_text=True)
    assert drill.status_code == 200
    assert "CS2601" in text
    assert "1 of 3 students completed" in text
    assert "MA2601" not in text
    assert "Minor Freshman" not in text
    assert "Classmate" not in text
    read = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "campaign_coverage_drill_down")
    )
    assert (read.actor_id, read.record_id, read.student_id) == (
        school.admin.id,
        str(campaign.id),
        None,
    )
    assert read.detail.startswith(f"department={school.computing.id}")
    assert client.get(f"/screening/campaigns/{campaign.id}/coverage/{other.id}").status_code == 404


def test_campaign_form_names_unknown_instruments_and_a_reversed_window(client, school):
    sign_in(client, school.admin)
    response = client.post(
        "/screening/campaigns/new",
        data={
            "name": "bad",
            "instruments": ["phq9", "nosuch"],
            "opens_at": "2026-09-20T08:00",
            "closes_at": "2026-09-13T08:00",
        },
    )
    assert response.status_code == 422
    assert b"The window must close after it opens." in response.data


def test_campaign_pages_are_closed_to_students_and_department_counsellors(
    client, school, campus, make_campaign
):
    campaign = make_campaign()
    from campus.models import Role

    dept = campus.staff(school.institution, Role.DEPT_COUNSELLOR, department=school.computing)
    campus.commit()
    sign_in(client, school.student.user)
    assert client.get(f"/screening/campaigns/{campaign.id}").status_code == 403
    client.post("/logout")
    sign_in(client, dept)
    assert client.get("/screening/campaigns").status_code == 403


def test_window_in_local_time_is_stored_in_utc(client, school):
    sign_in(client, school.admin)
    client.post(
        "/screening/campaigns/new",
        data={
            "name": "utc",
            "instruments": ["phq9"],
            "opens_at": "2026-09-14T08:00",
            "closes_at": "2026-09-20T08:00",
        },
    )
    from screening.models import Campaign

    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "utc"))
    assert campaign.opens_at == datetime(2026, 9, 14, 0, 0)


def test_reminders_count_days_on_the_local_calendar(school, make_campaign):
    """Daily reminders: one at 07:00 in Shanghai (23:00 UTC the day before) and the next at
    09:00 the same local day is the same day, however UTC counts it."""
    campaign = make_campaign(reminder_every_days=1)
    seven_local = datetime(2026, 9, 14, 23, 0)  # 07:00 on 15 September in Shanghai
    assert campaigns.send_reminders(db.session, campaign, seven_local) == 4
    db.session.commit()
    assert campaigns.send_reminders(db.session, campaign, seven_local + timedelta(hours=2)) == 0
    assert campaigns.send_reminders(db.session, campaign, seven_local + timedelta(hours=18)) == 4
