"""Actions on a warning: who may do what, optimistic locking, closure, class and dorm tasks."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests.factories import open_warning
from tests.pages import without_tokens
from warning import actions
from warning import review
from warning.labels import tier_label
from warning.models import EarlyWarning
from warning.models import OwnerTier
from warning.models import Task
from warning.models import WarningEvent
from warning.policy import Level

from .response_helpers import LEVEL_WORDS
from .response_helpers import arrange_peer_watch
from .response_helpers import class_peer_watch_policy
from .response_helpers import events
from .response_helpers import open_deadlines


def _all_events(warning) -> int:
    return db.session.scalar(
        select(func.count(WarningEvent.id)).where(WarningEvent.warning_id == warning.id)
    )


def test_two_concurrent_updates_one_wins_and_the_other_is_told(network):
    warning = open_warning(network.student, Level.RED)
    version = warning.version
    with Session(db.engine) as first, Session(db.engine) as second:
        mine = first.get(EarlyWarning, warning.id)
        theirs = second.get(EarlyWarning, warning.id)
        director = first.merge(network.director)
        centre = second.merge(network.school_counsellor)
        actions.acknowledge(first, director, mine, version, clock.now())
        with pytest.raises(actions.StaleWarning):
            actions.record_assessment(
                second, centre, theirs, version, clock.now(), outcome="Moderate risk"
            )
    db.session.expire_all()
    assert events(warning, "acknowledged") == 1
    assert events(warning, "assessment") == 0
    assert "assessment" in open_deadlines(warning)


def test_stale_form_gets_409_with_a_clear_message_and_writes_nothing(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    url = f"/warnings/{warning.id}/actions/contact"
    data = {
        "contact-version": warning.version,
        "contact-method": "phone",
        "contact-outcome": "reached",
    }
    assert client.post(url, data=data).status_code == 302
    before = _all_events(warning)
    response = client.post(url, data={**data, "contact-outcome": "no_answer"})
    assert response.status_code == 409
    assert b"Someone else updated this warning first" in response.data
    assert _all_events(warning) == before


def _contact(actor, warning, outcome: str, note: str | None = None, method: str = "phone"):
    actions.log_contact(
        db.session,
        actor,
        warning,
        warning.version,
        clock.now(),
        method=method,
        outcome=outcome,
        note=note,
    )


def _assess(actor, warning, outcome: str) -> None:
    actions.record_assessment(
        db.session, actor, warning, warning.version, clock.now(), outcome=outcome
    )


def test_contact_meets_the_deadline_writes_the_timeline_and_the_audit_trail(network):
    warning = open_warning(network.student, Level.YELLOW)
    _contact(network.dept_counsellor, warning, "Met in the office", "Sleeping badly", "in_person")
    assert "contact" not in open_deadlines(warning)
    assert events(warning, "contact") == 1
    audited = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "warning.contact"))
    assert audited.student_id == network.student.id


@pytest.mark.parametrize("outcome", ["no_answer", "message_left"])
def test_a_call_that_did_not_reach_her_is_an_attempt_and_the_contact_is_still_owed(
    network, outcome
):
    """An unanswered call had met the 72-hour contact, filled in "last contact" and put the next
    follow-up two weeks away, with the student never reached."""
    warning = open_warning(network.student, Level.YELLOW)
    _contact(network.dept_counsellor, warning, outcome, "Rang twice")
    assert "contact" in open_deadlines(warning)
    assert events(warning, "contact") == 0
    assert events(warning, "contact_attempt") == 1
    assert warning.last_contact_at is None
    assert warning.acknowledged_at is not None  # someone is working on it
    _contact(network.dept_counsellor, warning, "reached")
    assert "contact" not in open_deadlines(warning)
    assert warning.last_contact_at is not None


def test_counsellor_of_another_department_cannot_reach_the_warning(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.other_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/acknowledge", data={"acknowledge-version": 1}
    )
    assert response.status_code == 404
    assert events(warning, "acknowledged") == 0


def test_only_a_school_counsellor_may_close(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    page = client.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "Only a counsellor of the mental health centre closes a warning" in page
    response = client.post(
        f"/warnings/{warning.id}/actions/close",
        data={
            "close-version": warning.version,
            "close-outcome": "Doing well again, no concerns",
            "close-review_date": "2026-12-01",
            "close-confirm": "y",
        },
    )
    assert response.status_code == 403
    assert db.session.get(EarlyWarning, warning.id).status == "open"


def _close_form(warning) -> dict:
    return {
        "close-version": warning.version,
        "close-outcome": "Assessed, stable, outpatient care arranged",
        "close-review_date": "2026-12-01",
        "close-confirm": "y",
    }


def test_the_assessment_form_says_its_outcome_is_read_by_the_department(login, network):
    """The outcome shows on the timeline department staff read; a counsellor who was not told
    so wrote a diagnosis there, next to the note labelled for the centre only."""
    warning = open_warning(network.student, Level.RED)
    page = login(network.school_counsellor).get(f"/warnings/students/{network.student.id}")
    form = page.get_data(as_text=True).split(f'action="/warnings/{warning.id}/actions/assessment')
    assert "Department staff read this on the timeline" in form[1].split("</form>")[0]


def test_a_red_warning_closes_only_after_a_professional_assessment(login, network):
    warning = open_warning(network.student, Level.RED)
    client = login(network.school_counsellor)
    response = client.post(f"/warnings/{warning.id}/actions/close", data=_close_form(warning))
    assert response.status_code == 400
    assert (
        b"A red warning can be closed only after a professional assessment is recorded"
        in response.data
    )
    assert db.session.get(EarlyWarning, warning.id).status == "open"
    assert events(warning, "closed") == 0
    # A contact is not an assessment; the school counsellor's assessment is.
    _contact(network.school_counsellor, warning, "reached")
    refused = client.post(f"/warnings/{warning.id}/actions/close", data=_close_form(warning))
    assert refused.status_code == 400
    _assess(network.school_counsellor, warning, "Stable, outpatient care arranged")
    response = client.post(f"/warnings/{warning.id}/actions/close", data=_close_form(warning))
    assert response.status_code == 302
    assert db.session.get(EarlyWarning, warning.id).status == "closed"


def test_an_assessment_plans_the_reds_weekly_follow_up(network):
    """A walk of a new campus found a red acknowledged, assessed, its family called and its peer
    watch arranged owing nothing more: no weekly follow-up until someone logged a contact."""
    warning = open_warning(network.student, Level.RED)
    _assess(network.school_counsellor, warning, "Low mood, no plan; weekly sessions")
    owed = open_deadlines(warning)
    assert "assessment" not in owed
    assert owed["follow_up"].due_at == clock.now() + timedelta(days=7)
    assert owed["follow_up"].tier == OwnerTier.SCHOOL


def test_closing_ends_deadlines_and_tasks_and_a_new_signal_opens_a_new_warning(login, network):
    warning = open_warning(network.student, Level.RED)
    _assess(network.school_counsellor, warning, "Stable, outpatient care arranged")
    client = login(network.school_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/close",
        data={
            "close-version": warning.version,
            "close-outcome": "Assessed, stable, outpatient care arranged",
            "close-review_date": "2026-12-01",
            "close-confirm": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(EarlyWarning, warning.id)
    assert closed.status == "closed"
    assert closed.review_date == date(2026, 12, 1)
    assert open_deadlines(closed) == {}
    open_tasks = db.session.scalars(
        select(Task).where(Task.warning_id == warning.id, Task.done_at.is_(None))
    ).all()
    # What was owed ended; the one task left is the closer's review, due on the review day.
    assert [(t.kind, t.assignee_user_id) for t in open_tasks] == [
        (review.REVIEW_KIND, network.school_counsellor.id)
    ]
    assert clock.local_date(open_tasks[0].due_at, ZoneInfo("Asia/Shanghai")) == date(2026, 12, 1)
    for area in ("warnings", "casework"):
        page = f"/{area}/students/{network.student.id}"
        assert "review on Tue 1 Dec" in client.get(page).get_data(as_text=True)
    # On the morning of the day she is told once, however often the sweep runs.
    morning = open_tasks[0].due_at - review.REMIND_BEFORE
    assert review.sweep_reviews(db.session, morning - timedelta(minutes=1)) == 0
    assert review.sweep_reviews(db.session, morning) == 1
    assert review.sweep_reviews(db.session, morning + timedelta(hours=1)) == 0
    notes = db.session.scalars(
        select(Notification).where(Notification.text == review.REVIEW_NOTE_TEXT)
    ).all()
    assert [(n.user_id, n.link) for n in notes] == [
        (network.school_counsellor.id, f"/casework/students/{network.student.id}")
    ]
    again = open_warning(network.student, Level.BLUE)
    assert again.id != warning.id


def test_a_closed_warning_lists_when_it_closed_and_its_review_and_the_department_is_told(
    login, network
):
    """The closed list's card read an empty 下一处置时限： with no close date nor review date,
    and the student's department counsellor learned of the closure by finding her gone."""
    warning = open_warning(network.student, Level.YELLOW)
    actions.close(
        db.session,
        network.school_counsellor,
        warning,
        warning.version,
        clock.now(),
        outcome="Doing well again, no concerns",
        review_date=date(2026, 12, 1),
    )
    client = login(network.dept_counsellor)
    page = client.get("/warnings/?status=closed").get_data(as_text=True)
    row = page[page.index(network.student.name) :].split("</tr>", 1)[0]
    assert "Closed on Mon 14 Sep" in row
    assert "review on Tue 1 Dec" in row
    assert 'data-label="Next deadline"' not in row
    (note,) = db.session.scalars(
        select(Notification).where(Notification.text == actions.CLOSED_FOR_DEPARTMENT_TEXT)
    ).all()
    assert note.user_id == network.dept_counsellor.id  # not the leader, not the centre
    assert note.link == f"/warnings/students/{network.student.id}"
    inbox = client.get("/inbox/").get_data(as_text=True)
    line = inbox[inbox.index("has closed a warning") :].split("</li>", 1)[0]
    assert network.student.name in line  # named in the app
    assert "Doing well again" not in inbox  # the outcome is the centre's
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.notification_id == note.id))
    for mail in mails:
        assert network.student.name not in mail.subject + mail.body


