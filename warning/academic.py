"""Academic data from the registrar and life events from department staff, as key-group signals.

Registrar files are validated whole, like the roster: every bad row is reported with its line and
reason and nothing is imported while any row is bad. A term's record that crosses a threshold makes
the student a member of the key group "academic difficulty" (one signal per record, so re-importing
the same file adds no duplicate evidence).

Life events map to key groups as the brief names them: bereavement and family change are "family
change", interpersonal isolation is itself a key group. Decision where the brief is silent:
financial hardship and disciplinary action are not key groups; they are blue "watch and support"
signals by the policy's life-event rule, and do not raise a screening level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import Student
from campus.models import User
from campus.spreadsheets import ImportReport
from campus.spreadsheets import ImportTemplate
from campus.spreadsheets import RowError
from campus.spreadsheets import Table
from campus.spreadsheets import commit_import
from campus.spreadsheets import read_table as read_spreadsheet
from campus.submissions import stored_once
from warning import labels
from warning import services
from warning.models import AcademicRecord
from warning.models import LifeEvent
from warning.models import LifeEventKind
from warning.models import Signal
from warning.models import SignalSource

COLUMNS = ("student_number", "term", "failed_credits", "academic_warning", "absence_rate")
YES = {"yes", "y", "true", "1", "是"}
NO = {"no", "n", "false", "0", "否", ""}


@dataclass(frozen=True)
class AcademicThresholds:
    """When a term's record means academic difficulty (any one suffices). Overridable in config
    as WARNING_ACADEMIC_THRESHOLDS = {"failed_credits": …, "absence_rate": …}."""

    failed_credits: float = 10.0
    absence_rate: float = 0.2
    academic_warning: bool = True


LIFE_EVENT_FLAGS: dict[LifeEventKind, str] = {
    LifeEventKind.BEREAVEMENT: "key_group:family_change",
    LifeEventKind.FAMILY_CHANGE: "key_group:family_change",
    LifeEventKind.INTERPERSONAL_ISOLATION: "key_group:interpersonal_isolation",
    LifeEventKind.FINANCIAL_HARDSHIP: "life:financial_hardship",
    LifeEventKind.DISCIPLINARY_ACTION: "life:disciplinary_action",
}


@dataclass
class AcademicImport(ImportReport):
    audit_action = "import_academic"
    audit_record_type = "academic_record"

    records: int = 0
    signals: int = 0


def read_academic_table(filename: str, payload: bytes) -> Table:
    """The registrar's CSV/XLSX (学号, 学期, 不及格学分, 学业预警, 缺勤率 or the English headers)
    as stripped strings, only the columns the import reads."""
    return read_spreadsheet(
        filename,
        payload,
        required=COLUMNS,
        text_columns=("student_number", "term"),
        kind="academic",
    )


def _absence(raw: str) -> float | None:
    """0.15, 15% or 15 (percent) → 0.15; None when it is not a rate."""
    text = raw.rstrip("%").strip()
    try:
        value = float(text)
    except ValueError:
        return None
    if raw.endswith("%") or value > 1:
        value /= 100
    return value if 0 <= value <= 1 else None


def _row_problems(row: pd.Series, students: dict[str, Student]) -> list[tuple[str, Message]]:
    """(column, reason) for every problem of one row."""
    problems = [
        (c, Message(N_("required, but the cell is empty")))
        for c in ("student_number", "term")
        if not row[c]
    ]
    if row["student_number"] and row["student_number"] not in students:
        problems.append(
            (
                "student_number",
                Message(N_("unknown student_number %(number)s"), number=row["student_number"]),
            )
        )
    failed = row["failed_credits"]
    try:
        if not 0 <= float(failed or "x") <= 300:
            problems.append(
                (
                    "failed_credits",
                    Message(N_("failed_credits '%(value)s' is out of range"), value=failed),
                )
            )
    except ValueError:
        problems.append(
            (
                "failed_credits",
                Message(N_("failed_credits '%(value)s' is not a number"), value=failed),
            )
        )
    if row["academic_warning"].lower() not in YES | NO:
        problems.append(
            (
                "academic_warning",
                Message(
                    N_("academic_warning '%(value)s' is not yes or no"),
                    value=row["academic_warning"],
                ),
            )
        )
    if _absence(row["absence_rate"]) is None:
        problems.append(
            (
                "absence_rate",
                Message(
                    N_("absence_rate '%(value)s' is not between 0 and 1 (or 0–100%%)"),
                    value=row["absence_rate"],
                ),
            )
        )
    if len(row["term"]) > 20:
        problems.append(("term", Message(N_("term is longer than 20 characters"))))
    return problems


def import_academic(
    session: Session,
    institution: Institution,
    actor: User | None,
    table: Table,
    *,
    thresholds: AcademicThresholds,
    now: datetime,
) -> AcademicImport:
    """Validate the whole file; write records and key-group signals for all of it, or nothing.

    Commits when everything is valid. Students are matched within ``institution`` only.
    """
    frame = table.frame
    report = AcademicImport(rows=len(frame), unused=table.unused_notes())
    students = {
        s.student_number: s
        for s in session.scalars(select(Student).where(Student.institution_id == institution.id))
    }
    keys = frame["student_number"] + "\x00" + frame["term"]
    duplicated = set(keys[keys.duplicated()])
    for index, row in frame.iterrows():
        problems = _row_problems(row, students)
        if keys[index] in duplicated:
            problems.append(
                (
                    "term",
                    Message(
                        N_("%(number)s / %(term)s is also on row(s) %(lines)s"),
                        number=row["student_number"],
                        term=row["term"],
                        lines=", ".join(
                            str(int(i) + 2) for i in frame.index[keys == keys[index]] if i != index
                        ),
                    ),
                )
            )
        report.errors.extend(
            RowError(int(index) + 2, row["student_number"], p, table.header(c)) for c, p in problems
        )
    report.errors = table.cell_errors() + table.without_formula_cells(
        report.errors + TEMPLATE.example_errors(table)
    )
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    for _, row in frame.iterrows():
        _store(session, students[row["student_number"]], row, actor, thresholds, now, report)
    counts = f"rows={report.rows} signals={report.signals}"
    return commit_import(session, report, actor, institution.id, counts)


def _store(
    session: Session,
    student: Student,
    row: pd.Series,
    actor: User | None,
    thresholds: AcademicThresholds,
    now: datetime,
    report: AcademicImport,
) -> None:
    record = session.scalar(
        select(AcademicRecord).where(
            AcademicRecord.student_id == student.id, AcademicRecord.term == row["term"]
        )
    ) or AcademicRecord(student_id=student.id, institution_id=student.institution_id)
    record.term = row["term"]
    record.failed_credits = float(row["failed_credits"])
    record.academic_warning = row["academic_warning"].lower() in YES
    absence = _absence(row["absence_rate"])
    assert absence is not None  # a row whose rate is not one was refused before it is stored
    record.absence_rate = absence
    record.imported_at = now
    record.imported_by_id = actor.id if actor else None
    session.add(record)
    session.flush()
    report.records += 1
    reasons = difficulty_reasons(record, thresholds)
    if reasons and not _already_signalled(session, record):
        services.record_signal(
            session,
            student=student,
            source=SignalSource.ACADEMIC,
            observed_at=now,
            label=labels.academic_difficulty(record.term, reasons),
            flags=["key_group:academic_difficulty"],
            evidence_type="academic_record",
            evidence_id=record.id,
            recorded_by=actor,
            now=now,
        )
        report.signals += 1


def difficulty_reasons(
    record: AcademicRecord, thresholds: AcademicThresholds
) -> list[labels.Label]:
    """Which thresholds the record crosses, as labels; empty when it shows no difficulty."""
    reasons = []
    if record.failed_credits >= thresholds.failed_credits:
        reasons.append(labels.failed_credits(record.failed_credits))
    if thresholds.academic_warning and record.academic_warning:
        reasons.append(labels.academic_warning())
    if record.absence_rate >= thresholds.absence_rate:
        reasons.append(labels.absence(record.absence_rate))
    return reasons


def _already_signalled(session: Session, record: AcademicRecord) -> bool:
    return (
        session.scalar(
            select(Signal.id).where(
                Signal.evidence_type == "academic_record", Signal.evidence_id == record.id
            )
        )
        is not None
    )


def life_event_flags(kind: LifeEventKind) -> list[str]:
    """A life event's signal flags: its key group where it is one, and the event itself."""
    return [LIFE_EVENT_FLAGS[kind], f"life_event:{kind.value}"]


