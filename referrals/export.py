"""Closure exports: the formula-safe CSV and XLSX writers shared by every domain live in
`campus.spreadsheets`; the closure views reach them through this name."""

from __future__ import annotations

from campus.spreadsheets import to_csv
from campus.spreadsheets import to_xlsx

__all__ = ["to_csv", "to_xlsx"]
