"""Spreadsheet exports that a spreadsheet cannot turn into formulas."""

from __future__ import annotations

import csv
import io

import pandas as pd

# A cell starting with one of these is read as a formula (or a DDE call) by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would evaluate, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype(object).where(frame.notna(), "")
    out = out.map(neutralise)
    out.columns = [neutralise(str(c)) for c in frame.columns]
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese names correctly."""
    buffer = io.StringIO()
    _safe(frame).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _safe(frame).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()
