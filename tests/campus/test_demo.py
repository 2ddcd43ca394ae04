"""The demo university tells one story: what a warning cites is a result on a campaign's pages,
a past round holds only students enrolled then, and a name reads as the gender recorded."""

from __future__ import annotations

from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus import demo
from campus.extensions import db
from campus.models import ClassGroup
from campus.models import Institution
from campus.models import Student
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ScreeningResult
from tests.conftest import FIRST_MORNING
from tests.conftest import _empty_tables
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WeeklyReport
from warning.reports import week_start
from warning.reports import weekly_report_status


@pytest.fixture(scope="module")
def demo_university(_app):
    """The demo university, small (seeding the full 2,000 students takes several seconds),
    seeded once for this module at the suite's first morning of term: its tests only read it,
    and seeding it for each of them was a minute of every run."""
    clock.set_now(FIRST_MORNING)
    with _app.app_context():
        logins = demo.seed(db.session, students=240, today=clock.now().date())
        db.session.commit()
        yield logins
        db.session.remove()
        _empty_tables()
    clock.set_now(None)


def _xju() -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == demo.DEMO_CODE))


def test_every_screening_warning_cites_a_result_of_a_campaign_the_demo_has(demo_university):
    signals = db.session.scalars(
        select(Signal).where(
            Signal.institution_id == _xju().id, Signal.source == SignalSource.SCREENING
        )
    ).all()
    assert signals
    for signal in signals:
        assert signal.evidence_type == "screening_result", signal.label
        result = db.session.get(ScreeningResult, signal.evidence_id)
        assert result is not None, signal.label
        assert result.student_id == signal.student_id
        assert result.instrument == signal.instrument
        cited = signal.label_params.get("campaign") or signal.label_params["after"]
        assert cited["name"] == result.campaign.name, signal.label


def test_the_red_phq9_of_the_demo_is_a_result_of_the_open_freshman_intake(demo_university):
    now = clock.now()
    red = db.session.scalar(select(Signal).where(Signal.instrument == "phq9", Signal.total == 22))
    assert red is not None
    result = db.session.get(ScreeningResult, red.evidence_id)
    assert result.campaign.name == f"{now.year}级新生心理健康普查"
    assert result.campaign.opens_at <= result.completed_at <= now
    assignment = db.session.get(CampaignAssignment, result.assignment_id)
    assert assignment.completed_at is not None


def test_the_open_freshman_intake_has_its_first_students_done_but_the_demo_student(
    demo_university,
):
    intake = db.session.scalar(
        select(Campaign).where(Campaign.name_en == f"{clock.now().year} freshman intake")
    )
    done = db.session.scalar(
        select(func.count(CampaignAssignment.id)).where(
            CampaignAssignment.campaign_id == intake.id,
            CampaignAssignment.completed_at.is_not(None),
        )
    )
    assert done > 0
    student_login = next(e.login for e in demo_university if e.role == "student")
    demo_student = db.session.scalar(select(Student).where(Student.student_number == student_login))
    mine = db.session.scalar(
        select(CampaignAssignment).where(
            CampaignAssignment.campaign_id == intake.id,
            CampaignAssignment.student_id == demo_student.id,
        )
    )
    assert mine.completed_at is None


def test_every_result_belongs_to_a_student_of_the_campaigns_grade_enrolled_by_then(
    demo_university,
):
    rows = db.session.execute(
        select(Campaign, ClassGroup.grade, ScreeningResult.completed_at)
        .join(ScreeningResult, ScreeningResult.campaign_id == Campaign.id)
        .join(Student, ScreeningResult.student_id == Student.id)
        .join(ClassGroup, Student.class_id == ClassGroup.id)
    ).all()
    assert {campaign.name for campaign, _, _ in rows} >= {
        f"{clock.now().year - 1}级新生心理健康普查",
        f"{clock.now().year - 1}级学生心理健康复查",
    }
    for campaign, grade, completed_at in rows:
        assert grade in campaign.grades, campaign.name
        assert grade <= completed_at.year, campaign.name
        assert campaign.opens_at <= completed_at <= campaign.closes_at, campaign.name


