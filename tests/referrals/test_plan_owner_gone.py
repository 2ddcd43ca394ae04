"""A return-plan item whose owner no longer holds any role around the student is flagged on the
leave page, and the student's case counsellor is told once; nothing is reassigned by itself."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy import select

from campus import admin
from campus import clock
from campus.extensions import db
from campus.models import RoleAssignment
from campus.notifications import Notification
from referrals import leave as rules
from referrals.models import LeaveReason
from referrals.models import PlanSection
from referrals.models import ReturnPlanItem

FLAG = "The owner has left: choose someone else"


def _plan(world):
    data = rules.NewLeave(date(2026, 9, 1), date(2027, 1, 31), LeaveReason.MENTAL_HEALTH)
    leave = rules.start_leave(db.session, world.counsellor, world.student, data, clock.now())
    for owner, text in ((world.dept_counsellor, "Exam delay"), (world.informant, "Meals")):
        rules.add_plan_item(
            db.session,
            world.counsellor,
            leave,
            PlanSection.ACADEMIC,
            text,
            owner.id,
            date(2027, 2, 15),
        )
    return leave


def _notes(user) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.digest_key.like("plan_owner_gone:%"),
            )
        )
    )


def test_an_item_whose_owner_left_is_flagged_and_the_case_counsellor_told_once(world, login):
    world.warning.assigned_counsellor_id = world.counsellor.id
    db.session.commit()
    leave = _plan(world)
    page = login(world.counsellor).get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert FLAG not in page
    assert rules.owner_gone_sweep(db.session, clock.now()) == 0

    role = db.session.scalar(
        select(RoleAssignment).where(RoleAssignment.user_id == world.dept_counsellor.id)
    )
    confirm = login(world.admin).get(
        f"/admin/users/{world.dept_counsellor.id}/roles/{role.id}/remove"
    )
    assert (
        "This person currently holds 1 return-plan item. Once the role ends, the return-plan "
        "items are flagged for the case counsellor to give to someone else."
        in confirm.get_data(as_text=True)
    )
    admin.remove_role(db.session, world.admin, world.institution, role)
    db.session.expire_all()

    assert rules.owner_gone_sweep(db.session, clock.now()) == 1
    assert rules.owner_gone_sweep(db.session, clock.now()) == 0
    (note,) = _notes(world.counsellor)
    assert note.link == f"/referrals/leave/{leave.id}"
    assert [i["params"]["text"] for i in note.detail["items"]] == ["Exam delay"]
    assert _notes(world.director) == []

    page = login(world.counsellor).get(note.link).get_data(as_text=True)
    assert page.count(FLAG) == 1
    # The item stays the departed owner's until someone chooses another: nothing moved by itself.
    owners = db.session.scalars(select(ReturnPlanItem.owner_id).order_by(ReturnPlanItem.id))
    assert list(owners) == [world.dept_counsellor.id, world.informant.id]


def test_with_nobody_on_the_case_the_directors_are_told(world):
    leave = _plan(world)
    world.informant.active = False
    db.session.commit()

    assert rules.owner_gone_sweep(db.session, clock.now()) == 1
    (note,) = _notes(world.director)
    assert [i["params"]["text"] for i in note.detail["items"]] == ["Meals"]
    assert note.link == f"/referrals/leave/{leave.id}"
    assert _notes(world.counsellor) == []


def test_the_counsellor_hands_the_flagged_item_to_someone_else_from_the_page(world, login):
    """Before, the flag asked to choose someone else and the page offered no way to."""
    leave = _plan(world)
    world.dept_counsellor.active = False
    db.session.commit()
    client = login(world.counsellor)
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert page.count(FLAG) == 1
    assert '<details class="hand-over" open>' in page
    gone = db.session.scalars(select(ReturnPlanItem).order_by(ReturnPlanItem.id)).first()

    answer = client.post(
        f"/referrals/leave/{leave.id}/items/{gone.id}/hand-over",
        data={"ho-owner_id": world.informant.id},
    )
    assert answer.status_code == 302
    page = client.get(f"/referrals/leave/{leave.id}").get_data(as_text=True)
    assert FLAG not in page
    assert f"Handed over to {world.informant.name}" in page
    items = db.session.scalars(select(ReturnPlanItem).order_by(ReturnPlanItem.id)).all()
    old, new = items[0], items[-1]
    assert old.task.done_at is not None
    assert old.task.done_by_id == world.counsellor.id
    assert (new.text, new.owner_id, new.due_date) == (
        "Exam delay",
        world.informant.id,
        old.due_date,
    )
    assert new.task.done_at is None
    assert new.task.assignee_user_id == world.informant.id
    assert rules.owner_gone_sweep(db.session, clock.now()) == 0


def test_a_hand_over_to_the_same_owner_or_of_another_cases_item_is_refused(world, login):
    leave = _plan(world)
    item = db.session.scalars(select(ReturnPlanItem).order_by(ReturnPlanItem.id)).first()
    client = login(world.counsellor)
    same = client.post(
        f"/referrals/leave/{leave.id}/items/{item.id}/hand-over",
        data={"ho-owner_id": item.owner_id},
    )
    assert same.status_code == 400  # the page again, saying why
    assert "Choose someone other than its owner now." in same.get_data(as_text=True)
    forged = client.post(
        f"/referrals/leave/{leave.id}/items/999999/hand-over",
        data={"ho-owner_id": world.informant.id},
    )
    assert forged.status_code == 404
    assert db.session.scalar(select(func.count(ReturnPlanItem.id))) == 2
