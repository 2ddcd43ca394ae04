"""SAFETY: a return approved while a referral of the student still records her as an inpatient
(assessed for inpatient care or in treatment, no discharge) is refused unless the counsellor
confirms it explicitly with a reason; the page names the referral and its state first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import EnrolmentStatus
from referrals import leave as rules
from referrals.models import AssessmentOutcome
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveReason
from referrals.models import LeaveStatus
from referrals.models import ReferralStatus
from referrals.models import ReturnAssessment
from tests import factories
from tests.referrals.conftest import referral_in


def _ready_to_return(world) -> LeaveOfAbsence:
    data = rules.NewLeave(date(2026, 9, 1), date(2027, 1, 31), LeaveReason.MENTAL_HEALTH)
    leave = rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())
    rules.record_statement(
        db.session,
        world.counsellor,
        leave,
        date(2026, 9, 10),
        "Brain Hospital",
        "Stable on treatment",
        clock.now().date(),
    )
    rules.record_assessment(
        db.session, world.counsellor, leave, ReturnAssessment.FIT_TO_RETURN, "Stable", clock.now()
    )
    return leave


def test_approving_a_return_while_in_hospital_names_the_referral_and_needs_a_reason(world, login):
    referral = referral_in(world, ReferralStatus.IN_TREATMENT, AssessmentOutcome.INPATIENT)
    leave = _ready_to_return(world)
    client = login(world.counsellor)
    url = f"/referrals/leave/{leave.id}"

    page = client.get(url).get_data(as_text=True)
    assert "No discharge is recorded: the student may still be in hospital." in page
    assert f"Referral no. {referral.id} to Brain Hospital: in treatment as an inpatient" in page

    refused = client.post(f"{url}/approve", data={"ap-returned_on": "2026-09-14"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert f"referral no. {referral.id} to Brain Hospital (in treatment as an inpatient)" in text
    ticked_only = client.post(
        f"{url}/approve", data={"ap-returned_on": "2026-09-14", "ap-inpatient_confirmed": "y"}
    )
    assert ticked_only.status_code == 400
    db.session.expire_all()
    assert db.session.get(LeaveOfAbsence, leave.id).status is LeaveStatus.ON_LEAVE
    assert world.student.enrolment_status is EnrolmentStatus.ON_LEAVE

    reason = "Discharge summary of 9 Sep attached to the statement; liaison not yet updated"
    client.post(
        f"{url}/approve",
        data={
            "ap-returned_on": "2026-09-14",
            "ap-inpatient_confirmed": "y",
            "ap-inpatient_reason": reason,
        },
    )
    db.session.expire_all()
    approved = db.session.get(LeaveOfAbsence, leave.id)
    assert approved.status is LeaveStatus.RETURNED
    assert approved.return_inpatient_note == reason
    (row,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "return_approved")
    ).all()
    assert f"referral(s) {referral.id} not discharged" in row.detail
    assert reason in client.get(url).get_data(as_text=True)


def test_a_discharged_or_outpatient_referral_asks_for_nothing_more(world):
    referral_in(world, ReferralStatus.DISCHARGED, AssessmentOutcome.INPATIENT)
    factories.referral_in(
        ReferralStatus.IN_TREATMENT,
        world.warning,
        world.counsellor,
        world.other_hospital,
        liaison=world.other_liaison,
        outcome=AssessmentOutcome.OUTPATIENT,
    )
    leave = _ready_to_return(world)
    assert rules.inpatient_referrals(db.session, leave) == []
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 14))
    assert leave.status is LeaveStatus.RETURNED
    assert leave.return_inpatient_note is None