def test_closing_with_a_past_review_date_is_refused_and_writes_nothing(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.school_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/close",
        data={
            "close-version": warning.version,
            "close-outcome": "Doing well again, no concerns",
            "close-review_date": "2026-01-01",
            "close-confirm": "y",
        },
    )
    assert response.status_code == 400
    assert b"review date must be in the future" in response.data
    assert db.session.get(EarlyWarning, warning.id).status == "open"
    assert "contact" in open_deadlines(warning)


def test_malformed_form_is_refused_with_an_error(login, network):
    warning = open_warning(network.student, Level.YELLOW)
    client = login(network.dept_counsellor)
    response = client.post(
        f"/warnings/{warning.id}/actions/contact",
        data={"contact-version": "x", "contact-method": "telepathy"},
    )
    assert response.status_code == 400
    assert events(warning, "contact") == 0


def test_peer_watch_task_is_visible_to_the_class_committee_without_level_or_score(login, network):
    warning = open_warning(network.student, Level.RED)
    arrange_peer_watch(warning, network.dept_counsellor)
    client = login(network.class_committee)
    page = client.get("/tasks")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Please keep company with 张三 and see how they are doing" in html
    for word in LEVEL_WORDS:
        assert word not in without_tokens(html)
    assert warning.reason not in html


