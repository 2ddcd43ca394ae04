"""Escalation: each default deadline escalates at the right moment, once, one tier up."""

from __future__ import annotations

import threading
from datetime import date
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.extensions import db
from campus.notifications import Notification
from tests.factories import open_warning
from warning.escalation import sweep_deadlines
from warning.escalation import sweep_follow_ups
from warning.escalation import sweep_missing_reports
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import WeeklyReport
from warning.policy import Level

from .response_helpers import events
from .response_helpers import open_deadlines


def _sweep_at(delta: timedelta, start) -> int:
    clock.set_now(start + delta)
    count = sweep_deadlines(db.session, clock.now())
    db.session.commit()
    return count


def _notified(user) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id)
    )


def test_red_acknowledgement_escalates_to_leadership_after_one_hour_not_before(network):
    start = clock.now()
    warning = open_warning(network.student, Level.RED)
    assert _sweep_at(timedelta(minutes=59), start) == 0
    assert _sweep_at(timedelta(minutes=61), start) == 1
    db.session.refresh(warning)
    assert warning.owner_tier == OwnerTier.LEADERSHIP
    assert events(warning, "escalated") == 1
    assert _notified(network.director) == 1
    # The leadership now owes the acknowledgement, with a fresh hour.
    assert open_deadlines(warning)["acknowledge"].due_at == start + timedelta(minutes=121)
    assert _sweep_at(timedelta(minutes=62), start) == 0


def test_yellow_contact_escalates_from_department_to_school_after_72_hours(network):
    start = clock.now()
    warning = open_warning(network.student, Level.YELLOW)
    assert warning.owner_tier == OwnerTier.DEPARTMENT
    assert _sweep_at(timedelta(hours=71), start) == 0
    assert _sweep_at(timedelta(hours=73), start) == 1
    db.session.refresh(warning)
    assert warning.owner_tier == OwnerTier.SCHOOL
    assert _notified(network.school_counsellor) == 1
    assert _sweep_at(timedelta(hours=74), start) == 0
    assert events(warning, "escalated") == 1


def test_blue_check_in_escalates_from_class_to_department_after_7_days(network):
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    assert warning.owner_tier == OwnerTier.CLASS
    assert _sweep_at(timedelta(days=6), start) == 0
    assert _sweep_at(timedelta(days=8), start) == 1
    db.session.refresh(warning)
    assert warning.owner_tier == OwnerTier.DEPARTMENT
    assert _notified(network.dept_counsellor) == 1


def test_an_ignored_escalation_keeps_climbing(network):
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    _sweep_at(timedelta(days=8), start)  # class -> department
    _sweep_at(timedelta(days=16), start)  # department -> school
    db.session.refresh(warning)
    assert warning.owner_tier == OwnerTier.SCHOOL
    assert open_deadlines(warning)["check_in"].tier == OwnerTier.SCHOOL


def test_a_check_in_passed_up_to_the_department_is_met_by_her_reaching_the_student(network):
    """Before, no staff action met a check-in: once a class had missed it, the department
    counsellor who then called the student saw it climb to the centre and to leadership all
    the same."""
    from warning import actions

    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    _sweep_at(timedelta(days=8), start)  # class -> department
    db.session.refresh(warning)
    contact = {"method": "phone"}
    actions.log_contact(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        start + timedelta(days=8, hours=1),
        outcome="no_answer",
        **contact,
    )
    assert "check_in" in open_deadlines(warning)  # an unanswered call is no check-in
    actions.log_contact(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        start + timedelta(days=8, hours=2),
        outcome="reached",
        **contact,
    )
    assert "check_in" not in open_deadlines(warning)
    assert _sweep_at(timedelta(days=16), start) == 0
    db.session.refresh(warning)
    assert warning.owner_tier == OwnerTier.DEPARTMENT


def test_a_met_deadline_never_escalates(network):
    start = clock.now()
    warning = open_warning(network.student, Level.YELLOW)
    from warning import actions

    actions.log_contact(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        start + timedelta(hours=2),
        method="phone",
        outcome="Talked, agreed to meet",
    )
    assert _sweep_at(timedelta(hours=80), start) == 0
    assert warning.owner_tier == OwnerTier.DEPARTMENT


def test_two_sweeps_at_once_escalate_each_deadline_once(app, network):
    start = clock.now()
    warnings = [open_warning(network.student, Level.RED)]
    warnings.append(open_warning(network.other_student, Level.YELLOW))
    clock.set_now(start + timedelta(days=4))
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        with app.app_context(), Session(db.engine) as session:
            barrier.wait()
            counts.append(sweep_deadlines(session, clock.now()))
            session.commit()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    # Red owes four deadlines at +4 days, yellow one: five escalations in all, none twice.
    assert sum(counts) == 5
    assert sum(events(w, "escalated") for w in warnings) == 5
    assert _sweep_at(timedelta(days=4), start) == 0


