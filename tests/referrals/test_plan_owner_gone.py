"""A return-plan item whose owner no longer holds any role around the student is flagged on the
leave page, and the student's case counsellor is told once; nothing is reassigned by itself."""

from __future__ import annotations

from datetime import date

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