def test_dorm_informant_completes_the_peer_watch_and_meets_the_deadline(login, network):
    """A campus whose policy makes the class owe a red's peer watch: the room's task meets it."""
    class_peer_watch_policy(network.institution.id)
    warning = open_warning(network.student, Level.RED)
    assert open_deadlines(warning)["peer_watch"].tier == OwnerTier.CLASS
    task = db.session.scalar(
        select(Task).where(Task.warning_id == warning.id, Task.assignee_room_id.is_not(None))
    )
    client = login(network.dorm_informant)
    response = client.post(f"/tasks/{task.id}/done", data={"note": "We eat together"})
    assert response.status_code == 302
    db.session.expire_all()
    assert "peer_watch" not in open_deadlines(warning)
    # Before its last day the tap was a day's company: the watch goes on, once a day.
    again = client.post(f"/tasks/{task.id}/done", data={"note": "twice"})
    assert again.status_code == 302
    assert db.session.get(Task, task.id).done_at is None
    notes = db.session.scalars(
        select(WarningEvent.note).where(WarningEvent.kind == "peer_check_in")
    ).all()
    assert notes == ["We eat together"]


def test_what_the_peer_wrote_reaches_the_staff_on_the_timeline(login, network):
    """The note was stored on the task and shown to no one; the timeline read the raw
    "task_done peer_watch". The peer watch the department counsellor arranged met its deadline
    when she asked for it: what the informant writes at the end of the watch still reaches her."""
    warning = open_warning(network.student, Level.RED)
    _class_task, task = arrange_peer_watch(warning, network.dept_counsellor)
    clock.set_now(task.due_at - timedelta(hours=1))  # the watch's last day: the tap ends it
    login(network.dorm_informant).post(
        f"/tasks/{task.id}/done", data={"note": "She cannot sleep even with pills"}
    )
    staff = login(network.dept_counsellor)
    page = staff.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "She cannot sleep even with pills" in page
    assert "Done by the class or dorm" in page
    # What she did: kept company; arranging the watch was the counsellor's step.
    assert "kept the student company" in page
    assert "Arrange the peer watch" not in page.split("Done by the class or dorm", 1)[1][:300]
    assert "task_done" not in page
    staff.post("/language/zh_CN", data={"next": "/"})
    page = staff.get(f"/warnings/students/{network.student.id}").get_data(as_text=True)
    assert "task_done" not in page
    assert "班级或宿舍已完成" in page