def test_a_sophomores_trend_shows_three_rounds(demo_university):
    history = db.session.execute(
        select(ScreeningResult.student_id, func.count(func.distinct(ScreeningResult.campaign_id)))
        .where(ScreeningResult.instrument == "phq9")
        .group_by(ScreeningResult.student_id)
    ).all()
    assert max(n for _, n in history) == 3  # the intake, the spring and the autumn follow-up


def test_every_demo_name_reads_as_the_gender_recorded(demo_university):
    students = db.session.scalars(select(Student)).all()
    assert {s.gender for s in students} == {"M", "F"}
    for student in students:
        given = student.name[1:]
        assert set(given) <= set(demo.GIVEN[student.gender]), (student.name, student.gender)


def _reds():
    from warning.models import EarlyWarning
    from warning.models import WarningStatus
    from warning.policy import Level

    return db.session.scalars(
        select(EarlyWarning).where(
            EarlyWarning.status == WarningStatus.OPEN, EarlyWarning.level == Level.RED
        )
    ).all()


def test_a_warning_opens_when_its_first_signal_was_observed(demo_university):
    from warning.models import EarlyWarning

    for warning in db.session.scalars(select(EarlyWarning)).all():
        first = min(s.observed_at for s in warning.signals)
        assert warning.opened_at == first, warning.reason


def test_every_red_older_than_its_hour_is_worked(demo_university):
    now = clock.now()
    reds = _reds()
    assert reds
    for warning in reds:
        if warning.owner_since < now - timedelta(hours=1):
            assert warning.acknowledged_at is not None
            assert warning.owner_since <= warning.acknowledged_at <= now
            assert warning.last_contact_at is not None


def test_no_open_warning_owes_a_step_past_its_deadline(demo_university):
    """A walk found reds answered weeks ago with their four deadlines ten days overdue and never
    escalated: the demo's steps are done in time (the escalation sweep has nothing to do)."""
    from warning.models import Deadline

    overdue = db.session.scalars(
        select(Deadline).where(Deadline.still_owed(), Deadline.due_at < clock.now())
    ).all()
    assert not overdue, [(d.warning_id, d.kind) for d in overdue]


def test_a_warnings_timeline_is_in_order(demo_university):
    from warning.models import WarningEvent

    events = db.session.scalars(select(WarningEvent).order_by(WarningEvent.id)).all()
    opened = {e.warning_id: e.at for e in events if e.kind == "opened"}
    for event in events:
        assert event.at >= opened[event.warning_id], (event.kind, event.at)


def test_an_interview_held_is_her_contact_once_on_the_warnings_timeline(demo_university):
    """A walk found two entries at the same minute for one meeting: the interview held and a
    contact the demo logged beside it. The interview held is itself her contact: on the
    timeline once, as the interview, and her last contact unless a later one came."""
    from casework.models import InterviewEntry
    from warning.models import WarningEvent
    from warning.services import open_warning

    held = db.session.scalars(
        select(InterviewEntry).where(InterviewEntry.held_at.is_not(None))
    ).all()
    assert held
    for entry in held:
        warning = open_warning(db.session, entry.student_id)
        if warning is None:
            continue
        events = db.session.execute(
            select(WarningEvent.kind, WarningEvent.at).where(WarningEvent.warning_id == warning.id)
        ).all()
        if entry.conclusion == "assessment":
            # Held by the red's professional assessment: its line on the timeline is that.
            assert ("assessment", entry.held_at) in events
            continue
        assert ("interview_held", entry.held_at) in events
        assert [at for kind, at in events if at == entry.held_at and kind != "interview_held"] == []
        seen = [at for kind, at in events if kind in ("contact", "assessment", "interview_held")]
        assert warning.last_contact_at == max(seen)


