"""Leave and return: the return's gates, the plan as owners' tasks, follow-ups at 1/3/6 months,
and closure refused until everything is done."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import EnrolmentStatus
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User
from referrals import leave as rules
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveReason
from referrals.models import LeaveStatus
from referrals.models import PlanSection
from referrals.models import ReturnAssessment
from tests import factories
from tests.referrals.plans import meals_with_the_informant
from warning.models import Task


def _leave(world):
    data = rules.NewLeave(date(2026, 9, 1), date(2027, 1, 31), LeaveReason.MENTAL_HEALTH)
    return rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())


def _ready(world, leave, outcome=ReturnAssessment.FIT_TO_RETURN):
    rules.record_statement(
        db.session,
        world.counsellor,
        leave,
        date(2026, 9, 10),
        "Brain Hospital",
        "CANARY-STATEMENT stable on treatment",
        clock.now().date(),
    )
    rules.record_assessment(
        db.session, world.counsellor, leave, outcome, "Mood stable, sleeping well", clock.now()
    )


def test_leave_marks_the_student_on_leave(world):
    _leave(world)
    assert world.student.enrolment_status is EnrolmentStatus.ON_LEAVE


def test_leave_returning_before_it_starts_is_refused(world):
    data = rules.NewLeave(date(2026, 9, 1), date(2026, 8, 1), LeaveReason.OTHER)
    with pytest.raises(rules.LeaveError):
        rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())
    db.session.rollback()
    assert world.student.enrolment_status is EnrolmentStatus.ENROLLED


def test_return_needs_the_hospital_statement(world):
    leave = _leave(world)
    rules.record_assessment(
        db.session, world.counsellor, leave, ReturnAssessment.FIT_TO_RETURN, "Stable", clock.now()
    )
    with pytest.raises(rules.LeaveError, match="statement"):
        rules.approve_return(db.session, world.counsellor, leave, date(2027, 2, 1))
    assert leave.status is LeaveStatus.ON_LEAVE


def test_return_needs_a_fit_to_return_assessment(world):
    leave = _leave(world)
    _ready(world, leave, ReturnAssessment.NOT_YET)
    with pytest.raises(rules.LeaveError, match="assessment"):
        rules.approve_return(db.session, world.counsellor, leave, date(2027, 2, 1))
    db.session.rollback()
    assert db.session.scalars(select(Task)).all() == []


def test_approved_return_schedules_follow_ups_at_1_3_and_6_months(world):
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2027, 1, 31))
    assert [(f.months, f.due_date) for f in leave.follow_ups] == [
        (1, date(2027, 2, 28)),
        (3, date(2027, 4, 30)),
        (6, date(2027, 7, 31)),
    ]
    assert {f.task.assignee_user_id for f in leave.follow_ups} == {world.counsellor.id}
    assert world.student.enrolment_status is EnrolmentStatus.ENROLLED


def test_follow_up_tasks_keep_their_message_and_values_to_be_read_in_any_language(world):
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2027, 1, 31))
    tasks = [f.task for f in leave.follow_ups]
    assert {t.text_key for t in tasks} == {rules.FOLLOW_UP_TASK_TEXT}
    assert [t.text_params for t in tasks] == [
        {"months": months, "name": world.student.name} for months in (1, 3, 6)
    ]


def test_plan_item_for_a_dorm_informant_carries_fixed_non_clinical_wording(world):
    leave = _leave(world)
    _ready(world, leave)
    item = rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.DAILY_LIFE,
        "Watch for relapse of the eating disorder at meals",
        world.informant.id,
        date(2027, 2, 15),
    )
    task = db.session.scalar(select(Task).where(Task.assignee_user_id == world.informant.id))
    assert task.id == item.task_id
    assert task.text == f"Please keep company with {world.student.name} and see how they are doing"
    assert "eating disorder" not in task.text
    assert "CANARY-STATEMENT" not in task.text
    assert item.text == "Watch for relapse of the eating disorder at meals"


def test_plan_item_for_a_school_counsellor_keeps_the_plan_wording(world):
    leave = _leave(world)
    _ready(world, leave)
    rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.PSYCHOLOGICAL,
        "Weekly session at the centre",
        world.counsellor.id,
        date(2027, 2, 15),
    )
    task = db.session.scalar(select(Task).where(Task.kind == "return_plan"))
    assert "Weekly session at the centre" in task.text


def test_plan_item_owner_must_be_someone_around_the_student(world, campus):
    stranger_dept = campus.department(world.institution, "Law")
    stranger = campus.staff(world.institution, Role.DEPT_COUNSELLOR, department=stranger_dept)
    campus.commit()
    leave = _leave(world)
    with pytest.raises(rules.LeaveError, match="owner"):
        rules.add_plan_item(
            db.session,
            world.counsellor,
            leave,
            PlanSection.ACADEMIC,
            "Exam delay",
            stranger.id,
            date(2027, 2, 1),
        )
    db.session.rollback()
    assert db.session.scalars(select(Task)).all() == []


def test_case_closes_only_when_plan_items_and_follow_ups_are_done(world):
    leave = _leave(world)
    _ready(world, leave)
    item = rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.ACADEMIC,
        "Deferred exams",
        world.dept_counsellor.id,
        date(2027, 2, 15),
    )
    rules.approve_return(db.session, world.counsellor, leave, date(2027, 2, 1))
    for follow_up in leave.follow_ups:  # each on the day it is due
        clock.set_now(datetime.combine(follow_up.due_date, datetime.min.time()).replace(hour=2))
        rules.complete_task(db.session, world.counsellor, leave, follow_up.task, "", clock.now())
    with pytest.raises(rules.LeaveError, match="still open"):
        rules.close_case(db.session, world.counsellor, leave, clock.now())
    assert leave.status is LeaveStatus.RETURNED
    rules.complete_task(db.session, world.dept_counsellor, leave, item.task, "done", clock.now())
    rules.close_case(db.session, world.counsellor, leave, clock.now())
    assert leave.status is LeaveStatus.CLOSED


def test_case_cannot_close_with_follow_ups_open(world):
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2027, 2, 1))
    with pytest.raises(rules.LeaveError, match="still open"):
        rules.close_case(db.session, world.counsellor, leave, clock.now())


def test_someone_else_cannot_tick_an_owners_task(world):
    leave = _leave(world)
    item = meals_with_the_informant(world, leave, date(2027, 2, 1))
    with pytest.raises(PermissionError):
        rules.complete_task(db.session, world.committee, leave, item.task, "", clock.now())


def test_close_refused_on_the_page_with_a_clear_message(world, login):
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2027, 2, 1))
    client = login(world.counsellor)
    page = client.post(f"/referrals/leave/{leave.id}/close", follow_redirects=True)
    assert "cannot close yet" in page.get_data(as_text=True)
    assert "CANARY-STATEMENT" in page.get_data(as_text=True)  # clinical reader sees it


def test_leave_page_of_a_student_outside_the_caseload_is_404(world, login, campus):
    leave = _leave(world)
    other = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    assert login(other).get(f"/referrals/leave/{leave.id}").status_code == 404


def test_the_leave_list_is_an_audited_read(world, login):
    _leave(world)
    page = login(world.counsellor).get("/referrals/leave").get_data(as_text=True)
    assert world.student.name in page
    (row,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "leave_list")).all()
    assert row.detail == "rows=1"
    assert row.student_id == world.student.id


def test_a_statement_received_today_in_shanghai_is_accepted_before_utc_midnight(world, login):
    """At 01:00 on 15 September in Shanghai it is still 14 September in UTC."""
    leave = _leave(world)
    clock.set_now(datetime(2026, 9, 14, 17, 0))
    assert rules.local_today(db.session, leave, clock.now()) == date(2026, 9, 15)
    login(world.counsellor).post(
        f"/referrals/leave/{leave.id}/statement",
        data={
            "st-received_on": "2026-09-15",
            "st-hospital": "Brain Hospital",
            "st-summary": "Stable on treatment",
        },
    )
    db.session.expire_all()
    assert db.session.get(type(leave), leave.id).statement_received_on == date(2026, 9, 15)


def test_leave_page_punctuates_the_statement_and_plan_in_chinese(world, login):
    leave = _leave(world)
    _ready(world, leave)
    rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.PSYCHOLOGICAL,
        "每周到中心咨询一次",
        world.counsellor.id,
        date(2027, 2, 15),
    )
    db.session.commit()
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    page = login(world.counsellor).get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert "Brain Hospital，9月10日 周四" in page
    # The owner with her role, in Chinese brackets.
    assert f"{world.counsellor.name}（心理中心专职教师），期限 2027年2月15日 周一" in page


def test_reassessment_form_opens_on_the_outcome_on_record(world, login):
    leave = _leave(world)
    _ready(world, leave, outcome=ReturnAssessment.NOT_YET)
    db.session.commit()
    page = login(world.counsellor).get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert '<option selected value="not_yet">' in page


def test_an_empty_statement_names_every_missing_field_joined_in_chinese(world, login):
    leave = _leave(world)
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    page = login(world.counsellor).post(
        f"/referrals/leave/{leave.id}/statement", data={}, follow_redirects=True
    )
    text = page.get_data(as_text=True)
    assert "；" in text
    assert "; " not in text.split("<main", 1)[1]


def test_a_refused_statement_keeps_what_was_typed_and_names_the_missing_field(world, login):
    """A forgotten date must not cost the counsellor the summary they typed."""
    leave = _leave(world)
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    page = login(world.counsellor).post(
        f"/referrals/leave/{leave.id}/statement",
        data={"st-hospital": "脑科医院", "st-summary": "CANARY-TYPED 病情稳定"},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'value="脑科医院"' in text
    assert "CANARY-TYPED 病情稳定</textarea>" in text
    assert "证明收到日期：" in text  # the message says which field
    db.session.expire_all()
    assert db.session.get(type(leave), leave.id).statement_hospital is None


def test_a_rule_refusing_the_statement_keeps_the_form_as_filled_in(world, login):
    leave = _leave(world)
    page = login(world.counsellor).post(
        f"/referrals/leave/{leave.id}/statement",
        data={
            "st-received_on": "2099-01-01",
            "st-hospital": "Brain Hospital",
            "st-summary": "CANARY-TYPED stable",
        },
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "The statement cannot be received in the future." in text
    assert 'value="2099-01-01"' in text
    assert "CANARY-TYPED stable</textarea>" in text


def test_approving_a_return_twice_says_why_in_the_counsellors_language(world, login):
    leave = _leave(world)
    _ready(world, leave)
    world.counsellor.locale = "zh_CN"
    db.session.commit()
    client = login(world.counsellor)
    approve = {"ap-returned_on": "2027-02-01"}
    client.post(f"/referrals/leave/{leave.id}/approve", data=approve)
    again = client.post(f"/referrals/leave/{leave.id}/approve", data=approve, follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "仍在休学" in text
    assert "This step" not in text
    follow_ups = db.session.scalars(select(Task).where(Task.student_id == world.student.id)).all()
    assert len([t for t in follow_ups if t.kind == "return_follow_up"]) == 3


def test_a_plan_item_sent_twice_is_one_item_and_one_task(world, login):
    leave = _leave(world)
    db.session.commit()
    client = login(world.counsellor)
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    token = page.split('name="plan-submission" type="hidden" value="', 1)[1][:32]
    sent = {
        "plan-submission": token,
        "plan-section": "academic",
        "plan-text": "Reduced course load",
        "plan-owner_id": world.counsellor.id,
        "plan-due_date": "2027-02-15",
    }
    for _ in range(2):
        client.post(f"/referrals/leave/{leave.id}/plan", data=sent)
    tasks = db.session.scalars(select(Task).where(Task.kind == "return_plan")).all()
    assert len(tasks) == 1


def test_two_leaves_started_at_once_are_one_open_leave(world, monkeypatch):
    """A double submit: both requests pass the "no open leave" check before either commits."""
    _leave(world)
    monkeypatch.setattr(rules, "check_start_leave", lambda *_args: None)  # the other request's view
    data = rules.NewLeave(date(2026, 9, 2), date(2027, 1, 31), LeaveReason.MENTAL_HEALTH)
    with pytest.raises(rules.LeaveError, match="already has an open leave"):
        rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())
    leaves = db.session.scalars(
        select(LeaveOfAbsence).where(LeaveOfAbsence.student_id == world.student.id)
    ).all()
    assert len(leaves) == 1


def test_an_assessment_sent_untouched_is_refused_not_recorded_as_fit_to_return(world, login):
    """Before: the outcome opened on "fit to return" and needed no grounds, so one stray click
    cleared a student on mental-health leave to come back."""
    leave = _leave(world)
    db.session.commit()
    client = login(world.counsellor)
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert 'id="as-outcome" name="as-outcome" required><option value="">Choose…' in page
    response = client.post(
        f"/referrals/leave/{leave.id}/assessment", data={"as-outcome": "", "as-note": ""}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose the centre" in page
    assert "Write what the assessment found and why." in page
    db.session.refresh(leave)
    assert leave.assessment_outcome is None


def test_an_assessment_without_its_grounds_is_refused_by_the_rules_too(world):
    leave = _leave(world)
    with pytest.raises(rules.LeaveError, match="found and why"):
        rules.record_assessment(
            db.session, world.counsellor, leave, ReturnAssessment.FIT_TO_RETURN, " ", clock.now()
        )
    db.session.rollback()
    assert leave.assessment_outcome is None


def test_a_follow_up_is_not_done_on_the_day_of_the_return(world):
    """Before: all three follow-ups could be ticked the day the return was approved, and the case
    closed months before anyone had seen how the student was doing."""
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 14))
    db.session.commit()
    first = min(leave.follow_ups, key=lambda f: f.due_date)  # due 2026-10-14
    with pytest.raises(rules.LeaveError, match="two weeks before it is due"):
        rules.complete_task(db.session, world.counsellor, leave, first.task, "", clock.now())
    db.session.rollback()
    assert first.task.done_at is None
    clock.set_now(datetime(2026, 9, 30, 2, 0))  # 14 days before it is due
    rules.complete_task(db.session, world.counsellor, leave, first.task, "", clock.now())
    assert first.task.done_at is not None


def test_a_return_approved_ahead_of_its_day_does_not_read_as_returned(world, login):
    """Approved in December for a February return, the student is not back in class yet."""
    leave = _leave(world)
    _ready(world, leave)
    today = rules.local_today(db.session, leave, clock.now())
    ahead = today + timedelta(days=60)
    rules.approve_return(db.session, world.counsellor, leave, ahead)
    client = login(world.counsellor)

    for url in (f"/referrals/leave/{leave.id}", "/referrals/leave"):
        text = client.get(url).get_data(as_text=True)
        assert f"Return approved for {ahead:%a} {ahead.day} {ahead:%b}" in text  # Fri 13 Nov
        assert f"Return approved for {ahead.isoformat()}" not in text
        assert "Returned to school" not in text


def test_a_return_on_or_before_today_reads_as_returned(world, login):
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(
        db.session, world.counsellor, leave, rules.local_today(db.session, leave, clock.now())
    )
    text = login(world.counsellor).get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert "Returned to school" in text


def _department_item(world, leave):
    """A plan item the department counsellor owns."""
    return rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.ACADEMIC,
        "Deferred exams booked with the dean's office",
        world.dept_counsellor.id,
        date(2027, 2, 15),
    )


def _done_audits() -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "return_task_done")
    ).all()


def test_a_school_counsellor_ticks_someone_elses_plan_item_only_with_a_note(world):
    """Before: a school counsellor could tick the department counsellor's item done with nothing
    said, and the plan read as done though no one knew that it was."""
    leave = _leave(world)
    item = _department_item(world, leave)
    with pytest.raises(rules.LeaveError, match="what was done"):
        rules.complete_task(db.session, world.counsellor, leave, item.task, "  ", clock.now())
    db.session.rollback()
    assert item.task.done_at is None
    assert _done_audits() == []
    note = "Dept counsellor phoned: exams rebooked for 3 March"
    rules.complete_task(db.session, world.counsellor, leave, item.task, note, clock.now())
    assert item.task.done_at is not None
    assert item.task.done_by_id == world.counsellor.id
    assert item.task.done_note == note
    (row,) = _done_audits()
    assert row.actor_id == world.counsellor.id
    assert "for its owner" in (row.detail or "")


def test_the_owner_ticks_their_own_plan_item_without_a_note(world):
    leave = _leave(world)
    item = _department_item(world, leave)
    rules.complete_task(db.session, world.dept_counsellor, leave, item.task, "", clock.now())
    assert item.task.done_by_id == world.dept_counsellor.id
    assert item.task.done_note is None


def test_a_follow_up_ticked_by_another_school_counsellor_needs_a_note_too(world, campus):
    colleague = campus.staff(world.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 14))
    first = min(leave.follow_ups, key=lambda f: f.due_date)
    clock.set_now(datetime(2026, 10, 14, 2, 0))
    with pytest.raises(rules.LeaveError, match="what was done"):
        rules.complete_task(db.session, colleague, leave, first.task, "", clock.now())
    db.session.rollback()
    assert first.task.done_at is None


def test_the_plan_page_asks_for_the_note_and_shows_who_ticked_the_item_and_what_they_wrote(
    world, login
):
    leave = _leave(world)
    item = _department_item(world, leave)
    client = login(world.counsellor)
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert f'id="done-note-{item.task_id}"' in page  # the note box of an item not theirs
    url = f"/referrals/leave/{leave.id}/tasks/{item.task_id}/done"
    refused = client.post(url, data={"note": ""}, follow_redirects=True).get_data(as_text=True)
    assert "what was done" in refused
    db.session.refresh(item.task)
    assert item.task.done_at is None
    note = "Dept counsellor phoned: exams rebooked for 3 March"
    page = client.post(url, data={"note": note}, follow_redirects=True).get_data(as_text=True)
    db.session.refresh(item.task)
    assert item.task.done_by_id == world.counsellor.id
    assert note in page
    assert f"by {world.counsellor.name}" in page


def test_an_owner_ticking_their_plan_item_on_the_tasks_page_leaves_the_same_audit_row(world, login):
    """Before, the Tasks page's tick wrote only a bare task row: the leave's trail (and an
    administrator reading who did what on this student's return) missed the item being done."""
    leave = _leave(world)
    item = _department_item(world, leave)
    other = rules.add_plan_item(
        db.session, world.counsellor, leave, PlanSection.PSYCHOLOGICAL, "Weekly check-in",
        world.counsellor.id, date(2027, 2, 15),
    )  # fmt: skip
    response = login(world.dept_counsellor).post(f"/tasks/{item.task_id}/done", data={"note": ""})
    assert response.status_code == 302
    db.session.refresh(item.task)
    assert item.task.done_by_id == world.dept_counsellor.id
    login(world.counsellor).post(f"/referrals/leave/{leave.id}/tasks/{other.task_id}/done")
    from_tasks, from_leave = _done_audits()

    def row(event: AuditEvent) -> tuple:
        return (event.record_type, event.record_id, event.student_id, event.detail)

    assert from_tasks.actor_id == world.dept_counsellor.id
    assert row(from_tasks) == ("leave", str(leave.id), world.student.id, item.task.kind)
    assert row(from_leave) == ("leave", str(leave.id), world.student.id, other.task.kind)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "task.done")) is None