def record_life_event(
    session: Session,
    *,
    student: Student,
    kind: LifeEventKind | str,
    occurred_on: date,
    note: str | None,
    actor: User,
    now: datetime,
    submission: str | None = None,
) -> LifeEvent:
    """Record a life event and its signal (key group where it is one). Commits.

    The caller has checked that ``actor`` may see the student at WARNING capability. The same
    form sent again (`submission`, its one-time token) returns the event it recorded.
    """
    kind = LifeEventKind(kind)

    def record() -> LifeEvent:
        event = LifeEvent(
            institution_id=student.institution_id,
            student_id=student.id,
            kind=kind,
            occurred_on=occurred_on,
            note=(note or "").strip()[:1000] or None,
            recorded_by_id=actor.id,
            recorded_at=now,
            submission=submission,
        )
        session.add(event)
        session.flush()
        services.record_signal(
            session,
            student=student,
            source=SignalSource.LIFE_EVENT,
            observed_at=datetime.combine(min(occurred_on, now.date()), datetime.min.time()),
            label=labels.life_event(kind.value, occurred_on),
            flags=life_event_flags(kind),
            evidence_type="life_event",
            evidence_id=event.id,
            recorded_by=actor,
            now=now,
        )
        audit.record_on(
            session, event, actor=actor, action="record_life_event", record_type="life_event"
        )
        return event

    mine = LifeEvent.recorded_by_id == actor.id
    return stored_once(session, LifeEvent, submission, mine, record).record


TEMPLATE = ImportTemplate(
    headers=("学号", "学期", "不及格学分", "学业预警", "缺勤率"),
    example=("2026001", "2026-2027-1", "6", "否", "5%"),
    choices={"学业预警": ("是", "否")},
    title="学业数据",
    notes=(
        ("学号", "必填，须是名单里已有的学生。"),
        ("学期", "必填，如 2026-2027-1。"),
        ("不及格学分", "必填：数字，如 6；没有不及格填 0。"),
        ("学业预警", "选填：是 或 否；不填即为否。"),
        ("缺勤率", "必填：百分数如 5%，或 0 至 1 之间的小数。"),
    ),
)
"""The registrar's file as the import page offers it to fill in."""