def test_a_task_of_another_room_cannot_be_completed(login, network, campus):
    warning = open_warning(network.student, Level.RED)
    _class_task, task = arrange_peer_watch(warning, network.dept_counsellor)
    other_room = campus.room(network.institution, "303")
    stranger = campus.staff(network.institution, Role.DORM_INFORMANT, room=other_room)
    campus.commit()
    client = login(stranger)
    assert client.post(f"/tasks/{task.id}/done", data={}).status_code == 404
    assert db.session.get(Task, task.id).done_at is None


def test_department_counsellor_sees_own_deadlines_in_the_task_list(login, network):
    open_warning(network.student, Level.YELLOW)
    open_warning(network.other_student, Level.YELLOW)
    html = login(network.dept_counsellor).get("/tasks").get_data(as_text=True)
    assert "张三" in html
    assert "Contact the student" in html
    assert "李四" not in html
    audited = db.session.scalars(
        select(AuditEvent.student_id).where(AuditEvent.record_type == "deadline")
    ).all()
    assert audited == [network.student.id]


def test_follow_up_later_than_the_cadence_is_refused(network):
    warning = open_warning(network.student, Level.YELLOW)
    with pytest.raises(actions.InvalidAction):
        actions.schedule_follow_up(
            db.session,
            network.dept_counsellor,
            warning,
            warning.version,
            clock.now(),
            due_at=clock.now() + timedelta(days=30),
        )
    assert events(warning, "follow_up_scheduled") == 0


def test_manual_escalation_moves_one_tier_up_and_notifies(network, login):
    warning = open_warning(network.student, Level.YELLOW)
    # The form says to whom it goes before it is sent: the next tier and who holds it.
    page = login(network.dept_counsellor).get(f"/warnings/students/{network.student.id}")
    hint = f"It goes to {tier_label(OwnerTier.SCHOOL)}: {network.school_counsellor.name}."
    assert hint in page.get_data(as_text=True)
    actions.escalate_manually(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        clock.now(),
        reason="Student stopped answering, family worried",
    )
    assert warning.owner_tier == 4
    assert events(warning, "escalated") == 1


def test_asking_for_peer_watch_twice_lists_one_task_per_addressee(network):
    """The department counsellor asked class and dorm to keep company for three days; the
    centre's request for a week extends that task instead of adding a second, identical one."""
    warning, counsellor = open_warning(network.student, Level.RED), network.school_counsellor
    arrange_peer_watch(warning, network.dept_counsellor, days=3)
    later = clock.now() + timedelta(days=7)
    actions.assign_peer_watch(
        db.session, counsellor, warning, warning.version, clock.now(), due_at=later
    )
    db.session.commit()
    tasks = db.session.scalars(
        select(Task).where(Task.warning_id == warning.id, Task.kind == "peer_watch")
    ).all()
    addressees = [(t.assignee_class_id, t.assignee_room_id) for t in tasks]
    assert len(addressees) == len(set(addressees)) == 2
    assert all(t.due_at == later for t in tasks)


def test_a_scheduled_follow_up_reads_in_local_time_on_the_timeline(login, network):
    """Clock at 02:00 UTC on 14 September; a follow-up at 12:15 UTC on 20 September is 20:15 in
    Shanghai and the timeline says so, to the minute, in words (its machine-readable time keeps
    the offset)."""
    warning = open_warning(network.student, Level.YELLOW)
    actions.schedule_follow_up(
        db.session,
        network.dept_counsellor,
        warning,
        warning.version,
        clock.now(),
        due_at=datetime(2026, 9, 20, 12, 15),
    )
    html = login(network.dept_counsellor).get(f"/warnings/students/{network.student.id}").text
    assert "Sun 20 Sep 20:15" in html
    assert 'datetime="2026-09-20T20:15+08:00"' in html
    assert "2026-09-20T12:15" not in html
