"""CSV and XLSX in and out: the one reader of imported files and the one formula-safe writer.

Imports (roster, paper screenings, registrar data) are read here as text cells, so every import
refuses the same wrong files with the same clear reasons before its own row checks run. Reasons are
`Message`s: English for the command line, in the viewer's language on the import pages.

Files come as a Chinese registry writes them: headers in Chinese (HEADER_SYNONYMS), CSV in UTF-8 or
GBK/GB18030 (ENCODINGS, detected), XLSX with formula cells (reported, never read), rows numbered as
Excel shows them. The blank files each import offers to fill in are `ImportTemplate`s.

A cell starting with = + - @, a tab or a carriage return is read by spreadsheet programs as a
formula (or a DDE call): such text is prefixed with a single quote in both formats. Numbers stay
numbers (a negative number is not text and cannot carry a formula). Every export of the system
goes through here, so the neutralisation is a single rule reviewed once.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from typing import Any, ClassVar, TypeVar

import pandas as pd
from flask import Response
from flask import abort
from flask import current_app
from openpyxl import Workbook
from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from campus import audit
from campus.clean_input import without_controls
from campus.downloads import send_download
from campus.i18n import N_
from campus.i18n import Message
from campus.i18n import shown
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
    """One bad cell or row of an imported file: `line` is the row number Excel shows (the header
    is row 1), `column` the header as the file writes it (empty when the whole row is meant)."""

    line: int
    student_number: str
    reason: str  # English; a Message when it can also be shown in the viewer's language
    column: str = ""

    def shown_reason(self) -> str:
        return shown(self.reason)

    def where(self) -> str:
        """Row, column and student as the command line names them."""
        column = f", column {self.column}" if self.column else ""
        return f"line {self.line}{column} ({self.student_number})"


HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "student_number": ("学号", "学生学号", "student number", "student_no"),
    "name": ("姓名", "学生姓名"),
    "gender": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "生日"),
    "department": ("院系", "学院", "所在院系", "所在学院"),
    "class": ("班级", "专业班级", "行政班", "专业"),
    "grade": ("年级", "入学年份", "入学年级"),
    "dorm": ("宿舍", "寝室", "宿舍号", "寝室号"),
    "dorm_building": ("楼栋", "宿舍楼", "楼号"),
    "room": ("房间号", "房间", "房号"),
    "guardian_name": ("监护人", "监护人姓名", "家长姓名", "家长"),
    "guardian_phone": ("监护人电话", "家长电话", "联系电话", "监护人联系电话", "家长联系电话"),
    "enrolment_status": ("学籍状态", "学籍"),
    "peer_role": ("职务", "学生职务", "班级职务", "担任职务", "学生干部"),
    "term": ("学期",),
    "failed_credits": ("不及格学分", "挂科学分", "未通过学分"),
    "academic_warning": ("学业预警", "学业警示"),
    "absence_rate": ("缺勤率", "缺课率"),
}
"""Each column the imports read, with the headers registries write for it, in order of
preference: a file with both 班级 and 专业 is read by 班级, and 专业 is named as unused."""

ENCODINGS = ("UTF-8", "GB18030")
"""CSV encodings tried in order, both strict. UTF-8 (with or without a byte-order mark) cannot be
mistaken for anything else; GB18030 is a superset of GBK and GB2312, which Excel and WPS in China
write for "CSV (逗号分隔)". Nothing is guessed beyond them: a wrong guess would import every
Chinese name garbled without a single error."""


@dataclass
class Table:
    """An imported file as text cells under canonical column names, with what the reader saw.

    `frame` keeps the Excel row number minus 2 as its index (blank rows are dropped, not
    renumbered); `headers` maps each canonical column to the header as written; `unused` lists
    the file's headers no column reads; `formulas` the cells holding a formula."""

    frame: pd.DataFrame
    headers: dict[str, str]
    unused: list[str]
    formulas: list[tuple[int, str]]

    def header(self, column: str) -> str:
        """The file's own header for `column` (the canonical name when the file has none)."""
        return self.headers.get(column, column)

    def cell_errors(self, key: str = "student_number") -> list[RowError]:
        """A reason for every formula cell: it is reported, never read as its value or as empty."""
        return [
            RowError(
                line,
                str(self.frame.at[line - 2, key]) if key in self.frame.columns else "",
                Message(
                    N_(
                        "the cell holds a formula or starts with =, +, - or @; type the value "
                        "itself as text"
                    )
                ),
                column,
            )
            for line, column in self.formulas
        ]

    def without_formula_cells(self, errors: list[RowError]) -> list[RowError]:
        """`errors` less those about a formula cell's emptied text: the formula is the reason."""
        return [e for e in errors if (e.line, e.column) not in set(self.formulas)]

    def unused_notes(self) -> list[Message]:
        return [Message(N_("Column 「%(column)s」 was not used."), column=c) for c in self.unused]


