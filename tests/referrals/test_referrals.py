"""Referral rules beyond the state table: what each move needs, concurrent edits, hospital signals
for the warning stage, caseload, stalled detection and green-channel escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import BreakGlassGrant
from campus.models import Caseload
from campus.models import Role
from campus.models import Student
from campus.notifications import Notification
from referrals import permissions
from referrals import services
from referrals.models import AssessmentOutcome
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.models import ReferralTransition
from referrals.services import ConcurrentUpdate
from referrals.services import InvalidTransition
from referrals.services import ReferralError
from tests.factories import SETTINGS
from tests.referrals.conftest import new_referral
from tests.referrals.conftest import referral_in
from tests.referrals.conftest import step
from tests.referrals.conftest import walk
from warning import response
from warning.models import Deadline
from warning.models import EarlyWarning
from warning.models import Signal
from warning.policy import Level

S = ReferralStatus


@pytest.mark.parametrize(
    ("status", "target", "missing"),
    [
        (S.SENT, S.APPOINTMENT_BOOKED, "appointment date"),
        (S.APPOINTMENT_BOOKED, S.ASSESSED, "outcome"),
        (S.SENT, S.DECLINED, "who refused"),
        (S.SENT, S.WITHDRAWN, "why"),
        (S.SENT, S.LOST_TO_FOLLOW_UP, "why"),
    ],
)
def test_a_move_without_what_it_needs_is_refused_and_writes_nothing(world, status, target, missing):
    referral = referral_in(world, status)
    version = referral.version
    with pytest.raises(InvalidTransition):
        step(world, referral, target)
    db.session.rollback()
    assert db.session.get(Referral, referral.id).status is status
    assert db.session.get(Referral, referral.id).version == version


def test_a_stale_form_gets_a_conflict_instead_of_overwriting(world):
    referral = referral_in(world, S.SENT)
    stale = referral.version
    step(world, referral, S.APPOINTMENT_BOOKED, appointment_at=clock.now())
    change = services.Change(target=S.WITHDRAWN, expected_version=stale, note="x")
    with pytest.raises(ConcurrentUpdate):
        services.transition(db.session, world.counsellor, referral, change, clock.now(), SETTINGS)
    assert db.session.get(Referral, referral.id).status is S.APPOINTMENT_BOOKED


def test_a_concurrent_commit_in_between_is_detected_by_the_version_column(world):
    referral = referral_in(world, S.SENT)
    version = referral.version
    # Another worker moved it between our load and our write.
    db.session.execute(
        update(Referral.__table__)
        .where(Referral.__table__.c.id == referral.id)
        .values(version=version + 1)
    )
    change = services.Change(target=S.WITHDRAWN, expected_version=version, note="x")
    with pytest.raises(ConcurrentUpdate):
        services.transition(db.session, world.counsellor, referral, change, clock.now(), SETTINGS)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is S.SENT
    transitions = db.session.scalars(
        select(ReferralTransition.to_status).where(ReferralTransition.referral_id == referral.id)
    ).all()
    assert S.WITHDRAWN not in transitions


def test_inpatient_assessment_and_discharge_reach_the_warning_stage_as_hospital_signals(world):
    warning = world.warning
    warning.level = Level.RED  # red already (a screening), as in a user's walk through
    db.session.flush()
    response.plan_follow_up(db.session, warning, clock.now() + timedelta(days=6), clock.now())
    referral = referral_in(world, S.ASSESSED, AssessmentOutcome.INPATIENT)
    walk(world, referral, [S.IN_TREATMENT, S.DISCHARGED])
    signals = db.session.scalars(
        select(Signal).where(Signal.student_id == world.student.id, Signal.source == "hospital")
    ).all()
    assert sorted(s.flags for s in signals) == [
        "hospital:recent_discharge",
        "hospital:severe_disorder",
    ]
    assert all(s.implied_level == 3 for s in signals)  # red by the default policy
    # After a discharge the follow-up contact is due within 48 hours, not in six days.
    follow_up = db.session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.warning_id == warning.id, Deadline.kind == "follow_up", Deadline.still_owed()
        )
    )
    assert follow_up == clock.now() + timedelta(hours=48)
    # Two pieces of crisis evidence before anyone looked: one urgent line each, not two.
    told = db.session.execute(
        select(Notification.user_id, func.count())
        .where(Notification.text == response.RED_EVIDENCE_TEXT)
        .group_by(Notification.user_id)
    ).all()
    assert told
    assert {count for _user, count in told} == {1}


def test_outpatient_care_sends_no_signal_even_when_its_treatment_ends(world):
    """The end of outpatient treatment is recorded as "discharged": no "recent discharge"."""
    referral_in(world, S.DISCHARGED, AssessmentOutcome.OUTPATIENT)
    assert db.session.scalars(select(Signal)).all() == []


def test_referral_under_break_glass_puts_the_student_on_the_counsellors_caseload(world, campus):
    other = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR)
    db.session.add(
        BreakGlassGrant(
            user_id=other.id,
            student_id=world.student.id,
            reason="Crisis call at night, on duty",
            expires_at=clock.now() + timedelta(hours=1),
        )
    )
    campus.commit()
    warning = _referable(other, world.warning.id)
    assert warning is not None
    world.counsellor = other
    new_referral(world)
    assert (
        db.session.scalar(select(Caseload).where(Caseload.counsellor_id == other.id)).student_id
        == world.student.id
    )


def test_counsellor_without_clinical_access_cannot_refer_from_the_warning(world, campus):
    stranger = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    assert _referable(stranger, world.warning.id) is None
    assert _referable(world.dept_counsellor, world.warning.id) is None


def test_referral_to_another_institutions_hospital_is_refused(world, campus):
    foreign = campus.hospital(campus.institution("LSU"))
    campus.commit()
    with pytest.raises(ReferralError):
        new_referral(world, hospital_id=foreign.id)
    db.session.rollback()
    assert db.session.scalars(select(Referral)).all() == []


def test_an_undisclosable_field_is_refused(world):
    with pytest.raises(ValueError, match="not disclosable: warning_level"):
        new_referral(world, disclosed_fields=["name", "warning_level"])
    db.session.rollback()
    assert db.session.scalars(select(Referral)).all() == []


@pytest.mark.parametrize("fields", [[], ["gender", "referral_reason"]])
def test_a_referral_that_does_not_name_the_student_is_refused(world, fields):
    """Before: a draft with nothing ticked was saved; sent, the hospital got no name to register
    and the page's sentence named nothing it would hand over."""
    with pytest.raises(ReferralError, match="needs the student's name"):
        new_referral(world, disclosed_fields=fields)
    db.session.rollback()
    assert db.session.scalars(select(Referral)).all() == []