def test_no_interview_stands_overdue_where_its_reds_assessment_was_met(demo_university):
    """The walk that found four red results' interviews overdue although the centre had
    assessed each red within its 24 hours (the oversight page said 100 %)."""
    from casework.models import InterviewEntry
    from casework.models import InterviewState

    overdue = db.session.scalars(
        select(InterviewEntry).where(
            InterviewEntry.state.in_(
                [InterviewState.TO_ASSIGN, InterviewState.ASSIGNED, InterviewState.SCHEDULED]
            ),
            InterviewEntry.due_at <= clock.now(),
        )
    ).all()
    assert overdue == []
    held = db.session.scalars(
        select(InterviewEntry).where(InterviewEntry.conclusion == "assessment")
    ).all()
    assert held
    assert all(entry.due_from_warning and entry.on_time() for entry in held)


def test_family_contacts_come_after_the_warning_they_are_about(demo_university):
    from casework.models import FamilyContact
    from warning.services import open_warning

    contacts = db.session.scalars(select(FamilyContact)).all()
    assert contacts
    for contact in contacts:
        warning = open_warning(db.session, contact.student_id)
        assert warning is not None
        assert warning.opened_at <= contact.at <= clock.now()


def test_dorm_rooms_are_single_gender_and_their_informants_live_in_them(demo_university):
    from campus.models import Role
    from campus.models import RoleAssignment

    genders: dict[int, set[str]] = {}
    for student in db.session.scalars(select(Student).where(Student.room_id.is_not(None))):
        genders.setdefault(student.room_id, set()).add(student.gender)
    assert genders
    assert all(len(g) == 1 for g in genders.values())
    informants = db.session.scalars(
        select(RoleAssignment).where(RoleAssignment.role == Role.DORM_INFORMANT)
    ).all()
    assert {"M", "F"} <= {next(iter(genders[a.room_id])) for a in informants}
    for assignment in informants:
        holder = db.session.scalar(select(Student).where(Student.user_id == assignment.user_id))
        assert holder.room_id == assignment.room_id


def test_no_student_on_leave_holds_a_peer_role(demo_university):
    from campus.models import Role
    from campus.models import RoleAssignment
    from referrals.models import LeaveOfAbsence

    on_leave = db.session.scalars(select(LeaveOfAbsence.student_id)).all()
    assert on_leave
    peers = db.session.scalars(
        select(Student.id)
        .join(RoleAssignment, RoleAssignment.user_id == Student.user_id)
        .where(RoleAssignment.role.in_((Role.CLASS_COMMITTEE, Role.DORM_INFORMANT)))
    ).all()
    assert not set(on_leave) & set(peers)


def test_the_printed_informant_has_a_few_tasks_none_overdue_none_twice(demo_university):
    """A walk found the printed informant (also her class's committee member) with seventeen
    check-ins overdue for a month, each student listed twice, though every deadline was met: her
    list now holds what her room is owed, a few tasks, none overdue, each student once."""
    from campus.models import Role
    from campus.models import User
    from warning import actions

    login = next(entry.login for entry in demo_university if entry.role == "dorm informant")
    informant = db.session.scalar(select(User).where(User.login == login))
    assert {a.role for a in informant.roles} == {Role.STUDENT, Role.DORM_INFORMANT}
    listed = db.session.scalars(actions.open_tasks_query(informant)).all()
    assert 1 <= len(listed) <= 5
    assert all(task.due_at > clock.now() for task in listed)
    assert len({task.student_id for task in listed}) == len(listed)


def test_no_peer_task_outlives_the_deadline_it_served(demo_university):
    """Every open check-in or follow-up task of a warning serves a deadline of its kind still
    owed: the demo's counsellors met them, and a task is closed with what it served."""
    from warning.models import Deadline
    from warning.models import Task

    stale = db.session.scalars(
        select(Task).where(
            Task.done_at.is_(None),
            Task.kind.in_(("check_in", "follow_up")),
            ~select(Deadline.id)
            .where(
                Deadline.warning_id == Task.warning_id,
                Deadline.kind == Task.kind,
                Deadline.still_owed(),
            )
            .exists(),
        )
    ).all()
    assert not stale, [(t.warning_id, t.kind, t.due_at) for t in stale]


