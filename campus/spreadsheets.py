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
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

import pandas as pd
from flask import current_app
from openpyxl import Workbook
from sqlalchemy.orm import Session

from campus import audit
from campus.clean_input import without_controls
from campus.i18n import N_, Message, shown
from campus.models import User

# An XLSX is a zip: its declared sizes are checked before anything is decompressed. Python's
# zipfile never inflates an entry past its declared size (it stops with a CRC error), so a file
# that lies about its sizes is refused as unreadable instead of expanding.
XLSX_MAX_ENTRIES = 500
XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024
XLSX_MAX_RATIO = 100  # real sheets compress about 10:1; zip bombs by thousands to one
XLSX_RATIO_FROM = 1024 * 1024  # tiny entries can compress far better than that, harmlessly


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


@dataclass
class ImportReport:
    """What an import of a file found and did, for its page: the rows read, the bad ones, and
    whether anything was written. Each import adds its own counts, and names its audit row."""

    audit_action: ClassVar[str]
    audit_record_type: ClassVar[str]

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False

    @property
    def bad_lines(self) -> set[int]:
        """The lines with at least one error (a row can have several)."""
        return {e.line for e in self.errors}


Report = TypeVar("Report", bound=ImportReport)


def commit_import(
    session: Session,
    report: Report,
    actor: User | None,
    institution_id: int,
    detail: str,
    record_id: int | None = None,
) -> Report:
    """Commit an import's rows together with its audit row (what was imported, by whom, with the
    counts in `detail`); the report then says it was imported."""
    audit.record(
        session,
        actor=actor,
        action=report.audit_action,
        record_type=report.audit_record_type,
        record_id=record_id,
        institution_id=institution_id,
        detail=detail,
    )
    session.commit()
    report.imported = True
    return report


def read_table(
    filename: str,
    payload: bytes,
    *,
    required: Sequence[str],
    error: type[ImportFileError],
    kind: str,
) -> pd.DataFrame:
    """CSV or XLSX as stripped text cells under lower-case column names.

    A file that cannot be used as a whole (wrong type, unreadable, a zip bomb, missing columns,
    empty, more rows than the `kind` of import allows in IMPORT_MAX_ROWS) raises the caller's
    `error` class with a reason a person can act on; no more rows than the limit are parsed.
    Control characters are removed from every cell, as from every form (campus.clean_input).
    """
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("csv", "xlsx"):
        raise error(Message(N_("Only CSV or XLSX files can be imported.")))
    limit = current_app.config["IMPORT_MAX_ROWS"][kind]
    if suffix == "csv":
        frame = _read_csv(payload, limit + 1, error)
    else:
        frame = _read_xlsx(payload, limit + 1, error)
    frame.columns = [without_controls(str(c)).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise error(Message(N_("Missing columns: %(columns)s."), columns=", ".join(missing)))
    if frame.empty:
        raise error(Message(N_("The file has no rows.")))
    if len(frame) > limit:
        raise error(Message(N_("At most %(limit)s rows can be imported at once."), limit=limit))
    return frame.reset_index(drop=True).apply(
        lambda col: col.astype(str).map(without_controls).str.strip()
    )


def _read_csv(payload: bytes, nrows: int, error: type[ImportFileError]) -> pd.DataFrame:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            Message(N_('The CSV file is not UTF-8 text. Save it as "CSV UTF-8" and try again.'))
        ) from exc
    try:
        return pd.read_csv(
            io.StringIO(without_controls(text)), dtype=str, keep_default_na=False, nrows=nrows
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise error(
            Message(
                N_("The file could not be read as %(format)s: %(detail)s"),
                format="CSV",
                detail=str(exc),
            )
        ) from exc


def _read_xlsx(payload: bytes, nrows: int, error: type[ImportFileError]) -> pd.DataFrame:
    """The first sheet, after the archive passed `_check_xlsx_archive`; read-only and streaming
    (pandas opens it with openpyxl's read_only mode), stopping after `nrows` rows."""
    _check_xlsx_archive(payload, error)
    try:
        frame = pd.read_excel(io.BytesIO(payload), dtype=str, engine="openpyxl", nrows=nrows)
    except Exception as exc:  # whatever the parser trips on, the person's file is at fault
        raise error(_unreadable_xlsx()) from exc
    return frame.fillna("")


def _check_xlsx_archive(payload: bytes, error: type[ImportFileError]) -> None:
    """Refuse what is not a zip, or a zip that would expand beyond what a real sheet does."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise error(_unreadable_xlsx()) from exc
    total = sum(entry.file_size for entry in entries)
    too_compressed = any(
        entry.file_size > XLSX_RATIO_FROM
        and entry.file_size > XLSX_MAX_RATIO * max(entry.compress_size, 1)
        for entry in entries
    )
    if len(entries) > XLSX_MAX_ENTRIES or total > XLSX_MAX_UNCOMPRESSED or too_compressed:
        raise error(
            Message(
                N_(
                    "The XLSX file expands to far more data than a spreadsheet holds, so it was "
                    "not opened. Save the sheet again from Excel or WPS, or export it as CSV."
                )
            )
        )


def _unreadable_xlsx() -> Message:
    return Message(
        N_(
            "The file is not a readable XLSX workbook (it may be damaged or another format "
            "renamed to .xlsx). Open it in Excel or WPS, save it as .xlsx and try again."
        )
    )


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
    assert sheet is not None  # a new workbook always has its one sheet
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
