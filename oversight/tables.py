"""KPI frames turned into the tables a page and an export show: formatted, suppressed, linked.

Rates with no denominator show "—". In the province view every figure is protected as
`oversight.disclosure` says (small counts "< N", the rest rounded), and no cell links to a
drill-down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from flask_babel import gettext as _

from oversight.disclosure import Protection
from oversight.disclosure import protect
from oversight.kpis import Kpi

DASH = "—"
KEY_COLUMNS = {"department": "department", "month": "month"}


@dataclass(frozen=True)
class Cell:
    value: object
    drill: dict | None = None  # drill-down arguments, when the viewer may open the list


@dataclass(frozen=True)
class Table:
    kpi: Kpi
    headers: list[str]
    rows: list[list[Cell]]

    def frame(self) -> pd.DataFrame:
        """The table exactly as shown, for an export."""
        return pd.DataFrame([[c.value for c in row] for row in self.rows], columns=self.headers)


def _format(value: object, fmt: str) -> object:
    if fmt == "int":
        return int(value)
    if fmt == "bool":
        return _("Yes") if bool(value) else _("No")
    if fmt == "level":
        return {"red": _("Red"), "yellow": _("Yellow"), "blue": _("Blue")}[value]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if fmt == "pct":
        return f"{value:.1%}"
    return f"{value:.1f}"


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
        row = [Cell(record[key]) for key, _label in keys]
        for column, _label, fmt in kpi.columns:
            if protection is not None and record[column] == protection.mark:
                # "< 10" is true of a count; beside a rate or days it read as "under 10 %".
                row.append(Cell(protection.mark if fmt == "int" else _("hidden")))
                continue
            value = _format(record[column], fmt)
            link = None
            if drill and column in kpi.drill and isinstance(value, int) and value > 0:
                link = _drill_args(kpi.drill[column], record, by)
            row.append(Cell(value, link))
        rows.append(row)
    return Table(kpi, headers, rows)


def _drill_args(which: str, record: dict, by: str) -> dict:
    args = {"which": which, "institution": int(record["institution_id"])}
    if by == "department":
        args["department"] = int(record["department_id"])
    if by == "month":
        args["month"] = record["month"]
    return args