def test_the_tasks_page_keeps_the_leaves_rules_for_a_follow_up(world, login):
    """A follow-up's owner cannot tick the 3-month follow-up in the first week back from their
    Tasks page either."""
    leave = _leave(world)
    _ready(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 9, 14))
    last = max(leave.follow_ups, key=lambda f: f.due_date)
    client = login(world.counsellor)
    page = client.post(f"/tasks/{last.task_id}/done", data={"note": ""}, follow_redirects=True)
    assert "two weeks before it is due" in page.get_data(as_text=True)
    db.session.refresh(last.task)
    assert last.task.done_at is None
    assert _done_audits() == []


def test_a_plan_item_ticked_in_two_places_at_once_is_recorded_once_and_the_second_is_told_who(
    world,
):
    """Before: the tick was set on the loaded task, so a second tab (or a colleague) that had
    loaded the item before the first tick landed recorded it again, its note over the first's,
    with a second audit row."""
    leave = _leave(world)
    item = _department_item(world, leave)
    # The school counsellor's tab loaded the case while the item was still open.
    with Session(db.engine, expire_on_commit=False) as tab:
        stale_leave = tab.get(LeaveOfAbsence, leave.id)
        stale_task = tab.get(Task, item.task_id)
        counsellor = tab.get(User, world.counsellor.id)
        assert stale_task.done_at is None
        assert {i.task_id for i in stale_leave.plan_items} == {item.task_id}
        counsellor.has_role(Role.SCHOOL_COUNSELLOR)
        tab.commit()  # the page was served; its objects stay as they were read

        # The department counsellor ticks her own item first.
        rules.complete_task(db.session, world.dept_counsellor, leave, item.task, "", clock.now())

        with pytest.raises(rules.LeaveError) as refused:
            rules.complete_task(
                tab, counsellor, stale_leave, stale_task, "Exams rebooked", clock.now()
            )
    assert str(refused.value) == f"This was already marked done by {world.dept_counsellor.name}."
    db.session.expire_all()
    task = db.session.get(Task, item.task_id)
    assert task.done_by_id == world.dept_counsellor.id
    assert task.done_note is None
    assert [row.actor_id for row in _done_audits()] == [world.dept_counsellor.id]