@dataclass
class ImportReport:
    """What an import of a file found and did, for its page: the rows read, the bad ones, and
    whether anything was written. Each import adds its own counts, and names its audit row."""

    audit_action: ClassVar[str]
    audit_record_type: ClassVar[str]

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False
    # Columns of the file that no field reads (「籍贯」), named on the report page.
    unused: list[Message] = field(default_factory=list)

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
    kind: str,
    optional: Sequence[str] = (),
    text_columns: Sequence[str] = (),
    keep_unknown: bool = False,
) -> Table:
    """CSV or XLSX as stripped text cells under canonical column names.

    Headers are matched in English or by HEADER_SYNONYMS; CSV encodings are detected (ENCODINGS).
    A file that cannot be used as a whole (wrong type, unreadable, a zip bomb, missing columns,
    empty, more rows than the `kind` of import allows in IMPORT_MAX_ROWS) raises ImportFileError
    with a reason a person can act on; no more rows than the limit are parsed.
    Formula cells (XLSX) and cells of `text_columns` starting with = + - @ are listed in
    `Table.formulas`. Columns other than `required` and `optional` are dropped and listed as
    unused, unless `keep_unknown` (the importer decides which it reads). Control characters are
    removed from every cell, as from every form (campus.clean_input).
    """
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("csv", "xlsx"):
        raise ImportFileError(Message(N_("Only CSV or XLSX files can be imported.")))
    limit = current_app.config["IMPORT_MAX_ROWS"][kind]
    if suffix == "csv":
        header, rows, formulas = _read_csv(payload, limit + 1)
    else:
        header, rows, formulas = _read_xlsx(payload, limit + 1)
    names, headers, unused = _canonical(header, (*required, *optional), keep_unknown)
    missing = [c for c in required if c not in headers]
    if missing:
        named = [f"{HEADER_SYNONYMS[c][0]} ({c})" if c in HEADER_SYNONYMS else c for c in missing]
        raise ImportFileError(
            Message(N_("Missing columns: %(columns)s."), columns=", ".join(named))
        )
    if not rows:
        raise ImportFileError(
            Message(
                N_("The file has no rows below its header: fill in one row for each, from row 2.")
            )
        )
    if len(rows) > limit:
        raise ImportFileError(
            Message(N_("At most %(limit)s rows can be imported at once."), limit=limit)
        )
    width = len(names)
    frame = pd.DataFrame(
        [(cells + [""] * width)[:width] for cells in rows.values()],
        index=[line - 2 for line in rows],
        columns=names,
        dtype=str,
    )
    frame = frame[[n for n in names if not n.startswith("\x00")]]
    spots = _formula_spots(frame, formulas, names, headers, text_columns)
    return Table(frame, headers, unused, spots)


def _canonical(
    header: list[str], known: Sequence[str], keep_unknown: bool
) -> tuple[list[str], dict[str, str], list[str]]:
    """Each header's canonical name ("\x00…" for a column not read), the written header of each
    canonical column, and the headers not read."""
    lookup = {c: (c, 0) for c in known}
    for column in known:
        for rank, synonym in enumerate(HEADER_SYNONYMS.get(column, ()), start=1):
            lookup[synonym.lower()] = (column, rank)
    best: dict[str, tuple[int, int]] = {}
    for position, written in enumerate(header):
        column, rank = lookup.get(written.lower(), ("", 0))
        if column and (column not in best or rank < best[column][1]):
            best[column] = (position, rank)
    chosen = {position: column for column, (position, _) in best.items()}
    names, unused = [], []
    for position, written in enumerate(header):
        if position in chosen:
            names.append(chosen[position])
        elif keep_unknown and written and written.lower() not in lookup:
            names.append(written.lower())
        else:
            names.append(f"\x00{position}")
            if written:
                unused.append(written)
    headers = {column: header[position] for column, (position, _) in best.items()}
    return names, headers, unused


