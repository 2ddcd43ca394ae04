"""A mistaken return-plan item: a due date before the leave (or the return) is refused, saying
which day is allowed; an item added by mistake is withdrawn with a reason, kept in the plan as
withdrawn, and no longer prints on the opinion nor holds up the closure."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from referrals import documents
from referrals import leave as rules
from referrals.models import LeaveReason
from referrals.models import PlanSection
from referrals.models import ReturnAssessment
from referrals.models import ReturnPlanItem
from warning.models import Task


def _leave(world):
    data = rules.NewLeave(date(2026, 9, 1), date(2027, 1, 31), LeaveReason.MENTAL_HEALTH)
    return rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())


def _assessed(world, leave):
    rules.record_statement(
        db.session, world.counsellor, leave, date(2026, 9, 10), "Brain Hospital", "Stable",
        clock.now().date(),
    )  # fmt: skip
    rules.record_assessment(
        db.session, world.counsellor, leave, ReturnAssessment.FIT_TO_RETURN, "Stable", clock.now()
    )


def _counselling(world, leave, due=date(2027, 3, 15)) -> ReturnPlanItem:
    return rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.PSYCHOLOGICAL,
        "Fortnightly counselling",
        world.dept_counsellor.id,
        due,
    )


def test_an_item_due_before_the_leave_started_is_refused_naming_the_first_day_allowed(world, login):
    leave = _leave(world)
    db.session.commit()
    client = login(world.counsellor)
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    token = page.split('name="plan-submission" type="hidden" value="', 1)[1][:32]
    refused = client.post(
        f"/referrals/leave/{leave.id}/plan",
        data={
            "plan-submission": token,
            "plan-section": "psychological",
            "plan-text": "Fortnightly counselling",
            "plan-owner_id": world.counsellor.id,
            "plan-due_date": "2026-08-01",
        },
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "cannot come before the leave started (Tue 1 Sep): choose that day or later" in text
    assert 'value="Fortnightly counselling"' in text  # what she typed is kept
    assert db.session.scalars(select(ReturnPlanItem)).all() == []


def test_after_the_return_an_item_cannot_be_due_before_it(world):
    leave = _leave(world)
    _assessed(world, leave)
    rules.approve_return(db.session, world.counsellor, leave, date(2026, 10, 1))
    with pytest.raises(rules.LeaveError, match="before the return"):
        _counselling(world, leave, due=date(2026, 9, 20))
    db.session.rollback()
    assert _counselling(world, leave, due=date(2026, 10, 1)).due_date == date(2026, 10, 1)


def test_a_withdrawn_item_stays_marked_leaves_its_owners_list_and_the_opinion(world, login):
    leave = _leave(world)
    mistaken = _counselling(world, leave)
    kept = _counselling(world, leave, due=date(2027, 3, 20))
    kept_text = "Reduced course load"
    kept.text = kept_text
    db.session.commit()
    client = login(world.counsellor)
    url = f"/referrals/leave/{leave.id}/items/{mistaken.id}/withdraw"

    blank = client.post(url, data={"wd-reason": " "})
    assert blank.status_code == 400
    assert "Say why the item is withdrawn." in blank.get_data(as_text=True)

    client.post(url, data={"wd-reason": "Entered for the wrong student"})
    db.session.expire_all()
    item = db.session.get(ReturnPlanItem, mistaken.id)
    assert item is not None  # kept, never deleted
    assert (item.withdrawn_by_id, item.withdrawn_reason) == (
        world.counsellor.id,
        "Entered for the wrong student",
    )
    assert item.withdrawn_at == clock.now()
    task = db.session.get(Task, item.task_id)
    assert task.done_at is not None  # closed: off its owner's list
    assert task.done_by_id is None  # nobody's tick
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert f"withdrawn Mon 14 Sep 10:00 by {world.counsellor.name}" in page
    assert "Entered for the wrong student" in page
    assert "<s>Fortnightly counselling</s>" in page

    _assessed(world, leave)
    opinion = documents.return_opinion(leave, "", rules.owner_roles(db.session, leave))
    assert opinion is not None
    assert [line.text for line in opinion.plan] == [kept_text]
    assert [t.id for t in rules.outstanding(leave)] == [kept.task_id]

    again = client.post(url, data={"wd-reason": "twice"}, follow_redirects=True)
    assert "This item was already withdrawn." in again.get_data(as_text=True)
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "return_plan_item_withdrawn")
    ).all()
    assert [(a.actor_id, a.student_id) for a in audited] == [
        (world.counsellor.id, world.student.id)
    ]
