"""What oversight puts on the workbench: this term at a glance, linking to the dashboard (or the
province view) for the term, with figures from the same KPI tables as the dashboard's cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from campus import clock
from campus.models import Role, User
from campus.replica import aggregate_session
from campus.scope import institution_ids
from campus.workbench import Item, Urgency
from oversight import headlines, kpis, periods
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
