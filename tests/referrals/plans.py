"""Return-plan items the leave tests give, named for who owns them."""

from __future__ import annotations

from datetime import date

from campus.extensions import db
from referrals import leave as rules
from referrals.models import LeaveOfAbsence
from referrals.models import PlanSection
from referrals.models import ReturnPlanItem


def meals_with_the_informant(world, leave: LeaveOfAbsence, due: date) -> ReturnPlanItem:
    """The dorm informant keeps the student company at meals: a plan item a peer owns."""
    return rules.add_plan_item(
        db.session,
        world.counsellor,
        leave,
        PlanSection.DAILY_LIFE,
        "Company at meals",
        world.informant.id,
        due,
    )