def _formula_spots(
    frame: pd.DataFrame,
    formulas: set[tuple[int, int]],
    names: list[str],
    headers: dict[str, str],
    text_columns: Sequence[str],
) -> list[tuple[int, str]]:
    """(row, written header) of every formula cell of a read column and of every text cell
    starting like one; formula cells are emptied so no other check reads their text."""
    spots = set()
    for line, position in formulas:
        name = names[position] if position < len(names) else ""
        if name in frame.columns:
            spots.add((line, headers.get(name, name)))
            frame.at[line - 2, name] = ""
    for column in text_columns:
        if column in frame.columns:
            starts = frame[column].str.startswith(FORMULA_START[:4])
            for index in frame.index[starts]:
                spots.add((int(index) + 2, headers.get(column, column)))
    order = {h: i for i, h in enumerate(headers.get(n, n) for n in names)}
    return sorted(spots, key=lambda spot: (spot[0], order.get(spot[1], 0)))


Rows = dict[int, list[str]]


def _clean_rows(raw: Iterable[tuple[int, list[str]]], nrows: int) -> Rows:
    """Non-blank rows by Excel row number, cells stripped and without control characters."""
    rows: Rows = {}
    for line, cells in raw:
        clean = [without_controls(c).strip() for c in cells]
        if any(clean):
            rows[line] = clean
            if len(rows) >= nrows:
                break
    return rows


def decode_csv(payload: bytes) -> str:
    """The CSV's text in the first of ENCODINGS that reads it whole."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return payload.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        Message(
            N_(
                "The CSV file could not be read as %(encodings)s text. In Excel or WPS choose "
                'Save As, pick "CSV UTF-8 (Comma delimited)", and import that file.'
            ),
            encodings=" / ".join(ENCODINGS),
        )
    )


def _read_csv(payload: bytes, nrows: int) -> tuple[list[str], Rows, set[tuple[int, int]]]:
    text = decode_csv(payload)
    try:
        reader = csv.reader(io.StringIO(without_controls(text)))
        lines = iter(reader)
        header = [c.strip() for c in next(lines, [])]
        # Excel numbers records, not physical lines (a quoted cell may hold a line break).
        rows = _clean_rows(enumerate(lines, start=2), nrows)
    except csv.Error as exc:
        raise ImportFileError(
            Message(
                N_("The file could not be read as %(format)s: %(detail)s"),
                format="CSV",
                detail=str(exc),
            )
        ) from exc
    return header, rows, set()


def _text(value: object) -> str:
    """An XLSX cell as the text a person sees: dates as YYYY-MM-DD, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(payload: bytes, nrows: int) -> tuple[list[str], Rows, set[tuple[int, int]]]:
    """The first sheet, after the archive passed `_check_xlsx_archive`; read-only and streaming,
    stopping after `nrows` rows. Formula cells are noted, never read as their cached value."""
    _check_xlsx_archive(payload)
    formulas: set[tuple[int, int]] = set()

    def cells() -> Iterator[tuple[int, list[str]]]:
        for row in sheet.iter_rows(min_row=2):
            line = int(next((c.row for c in row if getattr(c, "row", None)), 0) or 0)
            for position, cell in enumerate(row):
                if cell.data_type == "f":
                    formulas.add((line, position))
            yield line, [_text(c.value) for c in row]

    try:
        workbook = load_workbook(io.BytesIO(payload), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        header = [_text(v).strip() for v in next(sheet.iter_rows(max_row=1, values_only=True), ())]
        rows = _clean_rows(cells(), nrows)
        workbook.close()
    except Exception as exc:  # whatever the parser trips on, the person's file is at fault
        raise ImportFileError(_unreadable_xlsx()) from exc
    header = [without_controls(h) for h in header]
    return header, rows, {(line, p) for line, p in formulas if line in rows}


def _check_xlsx_archive(payload: bytes) -> None:
    """Refuse what is not a zip, or a zip that would expand beyond what a real sheet does."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ImportFileError(_unreadable_xlsx()) from exc
    total = sum(entry.file_size for entry in entries)
    too_compressed = any(
        entry.file_size > XLSX_RATIO_FROM
        and entry.file_size > XLSX_MAX_RATIO * max(entry.compress_size, 1)
        for entry in entries
    )
    if len(entries) > XLSX_MAX_ENTRIES or total > XLSX_MAX_UNCOMPRESSED or too_compressed:
        raise ImportFileError(
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
# Werkzeug adds "; charset=utf-8" to a text type itself: naming it here sent it twice.
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value: object) -> object:
    """Text a spreadsheet would evaluate, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def readable(
    frame: pd.DataFrame,
    labels: Mapping[str, object],
    words: Mapping[str, Callable[[Any], object]] | None = None,
) -> pd.DataFrame:
    """`frame` as its page shows it, for a file a person reads: each coded column's values as
    the words `words` gives (a level as 红色, not red) and each column headed by its label in
    the reader's language; a column without a label keeps its name. Empty cells stay empty."""
    out = frame.copy()
    for column, word in (words or {}).items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, w=word: None if _missing(v) else w(v))
    return out.rename(columns={c: str(labels[c]) for c in out.columns if c in labels})


