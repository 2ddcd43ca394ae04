"""The campaign form as an administrator meets it: a campaign name (not a person's 姓名),
instruments ticked by their names, and the cohort as tick-boxes instead of Ctrl-click lists."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from screening.models import Campaign
from tests.conftest import sign_in

WINDOW = {"opens_at": "2026-09-13T08:00", "closes_at": "2026-10-13T08:00"}


def test_the_form_asks_for_a_campaign_name_and_ticks_instruments_by_name(client, school):
    sign_in(client, school.admin)
    client.post("/language/zh_CN", data={"next": "/"})
    page = client.get("/screening/campaigns/new").get_data(as_text=True)
    assert "活动名称" in page
    assert "患者健康问卷抑郁量表（PHQ-9）" in page
    assert 'type="checkbox" value="phq9"' in page or 'value="phq9" type="checkbox"' in page
    assert "<select multiple" not in page
    assert "Codes separated by commas" not in page
    assert "大学生人格问卷（UPI）（尚未载入授权题目）" in page


def test_a_campaign_is_created_from_ticked_instruments_and_a_ticked_cohort(client, school):
    sign_in(client, school.admin)
    response = client.post(
        "/screening/campaigns/new",
        data={
            "name": "2026 freshman intake",
            "instruments": ["phq9", "gad7"],
            "grades": ["2026"],
            "department_ids": [str(school.computing.id)],
            **WINDOW,
        },
    )
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "2026 freshman intake"))
    assert campaign.instruments == ["phq9", "gad7"]
    assert campaign.department_ids == [school.computing.id]
    edit = client.get(f"/screening/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert edit.index('value="phq9"') < edit.index('value="gad7"') < edit.index('value="asq"')


def test_a_campaign_without_a_ticked_instrument_is_refused_and_not_saved(client, school):
    sign_in(client, school.admin)
    response = client.post(
        "/screening/campaigns/new", data={"name": "nothing to take", "grades": ["2026"], **WINDOW}
    )
    assert response.status_code == 422
    assert "Tick at least one instrument." in response.get_data(as_text=True)
    assert db.session.scalar(select(Campaign).where(Campaign.name == "nothing to take")) is None


def test_an_administrator_lets_students_download_their_report_and_the_edit_form_keeps_it(
    client, school
):
    sign_in(client, school.admin)
    data = {"name": "Spring", "instruments": ["phq9"], "grades": ["2026"], **WINDOW}
    client.post("/screening/campaigns/new", data=data | {"students_see_report": "y"})
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "Spring"))
    assert campaign.students_see_report is True
    edit = client.get(f"/screening/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'checked id="students_see_report"' in edit
    client.post(f"/screening/campaigns/{campaign.id}/edit", data=data)
    db.session.refresh(campaign)
    assert campaign.students_see_report is False


def test_a_campaign_whose_cohort_holds_nobody_is_saved_with_a_warning(client, school, campus):
    """Before: it said only "Campaign saved." and the administrator thought it was launched."""
    empty = campus.class_group(school.computing, "CS-2026-9")  # no student in it yet
    campus.commit()
    sign_in(client, school.admin)
    data = {"name": "Nobody", "instruments": ["phq9"], "class_ids": [str(empty.id)], **WINDOW}
    page = client.post("/screening/campaigns/new", data=data, follow_redirects=True)
    assert "No student is in this campaign" in page.get_data(as_text=True)
    filled = {"name": "Everyone", "instruments": ["phq9"], "grades": ["2026"], **WINDOW}
    page = client.post("/screening/campaigns/new", data=filled, follow_redirects=True)
    assert "No student is in this campaign" not in page.get_data(as_text=True)


def test_a_licensed_instrument_without_its_text_is_refused_in_the_readers_language(client, school):
    """Before: the refusal was English on a Chinese page and named a developer's command."""
    sign_in(client, school.admin)
    client.post("/language/zh_CN", data={"next": "/"})
    data = {"name": "UPI", "instruments": ["upi"], "grades": ["2026"], **WINDOW}
    page = client.post("/screening/campaigns/new", data=data).get_data(as_text=True)
    assert "load-licensed-text" not in page
    assert "UPI 的题目受版权保护" in page