def test_level_rise_supersedes_what_the_lower_level_owed(network):
    start = clock.now()
    from warning.response import plan_response

    warning = open_warning(network.student, Level.YELLOW)
    warning.level = Level.RED
    plan_response(db.session, warning, Level.YELLOW, start)
    db.session.commit()
    assert "contact" not in open_deadlines(warning)
    assert set(open_deadlines(warning)) == {
        "acknowledge",
        "assessment",
        "guardian_notified",
        "peer_watch",
    }
    assert _sweep_at(timedelta(minutes=61), start) == 1  # only red's acknowledgement


def test_a_follow_up_the_counsellor_set_is_replaced_in_words_when_the_level_rises(network):
    """A yellow's follow-up is the department's, every two weeks; a red's is the centre's, weekly,
    once its first response is done. A rise replaces the department counsellor's own follow-up
    with the red's plan, and the timeline says so (before, it was left owed by the department
    beside the red's steps; before that, it vanished while the timeline still said it was set)."""
    start = clock.now()
    from warning import actions
    from warning.models import WarningEvent
    from warning.response import plan_response

    warning = open_warning(network.student, Level.YELLOW)
    friday = start + timedelta(days=4)
    actions.schedule_follow_up(
        db.session, network.dept_counsellor, warning, warning.version, start, due_at=friday
    )
    db.session.commit()
    warning.level = Level.RED
    plan_response(db.session, warning, Level.YELLOW, start + timedelta(hours=1))
    db.session.commit()

    owed = open_deadlines(warning)
    assert set(owed) == {"acknowledge", "assessment", "guardian_notified", "peer_watch"}
    said = db.session.scalars(
        select(WarningEvent).where(
            WarningEvent.warning_id == warning.id, WarningEvent.kind == "superseded"
        )
    ).all()
    assert {(e.outcome, e.outcome_params["due_at"]) for e in said} == {
        ("contact", (start + timedelta(hours=72)).isoformat()),
        ("follow_up", friday.isoformat()),
    }


def test_follow_up_falls_due_by_cadence_after_a_contact_and_escalates_when_missed(network):
    start = clock.now()
    from warning import actions

    warning = open_warning(network.student, Level.YELLOW)
    actions.log_contact(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        start,
        method="phone",
        outcome="ok",
    )
    follow_up = open_deadlines(warning)["follow_up"]
    assert follow_up.due_at == start + timedelta(days=14)
    assert _sweep_at(timedelta(days=13), start) == 0
    assert _sweep_at(timedelta(days=15), start) == 1


def test_follow_up_sweep_gives_an_idle_warning_its_next_follow_up_once(network):
    start = clock.now()
    warning = open_warning(network.student, Level.BLUE)
    assert sweep_follow_ups(db.session, start) == 0  # still owes its check-in
    task = db.session.scalar(select(Task).where(Task.warning_id == warning.id))
    from warning import actions

    actions.complete_task(db.session, network.class_committee, task, start, note="Had lunch")
    assert open_deadlines(warning)["follow_up"].due_at == start + timedelta(days=30)
    assert sweep_follow_ups(db.session, start) == 0


def test_missing_weekly_class_report_is_escalated_to_the_department_once(network):
    # Monday 2026-09-14 10:00 Beijing: last week's reports were due at noon.
    clock.set_now(clock.now() + timedelta(hours=3))  # 13:00 Beijing
    db.session.add(
        WeeklyReport(
            institution_id=network.institution.id,
            room_id=network.room.id,
            week_start=date(2026, 9, 7),
            zero_report=True,
            filed_by_id=network.dorm_informant.id,
        )
    )
    db.session.commit()
    assert sweep_missing_reports(db.session, clock.now()) == 1  # the class, not the room
    db.session.commit()
    task = db.session.scalar(select(Task).where(Task.kind == "report_missing"))
    assert task.assignee_department_id == network.department.id
    assert "CS-2026-1" in task.text
    assert _notified(network.dept_counsellor) == 1
    assert sweep_missing_reports(db.session, clock.now()) == 0


def test_missing_report_is_not_escalated_before_its_deadline(network):
    clock.set_now(clock.now() + timedelta(hours=1))  # Monday 11:00 Beijing: week of 08-31 due
    count = sweep_missing_reports(db.session, clock.now())
    db.session.commit()
    task = db.session.scalar(select(Task).where(Task.kind == "report_missing"))
    assert count == 2  # class and room, for the week of 2026-08-31 (last week not due yet)
    assert "2026-08-31" in task.text


def test_closed_warning_deadlines_never_escalate(network):
    start = clock.now()
    from warning import actions

    warning = open_warning(network.student, Level.RED)
    # A red warning closes only once assessed.
    actions.record_assessment(
        db.session, network.school_counsellor, warning, warning.version, start, outcome="No risk"
    )
    actions.close(
        db.session,
        network.school_counsellor,
        warning,
        warning.version,
        start,
        outcome="Assessed: no risk, family support in place",
        review_date=date(2026, 12, 1),
    )
    assert _sweep_at(timedelta(days=3), start) == 0
    assert db.session.get(EarlyWarning, warning.id).status == "closed"
