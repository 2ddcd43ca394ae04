"""A department counsellor (and leader) sees, on her home page, how far her department's students
have got with each open campaign, and the list of those who have not completed it yet: her
department's only, completion only, and every read of the list audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import EnrolmentStatus
from campus.models import Role
from privacy.models import ConsentScope
from privacy.models import ConsentWithdrawal
from screening import campaigns
from screening import intake
from screening.models import CampaignAssignment
from screening.models import ScreeningResult

SCORE_CANARY = 4321.0
BAND_CANARY = "CANARY-BAND-7f3e"


@pytest.fixture
def department_counsellor(campus, school):
    user = campus.staff(school.institution, Role.DEPT_COUNSELLOR, department=school.computing)
    campus.commit()
    return user


def _stamp(campaign, student, **values) -> None:
    db.session.execute(
        update(CampaignAssignment)
        .where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == student.id,
        )
        .values(**values)
    )
    db.session.commit()


def _list_url(campaign, department) -> str:
    return f"/screening/campaigns/{campaign.id}/departments/{department.id}"


def _rows_of(page: str) -> list[str]:
    """The list's table rows, as text, in page order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [row for row in body.split("<tr>")[1:]]


def test_counsellor_sees_her_departments_counts_and_exactly_who_has_not_completed(
    school, make_campaign, department_counsellor, login
):
    # Freshmen and seniors: Computing has three freshmen and a senior, Mathematics one freshman.
    campaign = make_campaign(grades=(2025, 2026))
    _stamp(campaign, school.student, started_at=clock.now(), completed_at=clock.now())
    _stamp(campaign, school.minor, started_at=clock.now() - timedelta(days=1))
    client = login(department_counsellor)

    home = client.get("/").get_data(as_text=True)
    assert "2026 freshman intake, Computing: 1 of 4 screened" in home
    assert "1 completed, 1 started but not finished, 2 not started." in home
    assert f'href="{_list_url(campaign, school.computing)}"' in home
    assert "Mathematics" not in home

    response = client.get(_list_url(campaign, school.computing))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = _rows_of(page)
    # By class (CS2501 before CS2601), then by name.
    assert [r.split("</td>")[1].removeprefix("\n      <td>") for r in rows] == [
        "Senior",
        "Classmate",
        "Minor Freshman",
    ]
    assert "Started, not finished" in rows[2]
    assert "Not started" in rows[1]
    assert school.minor.student_number in rows[2]
    assert "Adult Freshman" not in page  # completed
    assert "Mathematician" not in page  # another department's
    assert '<a href="/">← Workbench</a>' in page  # the way back (there was none on a phone)

    # One class at a time (156 cards on a phone): the filter offers the classes still owing.
    assert "All classes (3)" in page
    assert f'<option value="{school.freshmen.id}">CS2601 (2)</option>' in page
    one_class = client.get(_list_url(campaign, school.computing) + f"?class={school.freshmen.id}")
    rows = _rows_of(one_class.get_data(as_text=True))
    assert [r.split("</td>")[1].removeprefix("\n      <td>") for r in rows] == [
        "Classmate",
        "Minor Freshman",
    ]
    read = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "screening_progress_read",
            AuditEvent.detail.contains(f"class={school.freshmen.id}"),
        )
    ).all()
    assert {r.student_id for r in read} == {school.classmate.id, school.minor.id}
    another = _list_url(campaign, school.computing) + f"?class={school.maths_freshmen.id}"
    assert client.get(another).status_code == 404


def test_a_student_who_completes_leaves_the_list_and_the_counts_follow(
    school, make_campaign, department_counsellor, login
):
    campaign = make_campaign()
    client = login(department_counsellor)
    assert "Classmate" in client.get(_list_url(campaign, school.computing)).get_data(as_text=True)

    _stamp(campaign, school.classmate, started_at=clock.now(), completed_at=clock.now())

    page = client.get(_list_url(campaign, school.computing)).get_data(as_text=True)
    assert "Classmate" not in page
    assert "Adult Freshman" in page
    assert "Minor Freshman" in page
    home = client.get("/").get_data(as_text=True)
    assert "2026 freshman intake, Computing: 1 of 3 screened" in home


def test_students_on_leave_or_withdrawn_from_screening_are_not_chased(
    school, make_campaign, department_counsellor, login
):
    campaign = make_campaign()
    school.minor.enrolment_status = EnrolmentStatus.ON_LEAVE
    # She had begun, so her assignment stays (consent withdrawal keeps a started one).
    _stamp(campaign, school.classmate, started_at=clock.now())
    db.session.add(
        ConsentWithdrawal(
            student_id=school.classmate.id,
            institution_id=school.institution.id,
            scope=ConsentScope.SCREENING,
            withdrawn_by_id=school.classmate.user_id,
            explanation="x",
            locale="en",
        )
    )
    db.session.commit()
    client = login(department_counsellor)

    page = client.get(_list_url(campaign, school.computing)).get_data(as_text=True)
    assert "Adult Freshman" in page
    assert "Minor Freshman" not in page
    assert "Classmate" not in page
    assert "Computing: 0 of 1 screened" in client.get("/").get_data(as_text=True)