def test_referral_is_stalled_after_14_days_without_update_not_13(world):
    referral = referral_in(world, S.SENT)
    sent = clock.now()

    def stalled_ids():
        return db.session.scalars(
            select(Referral.id).where(services.stalled_clause(clock.now(), SETTINGS))
        ).all()

    clock.set_now(sent + timedelta(days=13, hours=23, minutes=59))
    assert stalled_ids() == []
    assert not services.is_stalled(referral, clock.now(), SETTINGS)
    clock.set_now(sent + timedelta(days=14))
    assert stalled_ids() == [referral.id]
    assert services.is_stalled(referral, clock.now(), SETTINGS)
    assert services.stalled_since(referral, SETTINGS) == sent + timedelta(days=14)
    step(world, referral, S.APPOINTMENT_BOOKED, appointment_at=clock.now())
    assert stalled_ids() == []


def test_ended_referral_is_never_stalled(world):
    referral = referral_in(world, S.WITHDRAWN)
    clock.advance(timedelta(days=60))
    assert not services.is_stalled(referral, clock.now(), SETTINGS)


def _escalation_notices(user_id: int) -> list[str]:
    return db.session.scalars(
        select(Notification.text).where(
            Notification.user_id == user_id,
            Notification.text.contains("no appointment booked by its deadline"),
        )
    ).all()


