"""What the recovery domain puts on the workbench: new referrals for a hospital liaison, stalled
referrals and return-to-school follow-ups due for the centre, counted with the lists' clauses."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from campus.workbench import Figure
from campus.workbench import Group
from campus.workbench import Item
from campus.workbench import Urgency
from referrals import leave
from referrals import permissions
from referrals import services
from referrals import states
from referrals.models import LeaveOfAbsence
from referrals.models import LeaveStatus
from referrals.models import Referral
from referrals.models import ReferralStatus
from referrals.services import ReferralSettings


def new_for_liaison(session: Session, user: User) -> int:
    """Referrals sent to the liaison's hospital with no appointment booked yet."""
    return _count(
        select(Referral.id)
        .join(Student, Student.id == Referral.student_id)
        .where(permissions.liaison_clause(user), Referral.status == ReferralStatus.SENT)
    )(session)


def stalled(session: Session, user: User, now: datetime, settings: ReferralSettings) -> int:
    """Open referrals in the viewer's clinical scope with no update for `stalled_days`."""
    return _count(
        select(Referral.id)
        .join(Student, Student.id == Referral.student_id)
        .where(permissions.counsellor_clause(user), services.stalled_clause(now, settings))
    )(session)


def green_channel_overdue(session: Session, user: User, now: datetime) -> list[int]:
    """Green-channel referrals in the viewer's clinical scope still not booked at their deadline
    (`services.green_channel_overdue_clause`), most overdue first: the referring counsellor's and
    the centre's to chase the hospital for today."""
    return list(
        session.scalars(
            select(Referral.id)
            .join(Student, Student.id == Referral.student_id)
            .where(permissions.counsellor_clause(user), services.green_channel_overdue_clause(now))
            .order_by(Referral.booking_due_at, Referral.id)
        )
    )


def follow_ups_due(session: Session, user: User, now: datetime) -> int:
    """Students back at school whose 1-, 3- or 6-month follow-up is due today or earlier."""
    today = clock.local_date(now, clock.institution_zone(None))
    return _count(
        select(LeaveOfAbsence.id)
        .join(Student, Student.id == LeaveOfAbsence.student_id)
        .where(leave.leave_clause(user), leave.follow_up_due_clause(today))
    )(session)


def _count(query):
    return lambda session: session.scalar(select(func.count()).select_from(query.subquery())) or 0


def liaison_items(session: Session, user: User, now: datetime) -> list[Item]:
    count = new_for_liaison(session, user)
    if not count:
        return []
    text = ngettext(
        "%(num)s new referral from the university",
        "%(num)s new referrals from the university",
        count,
    )
    return [
        Item(count, text, url_for("liaison.index", status=ReferralStatus.SENT.value), Urgency.TODAY)
    ]


def centre_items(session: Session, user: User, now: datetime) -> list[Item]:
    settings = ReferralSettings.from_config(current_app.config)
    items = []
    if overdue := green_channel_overdue(session, user, now):
        text = ngettext(
            "%(num)s green-channel referral has no hospital appointment booked by its deadline: "
            "call the hospital",
            "%(num)s green-channel referrals have no hospital appointment booked by their "
            "deadline: call the hospital",
            len(overdue),
        )
        url = (
            url_for("referrals.detail", referral_id=overdue[0])
            if len(overdue) == 1
            else url_for("referrals.index", overdue=1)
        )
        items.append(Item(len(overdue), text, url, Urgency.OVERDUE))
    if count := follow_ups_due(session, user, now):
        text = ngettext(
            "%(num)s student due for a return-to-school follow-up",
            "%(num)s students due for a return-to-school follow-up",
            count,
        )
        items.append(Item(count, text, url_for("leave.index", follow_ups="due"), Urgency.TODAY))
    if count := stalled(session, user, now, settings):
        text = ngettext(
            "%(num)s referral stalled (no update for %(days)s days)",
            "%(num)s referrals stalled (no update for %(days)s days)",
            count,
            days=settings.stalled_days,
        )
        items.append(Item(count, text, url_for("referrals.index", stalled=1), Urgency.THIS_WEEK))
    return items


def department_overview(
    session: Session, user: User, now: datetime, department_ids: list[int]
) -> list[Group]:
    """On a department's overview card: how many of its students have a referral in progress
    (sent, not yet ended), are on leave, or are back at school with their follow-ups still
    running. Counts only, without a link: referrals and leaves are clinical records the
    department does not read (`permissions.CLINICAL_READERS`); how many there are is what it
    needs to plan for, as the administrator's referral KPIs are per department."""
    in_department = (
        student_filter(user, Capability.WARNING),
        Student.department_id.in_(department_ids),
    )
    referred: dict[int, int] = {
        department_id: count
        for department_id, count in session.execute(
            select(Student.department_id, func.count(Referral.student_id.distinct()))
            .join(Student, Student.id == Referral.student_id)
            .where(*in_department, Referral.status.in_(states.ACTIVE))
            .group_by(Student.department_id)
        ).all()
    }
    leaves: dict[tuple[int, LeaveStatus], int] = {
        (department_id, LeaveStatus(status)): count
        for department_id, status, count in session.execute(
            select(Student.department_id, LeaveOfAbsence.status, func.count())
            .join(Student, Student.id == LeaveOfAbsence.student_id)
            .where(
                *in_department,
                LeaveOfAbsence.status.in_((LeaveStatus.ON_LEAVE, LeaveStatus.RETURNED)),
            )
            .group_by(Student.department_id, LeaveOfAbsence.status)
        ).all()
    }
    groups = []
    for department_id in department_ids:
        figures = (
            Figure(referred.get(department_id, 0), _("Students referred to a hospital")),
            Figure(leaves.get((department_id, LeaveStatus.ON_LEAVE), 0), _("Students on leave")),
            Figure(
                leaves.get((department_id, LeaveStatus.RETURNED), 0),
                _("Back from leave, follow-ups running"),
            ),
        )
        if any(f.count for f in figures):
            heading = _("Referrals and leave (counts only: the records are the centre's)")
            groups.append(Group(department_id, heading, figures, order=3))
    return groups
