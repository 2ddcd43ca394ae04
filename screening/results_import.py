"""Bulk import of screening results (paper forms, another system's export) from CSV or XLSX.

Like the roster import: the whole file is validated first and every bad row is reported with its
line and reason; nothing is imported while a row is bad unless the caller asks for the clean rows
only. Rows are scored with the vectorised scorer (the same code as `flask screening score-file`)
and each result is handed to the warning stage exactly like an online one, in one transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus.i18n import N_
from campus.i18n import Message
from campus.i18n import shown_name
from campus.i18n import viewer_locale
from campus.models import Student
from campus.models import User
from campus.scope import Capability
from campus.scope import student_filter
from campus.spreadsheets import ImportFileError
from campus.spreadsheets import ImportReport
from campus.spreadsheets import ImportTemplate
from campus.spreadsheets import RowError
from campus.spreadsheets import Table
from campus.spreadsheets import commit_import
from campus.spreadsheets import read_table as read_spreadsheet
from screening.bulk_scoring import item_columns
from screening.bulk_scoring import score_frame
from screening.instruments import Instrument
from screening.intake import Scores
from screening.intake import finish_instrument
from screening.intake import new_result
from screening.models import Campaign
from screening.models import CampaignAssignment
from screening.models import ResultSource
from screening.models import ScreeningResult
from screening.scoring import AnswerError
from screening.scoring import validate_answers


@dataclass
class ResultsImport(ImportReport):
    audit_action = "import_results"
    audit_record_type = "campaign"

    imported_count: int = 0


def read_table(filename: str, payload: bytes) -> Table:
    """The file as text cells (学号 or student_number, then the items); the item columns are
    checked against the instrument later."""
    return read_spreadsheet(
        filename,
        payload,
        required=("student_number",),
        text_columns=("student_number",),
        keep_unknown=True,
        kind="screening_results",
    )


def import_results(
    session: Session,
    campaign: Campaign,
    inst: Instrument,
    table: Table,
    *,
    actor: User | None,
    now: datetime,
    clean_rows_only: bool = False,
) -> ResultsImport:
    """Validate the whole file; store every row, the clean rows if asked, or nothing."""
    frame = table.frame
    if inst.code not in campaign.instruments:
        raise ImportFileError(
            Message(
                N_("%(instrument)s is not part of the campaign %(campaign)s."),
                instrument=inst.abbreviation,
                campaign=shown_name(campaign),
            )
        )
    try:
        columns = item_columns(inst, frame)
    except AnswerError:
        raise ImportFileError(
            Message(
                N_(
                    "%(instrument)s needs one column per item, in order: q1 to q%(count)s "
                    "(or 1 to %(count)s). Columns in the file: %(found)s."
                ),
                instrument=inst.abbreviation,
                count=len(inst.items),
                found=", ".join(str(c) for c in frame.columns),
            )
        ) from None
    try:
        return _validate_and_store(
            session, campaign, inst, table, columns, actor, now, clean_rows_only
        )
    except IntegrityError:
        # A result stored meanwhile (the student online, another import) took one of the rows:
        # validate again, so the report names that row like any student already scored.
        session.rollback()
    return _validate_and_store(session, campaign, inst, table, columns, actor, now, clean_rows_only)


def _validate_and_store(
    session: Session,
    campaign: Campaign,
    inst: Instrument,
    table: Table,
    columns: list,
    actor: User | None,
    now: datetime,
    clean_rows_only: bool,
) -> ResultsImport:
    """Every row checked, then every clean row stored and handed off in one commit (or none)."""
    frame = table.frame
    report = ResultsImport(rows=len(frame))
    report.unused = [
        Message(N_("Column 「%(column)s」 was not used."), column=str(c))
        for c in frame.columns
        if c != "student_number" and c not in columns
    ]
    scored = score_frame(inst, frame[columns])
    assignments = _assignments(session, campaign, frame["student_number"], actor)
    done = _already_scored(session, campaign, inst)
    report.errors = table.cell_errors() + _row_errors(
        frame, inst, columns, scored, assignments, done
    )
    report.errors.sort(key=lambda e: e.line)
    if report.errors and not clean_rows_only:
        return report
    for index in frame.index:
        if _line(index) in report.bad_lines:
            continue
        assignment = assignments[frame.at[index, "student_number"]]
        answers = _answers(inst, frame.loc[index, columns])
        _store(
            session, assignment, inst, answers, Scores.of_row(inst, scored.loc[index]), actor, now
        )
        report.imported_count += 1
    counts = (
        f"{inst.code} rows={report.rows} imported={report.imported_count} "
        f"skipped={len(report.bad_lines)}"
    )
    return commit_import(session, report, actor, campaign.institution_id, counts, campaign.id)


def _line(index: int) -> int:
    return int(index) + 2


def _assignments(
    session: Session, campaign: Campaign, numbers: pd.Series, actor: User | None
) -> dict[str, CampaignAssignment]:
    stmt = (
        select(Student.student_number, CampaignAssignment)
        .join(CampaignAssignment, CampaignAssignment.student_id == Student.id)
        .where(
            CampaignAssignment.campaign_id == campaign.id,
            Student.institution_id == campaign.institution_id,
            Student.student_number.in_(set(numbers)),
        )
    )
    if actor is not None:
        stmt = stmt.where(student_filter(actor, Capability.ROSTER))
    return dict(session.execute(stmt).tuples().all())


def _already_scored(session: Session, campaign: Campaign, inst: Instrument) -> set[int]:
    return set(
        session.scalars(
            select(ScreeningResult.assignment_id).where(
                ScreeningResult.campaign_id == campaign.id, ScreeningResult.instrument == inst.code
            )
        )
    )


class AnswerProblems(str):
    """A row's bad answers in the scoring engine's own words, which it gives in both languages:
    English as text (the command line), the viewer's language when a page shows it."""

    inst: Instrument
    answers: dict[int, object]

    def __new__(cls, inst: Instrument, answers: dict[int, object]) -> AnswerProblems:
        text = super().__new__(cls, " ".join(validate_answers(inst, answers, "en")))
        text.inst, text.answers = inst, answers
        return text

    def shown(self) -> str:
        return " ".join(validate_answers(self.inst, self.answers, viewer_locale()))


