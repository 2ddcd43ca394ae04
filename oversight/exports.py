"""Dashboard exports: the formula-safe CSV and XLSX writers shared by every domain live in
`campus.spreadsheets`; oversight's views and tests reach them through this name."""

from __future__ import annotations

from campus.spreadsheets import MEDIA_TYPES
from campus.spreadsheets import render
from campus.spreadsheets import to_csv
from campus.spreadsheets import to_xlsx

__all__ = ["MEDIA_TYPES", "render", "to_csv", "to_xlsx"]