def _closure_audit():
    """The closure audit as the administrator's page reads it by default: the last twelve
    months, on the institution's calendar."""
    from campus.models import User
    from referrals import metrics
    from referrals.services import ReferralSettings

    xju = _xju()
    admin = db.session.scalar(
        select(User).where(User.institution_id == xju.id, User.login == "admin")
    )
    zone = clock.institution_zone(xju)
    today = clock.local_date(clock.now(), zone)
    period = metrics.Period(date(today.year - 1, today.month, 1), today)
    frame = metrics.referral_frame(db.session, admin, xju.id)
    return metrics.annotate(frame, period, clock.now(), ReferralSettings(), zone)


def test_the_demos_referrals_take_the_days_real_ones_take(demo_university):
    """A walk found the closure audit's median days to closure at 0.1: the demo moved each
    referral through its steps within hours. Its referrals now close in weeks, as real ones do,
    some still under way and one stalled."""
    from referrals import metrics

    audit = _closure_audit()
    figures = metrics.summarise(audit).iloc[0]
    assert 14 <= figures["median_days"] <= 120, figures["median_days"]
    assert figures["closed"] >= 3
    assert figures["stalled"] == 1
    assert (audit["ended_at"].isna() & audit["sent_at"].notna()).sum() >= 3  # under way


def test_each_demo_referral_step_comes_days_after_the_one_before_but_a_green_channels(
    demo_university,
):
    """A hospital books within days and treats for weeks; a green channel is booked within its
    hours. Every step is in time order, after the warning it came from opened, and before now."""
    from referrals.models import Referral
    from referrals.models import ReferralStatus
    from referrals.services import ReferralSettings
    from warning.models import EarlyWarning

    settings = ReferralSettings()
    referrals = db.session.scalars(select(Referral)).all()
    assert referrals
    green_booked = treated_for_weeks = discharged = 0
    for referral in referrals:
        steps = {t.to_status: t.at for t in referral.transitions}
        times = [t.at for t in sorted(referral.transitions, key=lambda t: t.id)]
        assert times == sorted(times), referral.id
        assert db.session.get(EarlyWarning, referral.warning_id).opened_at <= times[0]
        assert times[-1] <= clock.now()
        booked = steps.get(ReferralStatus.APPOINTMENT_BOOKED)
        if booked is None:
            continue
        waited = booked - steps[ReferralStatus.SENT]
        if referral.green_channel:
            assert waited <= timedelta(hours=settings.green_channel_booking_hours)
            green_booked += 1
        else:
            assert waited >= timedelta(days=1), referral.id
        treated = steps.get(ReferralStatus.IN_TREATMENT)
        ended = steps.get(ReferralStatus.DISCHARGED) or steps.get(ReferralStatus.CLOSED)
        if treated and ended:
            treated_for_weeks += ended - treated >= timedelta(days=14)
        discharged += ReferralStatus.DISCHARGED in steps
    assert green_booked
    assert treated_for_weeks
    assert discharged


def test_the_weeks_before_this_one_were_owed_and_mostly_filed_two_with_a_note(demo_university):
    """The weekly-reports page and the oversight rate have past weeks to read: the demo went
    live three weeks before this one, and its reporters filed all but a few of those weeks."""
    inst = _xju()
    this_week = week_start(clock.local_date(clock.now(), clock.institution_zone(inst)))
    missing = filed = 0
    for back in (1, 2, 3):
        status = weekly_report_status(db.session, inst.id, this_week - timedelta(weeks=back))
        filed += len(status.classes_reported) + len(status.rooms_reported)
        missing += len(status.classes_missing) + len(status.rooms_missing)
    assert 0 < missing < filed / 5
    notes = db.session.scalars(select(WeeklyReport.note).where(WeeklyReport.note.is_not(None)))
    assert len(notes.all()) == 2
