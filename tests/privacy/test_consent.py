"""Consent a student withdraws, and gives again (issue #19): what stops, what stays, who sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Institution
from campus.models import Role
from campus.models import Student
from campus.models import User
from privacy import consent
from privacy.models import ConsentScope
from privacy.models import ConsentWithdrawal
from screening import campaigns
from screening.models import Campaign
from screening.models import CampaignAssignment
from tests.conftest import sign_in
from tests.factories import new_referral
from tests.factories import open_warning
from tests.pages import without_tokens
from warning.models import EarlyWarning
from warning.models import WarningStatus
from warning.policy import Level


@dataclass
class World:
    institution: Institution
    freshmen: ClassGroup
    student: Student
    classmate: Student
    admin: User
    director: User
    dept_counsellor: User


@pytest.fixture
def world(campus) -> World:
    inst = campus.institution("XJU")
    computing = campus.department(inst, "Computing")
    freshmen = campus.class_group(computing, "CS2601", grade=2026)
    w = World(
        institution=inst,
        freshmen=freshmen,
        student=campus.student(freshmen, name="Withdrawing Student", birth_date=date(2007, 3, 1)),
        classmate=campus.student(freshmen, name="Classmate"),
        admin=campus.staff(inst, Role.ADMIN, login="admin"),
        director=campus.staff(inst, Role.DIRECTOR, login="director"),
        dept_counsellor=campus.staff(inst, Role.DEPT_COUNSELLOR, department=computing),
    )
    campus.commit()
    return w


def _campaign(world: World, name: str = "2026 freshman intake") -> Campaign:
    spec = campaigns.CampaignSpec(
        name=name,
        instruments=["phq9"],
        opens_at=clock.now() - timedelta(days=1),
        closes_at=clock.now() + timedelta(days=14),
        grades=[2026],
    )
    return campaigns.save_campaign(db.session, world.institution, world.admin, spec)


def _assigned(campaign: Campaign) -> set[int]:
    return set(
        db.session.scalars(
            select(CampaignAssignment.student_id).where(
                CampaignAssignment.campaign_id == campaign.id
            )
        )
    )


def _digest(page: str) -> str:
    found = re.search(r'name="digest" type="hidden" value="([0-9a-f]+)"', page)
    assert found, page[:2000]
    return found.group(1)


def _withdraw(client, scope: str = "screening", **data: str):
    page = client.get(f"/privacy/my-data/withdraw/{scope}").get_data(as_text=True)
    return client.post(f"/privacy/my-data/withdraw/{scope}", data={"digest": _digest(page), **data})


def _withdrawals(student: Student) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ConsentWithdrawal)
        .where(ConsentWithdrawal.student_id == student.id)
    )


def test_a_withdrawn_student_is_not_assigned_by_a_new_campaign(world, login):
    client = login(world.student.user)
    response = _withdraw(client, confirm="y")
    assert response.status_code == 302

    campaign = _campaign(world, "2026 spring round")

    assert world.classmate.id in _assigned(campaign)
    assert world.student.id not in _assigned(campaign)


def test_withdrawal_cancels_an_untouched_assignment_and_stops_a_started_one(world, login):
    untouched = _campaign(world, "untouched round")
    started = _campaign(world, "started round")
    client = login(world.student.user)
    started_assignment = db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == started.id,
            CampaignAssignment.student_id == world.student.id,
        )
    )
    client.post(
        f"/screening/a/{started_assignment.id}/consent",
        data={"informed": "y", "sensitive_data": "y"},
    )

    page = client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True)
    # Named before the student confirms.
    assert "untouched round" in page
    assert "started round" in page
    _withdraw(client, confirm="y")

    assert world.student.id not in _assigned(untouched)
    assert world.student.id in _assigned(started)  # its consent record stays
    stopped = client.get(f"/screening/a/{started_assignment.id}")
    assert stopped.status_code == 409
    assert "withdrawn your consent to screening" in stopped.get_data(as_text=True)
    row = db.session.scalar(select(ConsentWithdrawal))
    assert "untouched round (cancelled)" in row.stopped
    assert "started round (stopped)" in row.stopped


def test_the_page_says_a_safety_follow_up_goes_on_and_the_warning_stays_with_its_owner(
    world, login
):
    warning = open_warning(world.student, Level.RED)
    owner, level = warning.owner_tier, warning.level
    client = login(world.student.user)

    page = client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True)
    assert "Withdrawing never stops a safety follow-up" in page
    _withdraw(client, confirm="y")

    db.session.expire_all()
    kept = db.session.get(EarlyWarning, warning.id)
    assert (kept.status, kept.owner_tier, kept.level) == (WarningStatus.OPEN, owner, level)


def test_the_page_reads_the_same_with_or_without_a_red_warning(world, login):
    """A sentence shown only to students on a red would tell her she is on one: the student
    never learns her internal level."""
    client = login(world.student.user)
    calm = without_tokens(client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True))
    open_warning(world.student, Level.RED)
    red = without_tokens(client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True))

    assert "Withdrawing never stops a safety follow-up" in red
    assert red == calm
    assert " red" not in red.lower()


def test_an_open_referral_is_named_as_kept(world, login, campus):
    warning = open_warning(world.student, Level.RED)
    hospital = campus.hospital(world.institution)
    new_referral(warning, world.director, hospital)
    client = login(world.student.user)
    page = client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True)
    assert "hospital referral that has not ended" in page


def test_withdrawing_needs_the_tick_and_writes_nothing_without_it(world, login):
    client = login(world.student.user)
    response = _withdraw(client)
    assert response.status_code == 422
    assert "Tick the box" in response.get_data(as_text=True)
    assert _withdrawals(world.student) == 0


def test_a_double_submit_stores_one_withdrawal(world, login):
    client = login(world.student.user)
    page = client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True)
    data = {"digest": _digest(page), "confirm": "y"}
    first = client.post("/privacy/my-data/withdraw/screening", data=data)
    second = client.post("/privacy/my-data/withdraw/screening", data=data)
    assert first.status_code == second.status_code == 302
    assert _withdrawals(world.student) == 1
    assert "already withdrawn" in client.get("/privacy/my-data").get_data(as_text=True)


def test_the_service_refuses_a_second_live_withdrawal(world):
    args = {"explanation": "x", "locale": "en", "ip": None, "now": clock.now()}
    consent.withdraw(db.session, world.student.user, world.student, ConsentScope.SCREENING, **args)
    with pytest.raises(consent.WithdrawalError):
        consent.withdraw(
            db.session, world.student.user, world.student, ConsentScope.SCREENING, **args
        )
    assert _withdrawals(world.student) == 1


def test_a_page_that_changed_before_confirming_is_shown_again_and_nothing_is_written(world, login):
    client = login(world.student.user)
    page = client.get("/privacy/my-data/withdraw/screening").get_data(as_text=True)
    _campaign(world, "a round opened meanwhile")  # the explanation now names it
    response = client.post(
        "/privacy/my-data/withdraw/screening", data={"digest": _digest(page), "confirm": "y"}
    )
    assert response.status_code == 409
    assert "a round opened meanwhile" in response.get_data(as_text=True)
    assert _withdrawals(world.student) == 0


def test_the_explanation_is_stored_as_shown_and_the_withdrawal_audited(world, login):
    client = login(world.student.user)
    response = _withdraw(client, confirm="y")
    row = db.session.scalar(select(ConsentWithdrawal))
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "You will get no new mental health screenings." in row.explanation
    assert "Withdrawing never stops a safety follow-up" in row.explanation
    assert "You will get no new mental health screenings." in confirmation
    audit_row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "withdraw_consent"))
    assert audit_row.student_id == world.student.id
    assert audit_row.actor_id == world.student.user.id


def test_staff_see_consent_withdrawn_instead_of_the_results(world, login, client):
    _withdraw(login(world.student.user), confirm="y")
    client.get("/logout")
    sign_in(client, world.director)

    results = client.get(f"/screening/students/{world.student.id}/results")
    file_page = client.get(f"/casework/students/{world.student.id}")

    for page in (results.get_data(as_text=True), file_page.get_data(as_text=True)):
        assert "Consent withdrawn" in page
        assert "Answers to every item" not in page


def test_the_department_counsellor_sees_the_withdrawal_on_the_file(world, login, client):
    _withdraw(login(world.student.user), scope="sensitive_processing", confirm="y")
    client.get("/logout")
    sign_in(client, world.dept_counsellor)
    page = client.get(f"/casework/students/{world.student.id}").get_data(as_text=True)
    assert "Consent withdrawn" in page
    assert "Processing of sensitive personal information" in page


def test_sensitive_processing_withdrawal_also_stops_screening_and_row_exports(world, login):
    _withdraw(login(world.student.user), scope="sensitive_processing", confirm="y")
    campaign = _campaign(world)
    assert world.student.id not in _assigned(campaign)
    assert consent.excluded_from_row_exports(
        db.session, [world.student.id, world.classmate.id]
    ) == {world.student.id}


def test_reminders_skip_a_student_who_withdrew(world):
    campaign = _campaign(world)
    db.session.add(
        ConsentWithdrawal(
            student_id=world.classmate.id,
            institution_id=world.institution.id,
            scope=ConsentScope.SCREENING,
            withdrawn_by_id=world.classmate.user_id,
            explanation="x",
            locale="en",
        )
    )
    db.session.commit()
    sent = campaigns.send_reminders(db.session, campaign, clock.now())
    assert sent == 1  # the student who took no decision, not the classmate


def test_giving_consent_again_puts_the_student_back_into_the_open_campaign(world, login):
    client = login(world.student.user)
    _withdraw(client, confirm="y")
    campaign = _campaign(world)
    assert world.student.id not in _assigned(campaign)

    refused = client.post("/privacy/my-data/consent/screening", data={})
    assert refused.status_code == 422
    client.post("/privacy/my-data/consent/screening", data={"agree": "y"})

    assert world.student.id in _assigned(campaign)
    row = db.session.scalar(select(ConsentWithdrawal))
    assert row.reinstated_at == clock.now()
    assert "Who sees what" not in (row.reinstatement_text or "")
    assert "mental health screenings again" in row.reinstatement_text
    # A later withdrawal is a new row; the history keeps both.
    _withdraw(client, confirm="y")
    assert _withdrawals(world.student) == 2


def test_a_forged_scope_or_another_students_withdrawal_is_not_found(world, login):
    _withdraw(login(world.student.user), confirm="y")
    row = db.session.scalar(select(ConsentWithdrawal))
    other = login(world.classmate.user)
    assert other.get("/privacy/my-data/withdraw/everything").status_code == 404
    assert other.get(f"/privacy/my-data/withdrawn/{row.id}").status_code == 404


def test_staff_cannot_use_the_student_pages(world, login):
    client = login(world.director)
    assert client.get("/privacy/my-data").status_code == 403


def test_rows_of_a_student_who_withdrew_sensitive_processing_leave_no_export(world, login):
    import pandas as pd

    _withdraw(login(world.student.user), scope="sensitive_processing", confirm="y")
    frame = pd.DataFrame({"student_id": [world.student.id, world.classmate.id], "name": ["a", "b"]})
    kept = consent.without_withdrawn_rows(db.session, frame)
    assert list(kept["student_id"]) == [world.classmate.id]


def test_the_timeline_shows_consent_withdrawn_where_a_screening_score_was(world, login, client):
    from tests.factories import phq9_signal

    phq9_signal(world.student, 22)
    db.session.commit()
    sign_in(client, world.director)
    before = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    assert "= 22" in before
    client.get("/logout")

    _withdraw(login(world.student.user), confirm="y")
    client.get("/logout")
    sign_in(client, world.director)
    after = client.get(f"/warnings/students/{world.student.id}").get_data(as_text=True)
    assert "= 22" not in after
    assert "consent withdrawn" in after
