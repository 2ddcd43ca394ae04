"""Statistical disclosure control for the province view: what a published figure may reveal.

The rule, applied when a table is shown or exported (never to the stored snapshot):

1. Primary suppression. A count from 1 to threshold - 1 is shown as "< threshold", and so is
   every figure of a group about fewer than `threshold` students. A zero names no one and is shown.
2. Random rounding. Every other count is rounded to a multiple of ROUNDING_BASE, up with
   probability remainder / base and down otherwise (unbiased). The draw is a keyed hash of the
   institution and the count, so one number of one institution is always rounded the same way,
   in every table, grouping, period, page and export: a figure that does not change with the
   period (today's roll, referrals stalled now) cannot be asked for again and again until the
   share of "up" roundings gives it away. Totals are rounded on their own, not summed from
   rounded parts.
3. Rates, percentages and per-10,000 figures are computed from the rounded counts; a rate over a
   hidden count is hidden. Medians and percentiles of days are shown only over at least
   `threshold` closed referrals.

Why rounding and not cell suppression with complementary cells: the auditor chooses any period
(up to 36 months), so every figure is one of many overlapping sums. Complementary suppression
protects one fixed table; across freely chosen periods "months 1-6 minus months 2-6" gives a
hidden month back exactly. With every count rounded, any difference of published figures is
uncertain by up to 2 x (base - 1) and yields a range of values, never the hidden count; this is the
approach statistics offices take for flexible tables (ONS random rounding, ABS perturbation).
The hash is keyed with the application's secret so the direction of rounding cannot be predicted
from outside and undone.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass

ROUNDING_BASE = 5
STAFF_COUNTS = {("staffing", "teachers"), ("staffing", "needed")}  # staff, not students
# (kpi, rate column) -> (numerator, denominator, scale): rates are recomputed from rounded counts.
RATES = {
    ("screening", "coverage"): ("screened", "cohort", 1),
    ("service", "coverage"): ("contacted", "warned", 1),
    ("staffing", "students_per_teacher"): ("enrolled", "teachers", 1),
    ("crisis", "per_10000"): ("incidents", "enrolled", 10_000),
    ("deadlines", "compliance"): ("met", "due", 1),
    ("referrals", "closure_rate"): ("closed", "due", 1),
    ("reports", "class_compliance"): ("reported_class", "expected_class", 1),
    ("reports", "room_compliance"): ("reported_room", "expected_room", 1),
}
# (kpi, statistic column) -> the count it is computed over.
STATISTICS_OVER = {("referrals", "median_days"): "closed", ("referrals", "p90_days"): "closed"}
# Yes/no against a standard and a level's name are no counts: shown unless the group is small.
UNPROTECTED_FORMATS = {"bool", "level"}


@dataclass(frozen=True)
class Protection:
    """How the province tables are protected: the threshold and the rounding's secret key."""

    threshold: int
    secret: str
    base: int = ROUNDING_BASE

    @property
    def mark(self) -> str:
        return f"< {self.threshold}"

    def count(self, value: int, institution_id: int) -> int | str:
        """A published count: 0 as is, a small one hidden, any other randomly rounded."""
        if value == 0:
            return 0
        if value < self.threshold:
            return self.mark
        low, remainder = divmod(value, self.base)
        if remainder == 0:
            return value
        message = f"{institution_id}|{value}".encode()
        digest = hmac.new(self.secret.encode(), message, hashlib.sha256).digest()
        up = int.from_bytes(digest[:8], "big") % self.base < remainder
        return (low + up) * self.base


def protect(
    kpi_key: str, columns: list[tuple[str, str]], record: dict, protection: Protection
) -> dict:
    """`record` with every figure of `columns` ((column, format) pairs) as it may be published:
    counts rounded or replaced by the mark, rates from the rounded counts."""
    out = dict(record)
    if record["students"] < protection.threshold:
        for column, fmt in columns:
            if fmt != "level":
                out[column] = protection.mark
        return out
    institution_id = int(record["institution_id"])
    for column, fmt in columns:
        if fmt == "int" and (kpi_key, column) not in STAFF_COUNTS:
            out[column] = protection.count(int(record[column]), institution_id)
    for column, fmt in columns:
        if fmt == "int" or fmt in UNPROTECTED_FORMATS:
            continue
        out[column] = _derived(kpi_key, column, record, out, protection)
    return out


def _derived(kpi_key: str, column: str, raw: dict, shown: dict, protection: Protection) -> object:
    """A rate from the published counts, or a statistic shown only over enough cases; a figure
    nobody declared here is hidden rather than risked."""
    if (kpi_key, column) in RATES:
        numerator, denominator, scale = RATES[kpi_key, column]
        top, bottom = shown[numerator], shown[denominator]
        if isinstance(top, str) or isinstance(bottom, str):
            return protection.mark
        return top * scale / bottom if bottom else math.nan
    over = STATISTICS_OVER.get((kpi_key, column))
    if over is not None and not 0 < raw[over] < protection.threshold:
        return raw[column]
    return protection.mark