def test_green_channel_referral_not_booked_in_24_hours_escalates_once(world):
    referral = referral_in(world, S.SENT, green_channel=True)
    sent = clock.now()
    assert referral.booking_due_at == sent + timedelta(hours=24)
    assert (
        services.sweep_green_channel(db.session, sent + timedelta(hours=23, minutes=59), SETTINGS)
        == 0
    )
    assert services.sweep_green_channel(db.session, sent + timedelta(hours=24), SETTINGS) == 1
    assert services.sweep_green_channel(db.session, sent + timedelta(hours=25), SETTINGS) == 0
    assert len(_escalation_notices(world.director.id)) == 1
    assert len(_escalation_notices(world.counsellor.id)) == 1
    assert _escalation_notices(world.liaison.id) == []
    assert db.session.get(Referral, referral.id).escalated_at == sent + timedelta(hours=24)
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "green_channel_escalated")
    ).record_id == str(referral.id)


def test_two_concurrent_green_channel_sweeps_notify_once(world):
    """Both sweeps read the overdue referral before either claims it; only one notifies."""
    referral = referral_in(world, S.SENT, green_channel=True)
    due = clock.now() + timedelta(hours=24)
    with Session(db.engine) as first, Session(db.engine) as second:
        first_list = services.overdue_green_channel(first, due)
        second_list = services.overdue_green_channel(second, due)
        second.rollback()  # end the read so SQLite lets the first sweep write
        assert first_list == second_list == [referral.id]
        assert services.escalate_green_channel(first, first_list, due) == 1
        assert services.escalate_green_channel(second, second_list, due) == 0
    assert len(_escalation_notices(world.director.id)) == 1
    assert (
        db.session.scalar(
            select(func.count()).where(AuditEvent.action == "green_channel_escalated")
        )
        == 1
    )


def test_green_channel_booked_in_time_does_not_escalate(world):
    referral = referral_in(world, S.SENT, green_channel=True)
    clock.advance(timedelta(hours=20))
    step(world, referral, S.APPOINTMENT_BOOKED, appointment_at=clock.now() + timedelta(hours=3))
    assert services.sweep_green_channel(db.session, clock.now() + timedelta(days=2), SETTINGS) == 0
    assert _escalation_notices(world.director.id) == []


def test_routine_referral_has_no_booking_deadline(world):
    referral = referral_in(world, S.SENT)
    assert referral.booking_due_at is None
    assert services.sweep_green_channel(db.session, clock.now() + timedelta(days=30), SETTINGS) == 0


def test_green_channel_deadline_is_configurable(world):
    referral = new_referral(world, green_channel=True)
    settings = services.ReferralSettings.from_config(
        {**current_app.config, "REFERRAL_GREEN_CHANNEL_HOURS": "6"}
    )
    change = services.Change(target=S.SENT, expected_version=referral.version)
    services.transition(db.session, world.counsellor, referral, change, clock.now(), settings)
    assert referral.booking_due_at == clock.now() + timedelta(hours=6)


def test_every_transition_is_audited_with_its_actor(world):
    referral = referral_in(world, S.APPOINTMENT_BOOKED)
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "referral_transition").order_by(AuditEvent.id)
    ).all()
    assert [(r.actor_id, r.detail) for r in rows] == [
        (world.counsellor.id, "draft->sent"),
        (world.liaison.id, "sent->appointment_booked"),
    ]
    assert all(r.student_id == world.student.id for r in rows)
    assert referral.status is S.APPOINTMENT_BOOKED


def _referable(user, warning_id: int) -> EarlyWarning | None:
    """The warning `user` may refer from, through the clause the referral form loads it with."""
    return db.session.scalar(
        select(EarlyWarning)
        .join(Student, Student.id == EarlyWarning.student_id)
        .where(EarlyWarning.id == warning_id, permissions.referable_clause(user))
    )