def _missing(value: object) -> bool:
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


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


# What Excel refuses in a sheet's name (its tab), and the longest name it takes.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
# A time cell as the pages show one, to the minute (a workbook's default shows seconds).
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def sheet_name(title: str) -> str:
    """`title` as Excel takes a sheet's name: without []:*?/\\, at most 31 characters, not
    blank and not starting or ending with an apostrophe."""
    name = SHEET_NAME_FORBIDDEN.sub(" ", title).strip().strip("'")[:SHEET_NAME_MAX].strip()
    return name or "Sheet1"


def to_xlsx(
    frame: pd.DataFrame, title: str = "export", formats: Mapping[str, str] | None = None
) -> bytes:
    """One sheet named `title` (as Excel takes it) with the header in bold. `formats` gives a
    column's Excel number format ("0.0%"): its numbers stay numbers a sum or a chart can use,
    shown as the page shows them; its text cells (a hidden figure, a dash) stay text. Times
    stay times, shown to the minute."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its one sheet
    sheet.title = sheet_name(title)
    header, rows = _cells(frame)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cells in sheet.iter_rows(min_row=2):
        for moment in cells:
            if isinstance(moment.value, datetime):
                moment.number_format = DATETIME_FORMAT
    for position, column in enumerate(frame.columns, start=1):
        number_format = (formats or {}).get(str(column))
        if number_format is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(
    frame: pd.DataFrame, fmt: str, title: str, formats: Mapping[str, str] | None = None
) -> bytes:
    """The frame as `fmt` ("csv" or "xlsx", where `formats` are the number formats of its
    columns); ValueError for any other format."""
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "xlsx":
        return to_xlsx(frame, title, formats)
    raise ValueError(f"unknown export format: {fmt}")


@dataclass(frozen=True)
class ImportTemplate:
    """A blank file to fill in for one import: Chinese headers as a registry writes them, an
    example row, how to fill in each column, and the accepted words of a column as a drop-down
    (XLSX).

    The sheet to fill in holds the headers only: an example row there was imported as it stood
    by whoever tried the template first (a student 张三, a department, a committee member), so
    the example and the rules stand on a second sheet, 填写说明, which no import reads."""

    headers: tuple[str, ...]
    example: tuple[str, ...]
    choices: dict[str, tuple[str, ...]]
    title: str
    # (column, how to fill it in), on the 填写说明 sheet.
    notes: tuple[tuple[str, str], ...] = ()

    def csv(self) -> bytes:
        """The header row only, UTF-8 with a byte-order mark, which Excel and WPS open with the
        Chinese intact (a CSV has no second sheet for the example: the import page names the
        columns)."""
        return to_csv(pd.DataFrame([], columns=list(self.headers)))

    def xlsx(self) -> bytes:
        """The sheet to fill in (header in bold, every column as text so student numbers keep
        their leading zeros, a drop-down on each column with a closed list of words), then the
        填写说明 sheet with the rules and the example."""
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None  # a new workbook always has its one sheet
        sheet.title = sheet_name(self.title)
        sheet.append(list(self.headers))
        for position, header in enumerate(self.headers, start=1):
            letter = get_column_letter(position)
            sheet.column_dimensions[letter].width = max(12, 2 * len(header) + 4)
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=1, column=position).font = Font(bold=True)
            if header in self.choices:
                rule = DataValidation(
                    type="list",
                    formula1='"' + ",".join(self.choices[header]) + '"',
                    allow_blank=True,
                    showErrorMessage=True,
                )
                rule.add(f"{letter}2:{letter}5000")
                sheet.add_data_validation(rule)
        self._instructions(workbook.create_sheet(INSTRUCTIONS_SHEET))
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def _instructions(self, sheet: Any) -> None:
        sheet.column_dimensions["A"].width = 16
        sheet.column_dimensions["B"].width = 80
        first = sheet_name(self.title)
        sheet.append([f"如何填写「{first}」"])
        sheet.append([f"在第一张表「{first}」中，从第 2 行起每行填写一条；不要改动第 1 行的列名。"])
        sheet.append(
            [
                "下面的示例只作说明，不要复制到第一张表：导入时，与示例完全相同的行会被拒绝，"
                "整个文件都不导入。"
            ]
        )
        sheet["A1"].font = Font(bold=True)
        if self.notes:
            sheet.append([])
            sheet.append(["列名", "填写要求"])
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
            for column, rule in self.notes:
                sheet.append([column, rule])
        sheet.append([])
        sheet.append(["示例"])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.append(list(self.headers))
        sheet.append([neutralise(value) for value in self.example])

    def render(self, fmt: str) -> bytes:
        """The template as `fmt` ("csv" or "xlsx"); ValueError for any other format."""
        if fmt == "csv":
            return self.csv()
        if fmt == "xlsx":
            return self.xlsx()
        raise ValueError(f"unknown template format: {fmt}")

    def example_lines(self, table: Table) -> list[int]:
        """The lines of `table` that are this template's example row as it stands (every column
        of the example, read under the template's own headers): the row someone left in, or
        copied from the instructions, which no import may take for a record."""
        by_header = {written: column for column, written in table.headers.items()}
        columns = []
        for header, value in zip(self.headers, self.example, strict=True):
            column = by_header.get(header, header.lower())
            if column not in table.frame.columns:
                return []  # not the template's columns: nothing in it is its example
            if value:
                columns.append((column, value))
        if not columns:
            return []
        same = pd.Series(True, index=table.frame.index)
        for column, value in columns:
            same &= table.frame[column] == value
        return [int(index) + 2 for index in table.frame.index[same]]

    def example_errors(self, table: Table, key: str = "student_number") -> list[RowError]:
        """A whole-row error for each line of `table` that is the template's example."""
        return [
            RowError(
                line,
                str(table.frame.at[line - 2, key]) if key in table.frame.columns else "",
                Message(N_("this is the template's example row: delete it, then import again")),
            )
            for line in self.example_lines(table)
        ]


# The template's second sheet: the rules and the example, which no import reads (an import reads
# the first sheet only).
INSTRUCTIONS_SHEET = "填写说明"


def send_template(template: ImportTemplate, fmt: str, name: str, fallback: str) -> Response:
    """The template as a download named `name`.`fmt` for the reader (学生名单导入模板.xlsx), with
    the ASCII `fallback`.`fmt` for a client that cannot read that; 404 for a format there is
    none of."""
    if fmt not in MEDIA_TYPES:
        abort(404)
    return send_download(
        template.render(fmt), MEDIA_TYPES[fmt], name=f"{name}.{fmt}", fallback=f"{fallback}.{fmt}"
    )
