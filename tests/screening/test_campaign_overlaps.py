"""A campaign that would give students the same questionnaires twice at the same time is saved
only once the administrator has seen which campaign overlaps, with what, and for how many."""

from __future__ import annotations

import html
import re

from sqlalchemy import func
from sqlalchemy import select

from campus.audit import AuditEvent
from campus.extensions import db
from screening.models import Campaign
from screening.models import CampaignAssignment
from tests.conftest import sign_in

SECOND = {
    "name": "2026 second round",
    "instruments": ["phq9", "asq"],
    "grades": ["2026"],
    "opens_at": "2026-09-20T08:00",
    "closes_at": "2026-10-20T08:00",
}


def _named(name: str) -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.name == name))


def _overlap_box(page: str) -> str:
    start = page.index('id="overlaps"')
    return page[start : page.index("</div>", start)]


def _intake_with_one_student_done(make_campaign, school) -> Campaign:
    intake = make_campaign("2026 freshman intake", ("phq9", "gad7"))
    done = db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == intake.id,
            CampaignAssignment.student_id == school.student.id,
        )
    )
    done.started_at = done.completed_at = intake.opens_at
    db.session.commit()
    return intake


def test_an_overlapping_campaign_shows_what_overlaps_and_is_not_saved(
    client, school, make_campaign
):
    intake = _intake_with_one_student_done(make_campaign, school)
    sign_in(client, school.admin)
    response = client.post("/screening/campaigns/new", data=SECOND)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    overlap = _overlap_box(page)
    assert "2026 freshman intake" in overlap
    assert "Patient Health Questionnaire" in overlap
    assert "GAD" not in overlap  # the instruments shared, not all of the other campaign's
    assert "4 students in both, 1 of them has already completed it" in overlap
    assert f'name="overlaps_seen" type="hidden" value="{intake.id}"' in page
    assert 'id="overlaps_confirmed"' in page
    assert _named("2026 second round") is None
    # Read in Chinese, its punctuation is Chinese too (not "; " and ", " between the parts).
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.post("/screening/campaigns/new", data=SECOND).get_data(as_text=True)
    overlap = " ".join(_overlap_box(page).split())
    assert "；4 名学生同时在两个活动中，其中 1 人已完成该活动" in overlap


def test_ticking_i_know_saves_the_overlapping_campaign_and_the_audit_names_the_overlap(
    client, school, make_campaign
):
    intake = _intake_with_one_student_done(make_campaign, school)
    sign_in(client, school.admin)
    confirmed = SECOND | {"overlaps_seen": str(intake.id), "overlaps_confirmed": "y"}
    response = client.post("/screening/campaigns/new", data=confirmed)
    assert response.status_code == 302
    second = _named("2026 second round")
    assert second is not None
    detail = db.session.scalar(
        select(AuditEvent.detail).where(
            AuditEvent.action == "save_campaign", AuditEvent.record_id == str(second.id)
        )
    )
    assert f"overlaps={intake.id}" in detail


def test_a_campaign_that_began_to_overlap_since_the_page_was_shown_is_asked_about_again(
    client, school, make_campaign
):
    intake = _intake_with_one_student_done(make_campaign, school)
    later = make_campaign("2026 mid-term check", ("asq",))
    sign_in(client, school.admin)
    confirmed = SECOND | {"overlaps_seen": str(intake.id), "overlaps_confirmed": "y"}
    page = client.post("/screening/campaigns/new", data=confirmed).get_data(as_text=True)
    assert "2026 mid-term check" in _overlap_box(page)
    assert f'value="{intake.id},{later.id}"' in page
    assert _named("2026 second round") is None


def test_campaigns_apart_in_time_instruments_or_students_are_saved_at_once(
    client, school, make_campaign
):
    _intake_with_one_student_done(make_campaign, school)
    sign_in(client, school.admin)
    apart = {
        "2027 spring round": {"opens_at": "2027-03-01T08:00", "closes_at": "2027-03-31T08:00"},
        "literacy check": {"instruments": ["literacy"]},
        "sophomores": {"grades": ["2025"]},
    }
    for name, change in apart.items():
        response = client.post("/screening/campaigns/new", data=SECOND | change | {"name": name})
        assert response.status_code == 302, name
    assert db.session.scalar(select(func.count(Campaign.id))) == 4


def test_editing_a_campaign_does_not_count_it_as_overlapping_itself(client, school, make_campaign):
    intake = make_campaign("2026 freshman intake", ("phq9", "gad7"))
    sign_in(client, school.admin)
    url, data = (
        f"/screening/campaigns/{intake.id}/edit",
        SECOND | {"name": "2026 freshman intake (renamed)"},
    )
    asked = client.post(url, data=data)
    # Its close moves while it is open: asked first (screening.views._close_confirm), no overlap.
    assert "Nothing is saved yet." in asked.text
    assert "twice" not in asked.text
    token = re.search(r'name="close_seen" value="([^"]+)"', asked.text)
    assert token is not None
    response = client.post(url, data=data | {"close_seen": html.unescape(token[1])})
    assert response.status_code == 302
    db.session.refresh(intake)
    assert intake.name == "2026 freshman intake (renamed)"
