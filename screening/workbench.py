"""What the screening domain puts on the workbench: a student's own screening to do (or done),
the coverage of the open campaigns a staff member set up, from the campaign pages' counts, and a
department's progress in them for its counsellor (a line) and leader (a figure on the
department's overview card), from `screening.progress`."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.i18n import shown_name
from campus.models import User
from campus.workbench import Figure
from campus.workbench import Group
from campus.workbench import Item
from campus.workbench import Urgency
from screening import campaigns
from screening import intake
from screening import progress
from screening.campaigns import Coverage
from screening.models import AssignmentStatus
from screening.models import Campaign

TO_DO = (AssignmentStatus.DUE, AssignmentStatus.STARTED)


def own_statuses(session: Session, user: User, now: datetime) -> list[AssignmentStatus]:
    """The status of each of the student's screenings in campaigns that have opened (as on
    "My screenings")."""
    return [
        a.status(now) for a in intake.own_assignments(session, user) if a.campaign.opens_at <= now
    ]


def student_items(session: Session, user: User, now: datetime) -> list[Item]:
    """The student's screening to do, or that it is done; nothing when none was ever due."""
    statuses = own_statuses(session, user, now)
    to_do = sum(1 for s in statuses if s in TO_DO)
    url = url_for("screening.mine")
    if to_do:
        text = ngettext(
            "You have %(num)s screening to complete",
            "You have %(num)s screenings to complete",
            to_do,
        )
        detail = _(
            "It takes about ten minutes. Each part you finish is kept; to stop halfway through "
            "a part, tap “Save and continue later”."
        )
        return [Item(to_do, text, url, Urgency.TODAY, detail)]
    if AssignmentStatus.COMPLETED in statuses:
        return [Item(0, _("Your screening is completed. Thank you."), url, Urgency.INFO)]
    return []


def open_campaign_coverage(
    session: Session, user: User, now: datetime
) -> list[tuple[Campaign, Coverage]]:
    """Coverage of the open campaigns `user` set up, over the students they may see (the counts
    of the campaign page), in two queries however many campaigns and students."""
    covers = campaigns.tally(
        session,
        user,
        now,
        Campaign.created_by_id == user.id,
        campaigns.open_now(now),
        keys=(Campaign.id,),
    )
    if not covers:
        return []
    found = session.scalars(
        select(Campaign)
        .where(Campaign.id.in_({key[0] for key in covers}))
        .order_by(Campaign.closes_at, Campaign.id)
    )
    return [(campaign, covers[campaign.id,]) for campaign in found]


def campaign_items(session: Session, user: User, now: datetime) -> list[Item]:
    """One line per open campaign the viewer owns: how far its cohort has got."""
    items = []
    for campaign, cover in open_campaign_coverage(session, user, now):
        text = _(
            "%(name)s: %(pct)s%% of the cohort screened",
            name=shown_name(campaign),
            pct=cover.percent_completed,
        )
        detail = _(
            "%(done)s of %(total)s students completed (%(pct)s%%).",
            done=cover.completed,
            total=cover.total,
            pct=cover.percent_completed,
        )
        url = url_for("screening.campaign_detail", campaign_id=campaign.id)
        items.append(Item(cover.completed, text, url, Urgency.INFO, detail))
    return items


def department_items(session: Session, user: User, now: datetime) -> list[Item]:
    """For a department counsellor: one line per open campaign and department of theirs, how
    many of its students due have completed it, linking to who has not (a leader reads it on the
    department's overview card, `department_overview`)."""
    items = []
    for found in progress.open_progress(session, user, now):
        cover = found.coverage
        text = _(
            "%(campaign)s, %(department)s: %(done)s of %(total)s screened",
            campaign=shown_name(found.campaign),
            department=found.department.name,
            done=cover.completed,
            total=cover.total,
        )
        if found.remaining:
            detail = _(
                "%(completed)s completed, %(started)s started but not finished, %(due)s not "
                "started.",
                completed=cover.completed,
                started=cover.started,
                due=cover.due,
            )
        else:
            detail = _("Every student due has completed it.")
        url = url_for(
            "screening.department_progress",
            campaign_id=found.campaign.id,
            department_id=found.department.id,
        )
        urgency = Urgency.THIS_WEEK if found.remaining else Urgency.INFO
        items.append(Item(found.remaining, text, url, urgency, detail))
    return items


def department_overview(
    session: Session, user: User, now: datetime, department_ids: list[int]
) -> list[Group]:
    """On a department's overview card: per open campaign, how many of the department's students
    due have not completed it yet, linking to who (`screening.progress`)."""
    figures: dict[int, list[Figure]] = {}
    for found in progress.open_progress(session, user, now):
        if found.department.id not in department_ids:
            continue
        cover = found.coverage
        figures.setdefault(found.department.id, []).append(
            Figure(
                found.remaining,
                _("%(campaign)s: not completed yet", campaign=shown_name(found.campaign)),
                url_for(
                    "screening.department_progress",
                    campaign_id=found.campaign.id,
                    department_id=found.department.id,
                ),
                detail=_(
                    "%(done)s of %(total)s completed (%(pct)s%%).",
                    done=cover.completed,
                    total=cover.total,
                    pct=cover.percent_completed,
                ),
                wide=True,
            )
        )
    return [
        Group(department_id, _("Screening"), tuple(shown), order=2)
        for department_id, shown in figures.items()
    ]
