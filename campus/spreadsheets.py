"""CSV and XLSX in and out: the one reader of imported files and the one formula-safe writer.

Imports (roster, paper screenings, registrar data) are read here as text cells, so every import
refuses the same wrong files with the same clear reasons before its own row checks run. Reasons are
`Message`s: English for the command line, in the viewer's language on the import pages.

A cell starting with = + - @, a tab or a carriage return is read by spreadsheet programs as a
formula (or a DDE call): such text is prefixed with a single quote in both formats. Numbers stay
numbers (a negative number is not text and cannot carry a formula). Every export of the system
goes through here, so the neutralisation is a single rule reviewed once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from openpyxl import Workbook

from campus.i18n import N_, Message, shown

MAX_IMPORT_ROWS = 100_000


class ImportFileError(ValueError):
    """A file that cannot be imported as a whole. Pages show `str(error)`, so it reads in the
    viewer's language there and in English on the command line."""

    def __str__(self) -> str:
        return shown(self.args[0])


@dataclass
class RowError:
    """One bad row of an imported file; `line` as a person sees the file (the header is line 1)."""

    line: int
    student_number: str
    reason: str  # English; a Message when it can also be shown in the viewer's language

    def shown_reason(self) -> str:
        return shown(self.reason)


def read_table(
    filename: str, payload: bytes, *, required: Sequence[str], error: type[ImportFileError]
) -> pd.DataFrame:
    """CSV or XLSX as stripped text cells under lower-case column names.

    A file that cannot be used as a whole (wrong type, unreadable, missing columns, empty, too
    large) raises the caller's `error` class with a reason a person can act on.
    """
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("csv", "xlsx"):
        raise error(Message(N_("Only CSV or XLSX files can be imported.")))
    try:
        if suffix == "csv":
            frame = pd.read_csv(
                io.BytesIO(payload), dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
        else:
            frame = pd.read_excel(io.BytesIO(payload), dtype=str, engine="openpyxl").fillna("")
    except (
        UnicodeDecodeError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        ValueError,
        KeyError,
        OSError,
    ) as exc:
        raise error(
            Message(
                N_("The file could not be read as %(format)s: %(detail)s"),
                format=suffix.upper(),
                detail=str(exc),
            )
        ) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise error(Message(N_("Missing columns: %(columns)s."), columns=", ".join(missing)))
    if frame.empty:
        raise error(Message(N_("The file has no rows.")))
    if len(frame) > MAX_IMPORT_ROWS:
        raise error(
            Message(N_("At most %(limit)s rows can be imported at once."), limit=MAX_IMPORT_ROWS)
        )
    return frame.reset_index(drop=True).apply(lambda col: col.astype(str).str.strip())


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
