"""Summary cards above the dashboard's tables: a few headline figures for the whole view and how
each moved since the period before. Each is the total of a KPI table (`kpis.KPIS`) as the page
shows it, so a card and its table always agree; the definitions are the tables'. The period
before is computed grouped the same way, so the two figures count the same things."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from oversight import kpis
from referrals.services import ReferralSettings


@dataclass(frozen=True)
class Headline:
    kpi_key: str
    label: object
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()  # none: the figure is a count, not a rate


HEADLINES = (
    Headline("screening", _l("Screening coverage"), ("screened",), ("cohort",)),
    Headline("service", _l("Service coverage"), ("contacted",), ("warned",)),
    Headline("crisis", _l("Red warnings opened"), ("incidents",)),
    Headline("deadlines", _l("Deadlines met on time"), ("met",), ("due",)),
    Headline("referrals", _l("Referral closure rate"), ("closed",), ("due",)),
    Headline(
        "reports",
        _l("Weekly reports filed"),
        ("reported_class", "reported_room"),
        ("expected_class", "expected_room"),
    ),
)


@dataclass(frozen=True)
class Card:
    headline: Headline
    value: float | None  # a percentage or a count; None when there was nothing to count
    before: float | None

    @property
    def is_rate(self) -> bool:
        return bool(self.headline.denominator)

    @property
    def change(self) -> float | None:
        if self.value is None or self.before is None:
            return None
        return round(self.value - self.before, 1)


def figure(frame: pd.DataFrame, headline: Headline) -> float | None:
    """The headline's figure over every row of a KPI table: a rate in percent, or a count."""
    total = float(frame[list(headline.numerator)].fillna(0).to_numpy().sum()) if len(frame) else 0.0
    if not headline.denominator:
        return total
    base = (
        float(frame[list(headline.denominator)].fillna(0).to_numpy().sum()) if len(frame) else 0.0
    )
    return round(100 * total / base, 1) if base else None


def cards(
    session: Session,
    frames: dict[str, pd.DataFrame],
    before: kpis.View,
    now: datetime,
    settings: ReferralSettings,
) -> list[Card]:
    """One card per headline from the tables shown (`frames`), with the same figure for the
    period `before` (only the headline tables are computed again)."""
    shown = []
    for headline in HEADLINES:
        kpi = kpis.BY_KEY[headline.kpi_key]
        earlier = kpis.compute(session, kpi, before, now, settings)
        shown.append(Card(headline, figure(frames[kpi.key], headline), figure(earlier, headline)))
    return shown
