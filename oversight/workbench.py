"""What oversight puts on the workbench: this term at a glance, linking to the dashboard (or the
province view) for the term, with figures from the same KPI tables as the dashboard's cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import pgettext
from sqlalchemy.orm import Session

from campus import admin
from campus import clock
from campus.forms import ROLE_LABELS
from campus.local_time import day_words
from campus.models import Role
from campus.models import User
from campus.replica import aggregate_session
from campus.scope import institution_ids
from campus.workbench import Item
from campus.workbench import Urgency
from oversight import access_review
from oversight import headlines
from oversight import kpis
from oversight import periods
from referrals.services import ReferralSettings

# The two figures a director or administrator looks at first each morning.
GLANCE = ("deadlines", "screening")


def this_term(now: datetime) -> periods.Period:
    return periods.term(clock.local_date(now, clock.institution_zone(None)))


def glance(
    session: Session, institution_id: int, term: periods.Period, now: datetime
) -> list[tuple[headlines.Headline, float | None]]:
    """The `GLANCE` headline figures for one institution over `term`."""
    view = kpis.View((institution_id,), term.first, term.last, "institution")
    settings = ReferralSettings.from_config(current_app.config)
    wanted = [h for h in headlines.HEADLINES if h.kpi_key in GLANCE]
    return [
        (h, headlines.figure(kpis.compute(session, kpis.BY_KEY[h.kpi_key], view, now, settings), h))
        for h in wanted
    ]


def dashboard_items(
    session: Session, user: User, now: datetime, roles: Sequence[Role]
) -> list[Item]:
    """This term's headline figures for the first institution the user oversees (as the
    dashboard opens), linking to the dashboard for the term."""
    term = this_term(now)
    figures = glance(aggregate_session(), institution_ids(user, *roles)[0], term, now)
    detail = " · ".join(
        _("%(label)s: %(value)s", label=h.label, value="—" if value is None else f"{value:.1f}%")
        for h, value in figures
    )
    text = _("This term at a glance: %(term)s", term=term.label())
    url = url_for("oversight.dashboard", period=term.key)
    return [Item(0, text, url, Urgency.INFO, detail)]


def province_items(session: Session, user: User, now: datetime) -> list[Item]:
    """The province view for this term: institutions side by side."""
    term = this_term(now)
    text = _("Institutions side by side this term: %(term)s", term=term.label())
    return [Item(0, text, url_for("oversight.province", period=term.key), Urgency.INFO)]


# How many of the unreviewed assignments an overdue review names on the home page.
OVERDUE_NAMED = 5


def access_review_items(session: Session, user: User, now: datetime) -> list[Item]:
    """The latest access review of each institution the user administers, while anything in it
    is unreviewed: how many and by when; once the deadline has passed, who and which roles."""
    found = []
    for institution in admin.administered_institutions(session, user):
        review = access_review.latest_review(session, institution.id)
        if review is None:
            continue
        count = access_review.pending_count(session, review)
        if not count:
            continue
        url = url_for("access_review.index", institution=institution.id)
        deadline = day_words(review.deadline)
        if not access_review.overdue(review, admin.local_today(institution, now)):
            text = ngettext(
                "%(num)s role to review (due %(deadline)s)",
                "%(num)s roles to review (due %(deadline)s)",
                count,
                deadline=deadline,
            )
            found.append(Item(count, text, url, Urgency.THIS_WEEK))
            continue
        late = access_review.pending(session, review, limit=OVERDUE_NAMED)
        named = pgettext("list separator", "; ").join(
            _("%(name)s: %(role)s", name=a.user.name, role=ROLE_LABELS[a.role]) for a in late
        )
        if count > len(late):
            named = _("%(names)s and %(more)s more", names=named, more=count - len(late))
        text = ngettext(
            "%(num)s role not reviewed by the deadline (%(deadline)s)",
            "%(num)s roles not reviewed by the deadline (%(deadline)s)",
            count,
            deadline=deadline,
        )
        found.append(Item(count, text, url, Urgency.OVERDUE, named))
    return found