def test_ticking_an_item_someone_already_ticked_says_who_on_the_page(world, login):
    leave = _leave(world)
    item = _department_item(world, leave)
    rules.complete_task(db.session, world.dept_counsellor, leave, item.task, "", clock.now())
    client = login(world.counsellor)
    url = f"/referrals/leave/{leave.id}/tasks/{item.task_id}/done"
    page = client.post(url, data={"note": "Exams rebooked"}, follow_redirects=True)
    assert f"This was already marked done by {world.dept_counsellor.name}." in page.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Task, item.task_id).done_note is None
    assert len(_done_audits()) == 1


def test_ticking_an_item_again_in_a_second_tab_says_you_did_it_not_your_own_name(world, login):
    """Before: the counsellor who ticked her item in one tab and again in another was told it
    was already marked done by herself, by name, as if someone else shared her account."""
    leave = _leave(world)
    item = _department_item(world, leave)
    client = login(world.dept_counsellor)
    url = f"/tasks/{item.task_id}/done"
    client.post(url, data={"note": ""})  # the first tab
    page = client.post(url, data={"note": "Exams rebooked"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "You already marked this done." in text
    assert f"already marked done by {world.dept_counsellor.name}" not in text
    db.session.expire_all()
    assert db.session.get(Task, item.task_id).done_note is None
    assert len(_done_audits()) == 1


def test_a_counsellor_ticking_her_own_item_twice_on_the_case_page_is_told_she_did(world, login):
    leave = _leave(world)
    item = rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.PSYCHOLOGICAL,
        "Fortnightly counselling",
        world.counsellor.id,
        date(2027, 2, 15),
    )
    client = login(world.counsellor)
    url = f"/referrals/leave/{leave.id}/tasks/{item.task_id}/done"
    client.post(url, data={"note": ""})
    page = client.post(url, data={"note": ""}, follow_redirects=True)
    assert "You already marked this done." in page.get_data(as_text=True)
    assert len(_done_audits()) == 1


def test_the_plan_names_each_owner_with_their_role_in_the_choice_and_in_the_list(world, login):
    """Before: the owner select and the plan listed bare names, so the counsellor could not tell
    the department counsellor from the dorm informant."""
    leave = _leave(world)
    _department_item(world, leave)
    page = login(world.counsellor).get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    options = page[page.index('id="plan-owner_id"') :]
    options = options[: options.index("</select>")]
    for person, role in (
        (world.dept_counsellor, "Department counsellor"),
        (world.committee, "Class psychology committee member"),
        (world.informant, "Dorm informant"),
        (world.counsellor, "School counsellor"),
    ):
        assert f">{person.name} ({role})</option>" in options
    assert f"{world.dept_counsellor.name} (Department counsellor), due Mon 15 Feb 2027" in page


def test_an_owner_no_longer_around_the_student_is_listed_with_the_roles_they_hold(
    world, campus, login
):
    """The dorm informant moved rooms after the item was given to her: the plan still says who
    she is."""
    leave = _leave(world)
    meals_with_the_informant(world, leave, date(2027, 2, 1))
    (assignment,) = world.informant.assignments(Role.DORM_INFORMANT)
    assignment.room_id = campus.room(world.institution).id
    db.session.commit()
    page = login(world.counsellor).get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert f"{world.informant.name} (Dorm informant), due Mon 1 Feb 2027" in page


def test_a_student_going_on_leave_is_no_longer_her_rooms_informant(world, login):
    """A student on leave (in hospital, at home) stayed her room's only dorm informant: the
    room's check-ins and peer watches went to someone who was not there, and she kept seeing its
    roster."""
    student = world.student
    student.user.roles.append(
        RoleAssignment(
            role=Role.DORM_INFORMANT, institution_id=student.institution_id, room_id=student.room_id
        )
    )
    db.session.commit()
    client = login(student.user)
    assert client.get(f"/warnings/units/room/{student.room_id}").status_code == 200

    _leave(world)

    ended = factories.role_assignment(student.user, Role.DORM_INFORMANT)
    assert ended.ends_at is not None
    assert ended.ended_by_id == world.counsellor.id
    assert client.get(f"/warnings/units/room/{student.room_id}").status_code in (403, 404)
    audited = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_type == "user")
    ).all()
    assert "remove_role" in audited


def test_a_refused_leave_form_comes_back_as_typed_with_the_error_beside_the_date(world, login):
    """Before: a return before the start redirected to a blank form; the student number and both
    dates had to be typed again."""
    client = login(world.counsellor)
    refused = client.post(
        "/referrals/leave",
        data={
            "student_number": world.student.student_number,
            "start_date": "2026-09-14",
            "expected_return_date": "2026-09-01",
            "reason_category": "physical_health",
        },
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    form = page[page.index('<form method="post" novalidate>') :]
    assert f'value="{world.student.student_number}"' in form
    assert 'value="2026-09-14"' in form
    assert 'value="2026-09-01"' in form
    assert '<option selected value="physical_health">' in form
    after_return = form[form.index('id="expected_return_date"') :]
    assert "The expected return must come after the start of the leave." in after_return
    assert db.session.scalars(select(LeaveOfAbsence)).all() == []
