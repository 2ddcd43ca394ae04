"""KPI frames turned into the tables a page and an export show: formatted, suppressed, linked.

Rates with no denominator show "—". In the province view every figure is protected as
`oversight.disclosure` says (small counts "< N", the rest rounded), and no cell links to a
drill-down. A spreadsheet gets each rate as the number the page shows, with a percent format, so
an administrator can sum or chart it; a hidden or missing figure stays the text the page shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Number

import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from oversight.disclosure import Protection
from oversight.disclosure import protect
from oversight.kpis import Kpi

DASH = "—"
KEY_COLUMNS = {"department": "department", "month": "month"}
# A warning level as the dashboard, its charts, its lists and their files name it.
LEVEL_LABELS = {"red": _l("Red"), "yellow": _l("Yellow"), "blue": _l("Blue")}
# The Excel number format of a figure shown as text on the page, by the KPI column's format:
# the same precision the page shows, so the sheet says what the page says.
SHEET_FORMATS = {"pct": "0.0%", "num": "0.0"}
_SHEET_DIGITS = {"pct": 3, "num": 1}


@dataclass(frozen=True)
class Cell:
    value: object
    drill: dict | None = None  # drill-down arguments, when the viewer may open the list
    number: float | None = None  # a rate or figure shown as text, as the number it reads
    words: str | None = None  # how a page says `value` (`|timed(words)`): "month" for 2026年11月


@dataclass(frozen=True)
class Table:
    kpi: Kpi
    headers: list[str]
    rows: list[list[Cell]]

    def frame(self) -> pd.DataFrame:
        """The table exactly as shown, for an export."""
        return pd.DataFrame([[c.value for c in row] for row in self.rows], columns=self.headers)

    def sheet(self) -> tuple[pd.DataFrame, dict[str, str]]:
        """The table for a workbook: rates and figures as numbers (rounded as the page shows
        them, never more precise), with the Excel number format of each such column. Cells the
        page shows as text (hidden, "< 10", "—") stay that text."""
        frame = pd.DataFrame(
            [[c.value if c.number is None else c.number for c in row] for row in self.rows],
            columns=self.headers,
            dtype=object,
        )
        keys = len(self.headers) - len(self.kpi.columns)
        formats = {
            self.headers[keys + i]: SHEET_FORMATS[fmt]
            for i, (_column, _label, fmt) in enumerate(self.kpi.columns)
            if fmt in SHEET_FORMATS
        }
        return frame, formats


def _format(value: float | str | None, fmt: str) -> object:
    """A KPI cell as the page shows it: a number (a count, a yes/no), or text."""
    if fmt == "int" and value is not None:
        return int(value)
    if fmt == "bool":
        return _("Yes") if bool(value) else _("No")
    if fmt == "level":
        return str(LEVEL_LABELS[str(value)])
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if fmt == "pct":
        return f"{value:.1%}"
    return f"{value:.1f}"


def _number(value: object, fmt: str) -> float | None:
    """The number a text figure reads as, to the page's precision; None for no number. Any
    kind of number: PostgreSQL's medians come back as Decimal, pandas' counts as numpy ints."""
    if fmt not in _SHEET_DIGITS or not isinstance(value, Number) or isinstance(value, bool):
        return None
    number = float(value)  # type: ignore[arg-type]  # every Number this meets converts
    if math.isnan(number):
        return None
    return round(number, _SHEET_DIGITS[fmt])


def _key_headers(by: str) -> list[tuple[str, str]]:
    keys = [("institution", _("Institution"))]
    if by == "department":
        keys.append(("department", _("Department")))
    elif by == "month":
        keys.append(("month", _("Month")))
    return keys


def build(
    kpi: Kpi,
    frame: pd.DataFrame,
    by: str,
    *,
    protection: Protection | None = None,
    drill: bool = False,
) -> Table:
    """Format `frame`; `protection` applies disclosure control (province), `drill` adds links."""
    by = by if by in kpi.groupings else kpi.groupings[0]
    keys = _key_headers(by)
    headers = [label for _key, label in keys] + [str(label) for _c, label, _f in kpi.columns]
    formats = [(column, fmt) for column, _label, fmt in kpi.columns]
    rows = []
    for record in frame.to_dict("records"):
        if protection is not None:
            record = protect(kpi.key, formats, record, protection)
        # A month row reads in words on the page (2026年11月); its file keeps 2026-11.
        row = [Cell(record[key], words="month" if key == "month" else None) for key, _l in keys]
        for column, _label, fmt in kpi.columns:
            if protection is not None and record[column] == protection.mark:
                # "< 10" is true of a count; beside a rate or days it read as "under 10 %".
                row.append(Cell(protection.mark if fmt == "int" else _("hidden")))
                continue
            value = _format(record[column], fmt)
            link = None
            if drill and column in kpi.drill and isinstance(value, int) and value > 0:
                link = _drill_args(kpi.drill[column], record, by)
            row.append(Cell(value, link, _number(record[column], fmt)))
        rows.append(row)
    return Table(kpi, headers, rows)


def _drill_args(which: str, record: dict, by: str) -> dict:
    args = {"which": which, "institution": int(record["institution_id"])}
    if by == "department":
        args["department"] = int(record["department_id"])
    if by == "month":
        args["month"] = record["month"]
    return args