def _given(inst: Instrument, cells: pd.Series) -> dict[int, object]:
    """The row's answers as the scorer reads them: numbers where a cell holds one, the text
    otherwise; a blank cell is an unanswered item."""
    text = cells.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    return {
        number: float(value) if pd.notna(value) and math.isfinite(value) else raw
        for number, raw, value in zip(inst.item_numbers, text, numbers, strict=True)
        if pd.notna(raw) and raw != ""
    }


def _row_errors(
    frame: pd.DataFrame,
    inst: Instrument,
    columns: list,
    scored: pd.DataFrame,
    assignments: dict[str, CampaignAssignment],
    done: set[int],
) -> list[RowError]:
    numbers = frame["student_number"]
    repeated = numbers[numbers.duplicated(keep=False) & (numbers != "")]
    errors: list[RowError] = []
    for index, number in numbers.items():
        reasons: list[str] = []
        if not number:
            reasons.append(Message(N_("%(column)s is empty"), column="student_number"))
        elif number not in assignments:
            reasons.append(
                Message(N_("student %(number)s is not in this campaign's cohort"), number=number)
            )
        elif assignments[number].id in done:
            reasons.append(
                Message(
                    N_("student %(number)s already has a result for this instrument"),
                    number=number,
                )
            )
        if index in repeated.index:
            others = [_line(i) for i in repeated.index[repeated == number] if i != index]
            reasons.append(
                Message(
                    N_("student number %(number)s is also on row(s) %(lines)s"),
                    number=number,
                    lines=", ".join(map(str, others)),
                )
            )
        if scored.at[index, "error"]:
            problems = AnswerProblems(inst, _given(inst, frame.loc[index, columns]))
            reasons.append(problems or scored.at[index, "error"])
        errors.extend(RowError(_line(index), number, r) for r in reasons)
    return errors


def _answers(inst: Instrument, cells: pd.Series) -> dict[int, int]:
    """A clean row's answers; blank cells (optional items) are left out."""
    return {
        number: int(float(raw))
        for number, raw in zip(inst.item_numbers, cells, strict=True)
        if str(raw).strip()
    }


def _store(
    session: Session,
    assignment: CampaignAssignment,
    inst: Instrument,
    answers: dict[int, int],
    scores: Scores,
    actor: User | None,
    now: datetime,
) -> ScreeningResult:
    result = new_result(
        assignment, inst, answers, scores, now, source=ResultSource.IMPORT, recorded_by=actor
    )
    session.add(result)
    session.flush()
    assignment.started_at = assignment.started_at or now
    finish_instrument(session, assignment, result, now)
    return result


def template(inst: Instrument) -> ImportTemplate:
    """The paper results of `inst` to fill in: 学号, then one column per item, answered with the
    option values (the example row answers every item with its lowest value)."""
    return ImportTemplate(
        headers=("学号", *(str(n) for n in inst.item_numbers)),
        example=("2026001", *(str(item.options.low) for item in inst.items)),
        choices={},
        title=inst.abbreviation,
    )