def test_another_departments_list_and_a_forged_campaign_are_404_and_audited(
    school, make_campaign, department_counsellor, login
):
    campaign = make_campaign()
    maths_only = make_campaign("Mathematics follow-up", departments=(school.maths,))
    client = login(department_counsellor)

    assert client.get(_list_url(campaign, school.maths)).status_code == 404
    assert client.get(_list_url(maths_only, school.computing)).status_code == 404
    assert (
        client.get(f"/screening/campaigns/999999/departments/{school.computing.id}").status_code
        == 404
    )
    assert client.get(f"/screening/campaigns/{campaign.id}/departments/999999").status_code == 404
    assert "Mathematics follow-up" not in client.get("/").get_data(as_text=True)
    denied = db.session.scalars(
        select(AuditEvent.record_id).where(
            AuditEvent.action == "screening_progress_read", AuditEvent.outcome == "denied"
        )
    ).all()
    assert sorted(denied) == sorted(
        str(c) for c in (campaign.id, maths_only.id, 999999, campaign.id)
    )


def test_a_campaign_of_another_institution_is_404_for_its_id_alone(
    campus, school, make_campaign, department_counsellor, login
):
    other = campus.institution("HNU")
    dept = campus.department(other, "Computing")
    campus.class_group(dept, "HN2601", grade=2026)
    campus.student(dept.classes[0], name="Other School Student")
    other_admin = campus.staff(other, Role.ADMIN)
    campus.commit()
    theirs = campaigns.save_campaign(
        db.session,
        other,
        other_admin,
        campaigns.CampaignSpec(
            name="HNU intake",
            instruments=["phq9"],
            opens_at=clock.now() - timedelta(days=1),
            closes_at=clock.now() + timedelta(days=10),
        ),
    )
    client = login(department_counsellor)

    assert client.get(_list_url(theirs, school.computing)).status_code == 404
    assert client.get(_list_url(theirs, dept)).status_code == 404


def test_the_list_read_is_audited_one_row_a_student_shown(
    school, make_campaign, department_counsellor, login
):
    campaign = make_campaign()
    _stamp(campaign, school.student, started_at=clock.now(), completed_at=clock.now())
    client = login(department_counsellor)

    assert client.get(_list_url(campaign, school.computing)).status_code == 200

    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "screening_progress_read")
    ).all()
    assert {r.student_id for r in rows} == {school.minor.id, school.classmate.id}
    assert {r.actor_id for r in rows} == {department_counsellor.id}
    assert all(r.outcome == "ok" and r.record_type == "campaign" for r in rows)
    assert f"campaign={campaign.id} department={school.computing.id}" in rows[0].detail


def test_a_part_submitted_shows_as_started_and_never_its_score(
    school, make_campaign, department_counsellor, login
):
    campaign = make_campaign(instruments=("phq9", "gad7"))
    assignment = db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == campaign.id,
            CampaignAssignment.student_id == school.student.id,
        )
    )
    intake.give_consent(
        db.session,
        assignment,
        intake.ConsentAnswers(informed=True, sensitive_data=True),
        text="consent",
        locale="en",
        ip=None,
        now=clock.now(),
    )
    clock.advance(timedelta(days=2))
    result = intake.submit(
        db.session,
        assignment,
        intake.instrument("phq9"),
        dict.fromkeys(range(1, 9), 2) | {9: 0},
        token="t1",
        locale="en",
        now=clock.now(),
    )
    db.session.execute(
        update(ScreeningResult)
        .where(ScreeningResult.id == result.id)
        .values(total=SCORE_CANARY, band=BAND_CANARY)
    )
    db.session.commit()
    client = login(department_counsellor)

    page = client.get(_list_url(campaign, school.computing)).get_data(as_text=True)

    row = next(r for r in _rows_of(page) if "Adult Freshman" in r)
    assert "Started, not finished" in row
    # The last activity is the part submitted on Wednesday, not the consent of Monday.
    assert ">Wed 16 Sep</time>" in row
    assert "Mon 14 Sep" not in row
    assert "4321" not in page
    assert BAND_CANARY not in page
    assert "Moderately severe" not in page
    assert "moderately severe" not in page.lower()
    # Its completion is counted as not finished yet on the home page too.
    home = client.get("/").get_data(as_text=True)
    assert "0 completed, 1 started but not finished, 2 not started." in home


def test_the_department_leader_sees_the_count_on_the_departments_card_and_the_list(
    campus, school, make_campaign, login
):
    leader = campus.staff(school.institution, Role.DEPT_LEADER, department=school.computing)
    campus.commit()
    campaign = make_campaign()
    client = login(leader)

    home = client.get("/").get_data(as_text=True)
    card = home.split('<section class="card overview"', 1)[1].split("</section>", 1)[0]
    assert "Computing at a glance" in card
    assert f'<a href="{_list_url(campaign, school.computing)}"><strong>3</strong>' in card
    assert "2026 freshman intake: not completed yet" in card
    assert "0 of 3 completed (0.0%)." in card
    # Once on the card, not again as a line of the workbench (the counsellor's).
    assert "0 of 3 screened" not in home
    page = client.get(_list_url(campaign, school.computing)).get_data(as_text=True)
    assert "Classmate" in page
    assert "Mathematician" not in page


def test_a_closed_campaign_leaves_the_home_page_and_its_list_says_it_closed(
    school, make_campaign, department_counsellor, login
):
    campaign = make_campaign()
    clock.advance(timedelta(days=15))
    client = login(department_counsellor)

    assert "2026 freshman intake" not in client.get("/").get_data(as_text=True)
    page = client.get(_list_url(campaign, school.computing)).get_data(as_text=True)
    assert "The campaign has closed: the students below did not complete it." in page
    assert "Classmate" in page


def test_school_staff_and_students_do_not_open_a_departments_list(school, make_campaign, login):
    campaign = make_campaign()
    assert login(school.counsellor).get(_list_url(campaign, school.computing)).status_code == 403
