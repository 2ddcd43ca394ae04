"""CSV and XLSX exports that a spreadsheet cannot turn into formulas: the one implementation.

A cell starting with = + - @, a tab or a carriage return is read by spreadsheet programs as a
formula (or a DDE call): such text is prefixed with a single quote in both formats. Numbers stay
numbers (a negative number is not text and cannot carry a formula). Every export of the system
goes through here, so the neutralisation is a single rule reviewed once.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value: object) -> object:
    """Text a spreadsheet would evaluate, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cells(frame: pd.DataFrame) -> tuple[list[object], list[list[object]]]:
    header = [neutralise(str(c)) for c in frame.columns]
    clean = frame.astype(object).where(frame.notna(), None)
    rows = [[neutralise(v) for v in row] for row in clean.itertuples(index=False, name=None)]
    return header, rows


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese names correctly."""
    header, rows = _cells(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(frame: pd.DataFrame, title: str = "export") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    header, rows = _cells(frame)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(frame: pd.DataFrame, fmt: str, title: str) -> bytes:
    """The frame as `fmt` ("csv" or "xlsx"); ValueError for any other format."""
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "xlsx":
        return to_xlsx(frame, title)
    raise ValueError(f"unknown export format: {fmt}")
