"""The student's workbench is their screening to do (or done) and where to get help; a campaign's
owner sees its coverage, as the campaign page counts it."""

from __future__ import annotations

from sqlalchemy import update

from campus import clock
from campus.extensions import db
from screening.models import CampaignAssignment


def _complete(campaign, student) -> None:
    db.session.execute(
        update(CampaignAssignment)
        .where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
        .values(completed_at=clock.now())
    )
    db.session.commit()


def test_student_sees_the_screening_to_do_then_that_it_is_done_and_where_to_get_help(
    school, make_campaign, login
):
    campaign = make_campaign()
    client = login(school.student.user)

    home = client.get("/").get_data(as_text=True)
    assert "You have 1 screening to complete" in home
    assert 'href="/screening/mine"' in home
    assert "Where to get help" in home
    assert "tel:0731-1234-5678" in home

    _complete(campaign, school.student)
    db.session.commit()

    home = client.get("/").get_data(as_text=True)
    assert "Your screening is completed. Thank you." in home
    assert "screening to complete" not in home


def test_student_with_no_screening_sees_nothing_to_do_and_still_where_to_get_help(school, login):
    home = login(school.senior.user).get("/").get_data(as_text=True)
    assert "Nothing to do today." in home
    assert "Where to get help" in home
    # Every number is a tap on her phone, the emergency ones too.
    assert 'href="tel:120"' in home
    assert 'href="tel:110"' in home
    assert home.index("on-duty phone") < home.index("hotline")  # the centre first, as before
    assert 'class="button primary" href="/appointments/book">Book counselling</a>' in home


def test_campaign_owner_sees_its_coverage_as_the_campaign_page_does(school, make_campaign, login):
    campaign = make_campaign()
    _complete(campaign, school.student)
    client = login(school.admin)

    home = client.get("/").get_data(as_text=True)

    assert "2026 freshman intake: 25.0% of the cohort screened" in home
    assert "1 of 4 students completed (25.0%)." in home
    assert "Where to get help" not in home  # the students' panel
    detail = client.get(f"/screening/campaigns/{campaign.id}").get_data(as_text=True)
    assert "1 of 4 students completed (25.0%)." in detail


def test_a_students_home_page_is_their_home_and_a_counsellors_is_their_workbench(school, login):
    student_home = login(school.student.user).get("/").get_data(as_text=True)
    assert "<h1>Home</h1>" in student_home
    assert "Workbench" not in student_home
    staff_home = login(school.counsellor).get("/").get_data(as_text=True)
    assert "<h1>Workbench</h1>" in staff_home
