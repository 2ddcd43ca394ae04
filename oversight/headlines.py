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
from oversight.disclosure import Protection
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
    Headline("deadlines", _l("Warning response deadlines met"), ("met",), ("due",)),
    Headline("referrals", _l("Referral closure rate"), ("closed",), ("due",)),
    Headline(
        "reports",
        _l("Weekly reports filed"),
        ("reported_class", "reported_room"),
        ("expected_class", "expected_room"),
    ),
)


# The province-wide figures are rounded under this key, as an institution's are under its id.
PROVINCE_KEY = 0


@dataclass(frozen=True)
class Card:
    headline: Headline
    # A percentage or a count; None when there was nothing to count; in the province view the
    # mark ("< 10") when the figure is too small to publish.
    value: float | str | None
    before: float | str | None

    @property
    def is_rate(self) -> bool:
        return bool(self.headline.denominator)

    @property
    def change(self) -> float | None:
        if not isinstance(self.value, float) or not isinstance(self.before, float):
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


def protected_figure(
    frame: pd.DataFrame, headline: Headline, protection: Protection
) -> float | str | None:
    """The province-wide figure as it may be published: its counts summed over the
    institutions, then hidden when small or randomly rounded (as a total is in the tables),
    and a rate worked out from the rounded counts only; all hidden when the figure is about
    fewer students than the threshold."""
    if len(frame) and int(frame["students"].fillna(0).sum()) < protection.threshold:
        return protection.mark
    top = protection.count(_total(frame, headline.numerator), PROVINCE_KEY)
    if not headline.denominator:
        return top if isinstance(top, str) else float(top)
    bottom = protection.count(_total(frame, headline.denominator), PROVINCE_KEY)
    if isinstance(top, str) or isinstance(bottom, str):
        return protection.mark
    return round(100 * top / bottom, 1) if bottom else None


def _total(frame: pd.DataFrame, columns: tuple[str, ...]) -> int:
    return int(frame[list(columns)].fillna(0).to_numpy().sum()) if len(frame) else 0


def province_cards(
    frames: dict[str, pd.DataFrame], earlier: dict[str, pd.DataFrame], protection: Protection
) -> list[Card]:
    """The headline cards of the province view, from two snapshots' tables, protected."""
    return [
        Card(
            headline,
            protected_figure(frames[headline.kpi_key], headline, protection),
            protected_figure(earlier[headline.kpi_key], headline, protection),
        )
        for headline in HEADLINES
    ]


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
