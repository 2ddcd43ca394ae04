"""The retention schedule and its sweep: what is past its date goes, the rest stays, a legal hold
stops it, the figures do not move, and a purge killed halfway resumes without loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import EnrolmentStatus
from campus.models import Student
from campus.models import User
from casework.models import CrisisEntry
from casework.models import CrisisRecord
from casework.models import FamilyContact
from oversight import kpis
from privacy import holds
from privacy import purge
from privacy import record_types
from privacy.retention_models import PurgedRecord
from privacy.retention_models import PurgeRun
from privacy.retention_models import RunState
from privacy.retention_models import StudentDeparture
from privacy.schedule import ScheduleError
from privacy.schedule import parse
from privacy.schedule import schedule_for
from screening.models import Consent
from screening.models import ScreeningResult
from tests.privacy.records import LONG_AGO
from tests.privacy.records import RECENTLY
from tests.privacy.records import campaign
from tests.privacy.records import left
from tests.privacy.records import school
from tests.privacy.records import screened
from tests.privacy.records import whole_record
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import Task
from warning.models import WarningEvent

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2010, 3, 1, 8)  # when the old records were written


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(campus):
    """Two long-gone graduates (every clock has run out), one recent graduate and one current
    student, each with a whole record written in 2010."""
    where = school(campus)
    group = campus.class_group(campus.department(where.institution))
    old = [left(campus.student(group, name=f"Old {i}"), LONG_AGO) for i in range(2)]
    recent = left(campus.student(group, name="Recent"), RECENTLY)
    current = campus.student(group, name="Current")
    for student in [*old, recent, current]:
        whole_record(student, where, AT)
    db.session.commit()
    return where, old, recent, current


def _sweep() -> int:
    changed = purge.sweep(db.session, clock.now())
    db.session.expire_all()
    return changed


def test_sweep_deletes_and_anonymises_what_is_past_its_date_and_keeps_the_rest(world):
    where, old, recent, current = world
    old_ids = [s.id for s in old]

    _sweep()

    # Deleted: screening results and consents, concern reports, crisis records and entries.
    for model in (ScreeningResult, Consent, ConcernReport, CrisisRecord, CrisisEntry):
        students = set(db.session.scalars(select(model.student_id)))
        assert students.isdisjoint(old_ids), model.__name__
    # Anonymised: the warning stays, red, in its month, with no words left.
    for warning in db.session.scalars(
        select(EarlyWarning).where(EarlyWarning.student_id.in_(old_ids))
    ):
        assert (warning.level, warning.opened_at, warning.reason) == (3, AT, "")
        assert warning.close_outcome is None
    notes = db.session.scalars(
        select(WarningEvent.note).join(EarlyWarning).where(EarlyWarning.student_id.in_(old_ids))
    ).all()
    assert notes
    assert all(n is None for n in notes)
    contacts = db.session.scalars(
        select(FamilyContact).where(FamilyContact.student_id.in_(old_ids))
    ).all()
    assert [(c.summary, c.guardian_name) for c in contacts] == [("", "")] * 2
    stub = db.session.get(Student, old_ids[0])
    assert (stub.name, stub.student_number, stub.guardian_phone) == ("—", f"X{stub.id}", None)
    tasks = db.session.scalars(select(Task.text).where(Task.student_id.in_(old_ids))).all()
    assert tasks == ["", ""]  # "Please check in with Old 0 this week" named the student
    account = db.session.get(User, stub.user_id)
    assert account.active is False
    assert account.name == "—"
    # The recent graduate's 2010 warning closed 16 years ago is anonymised (closed + 10 years),
    # but everything on an "after leaving" clock is still there; the current student likewise.
    for student in (recent, current):
        assert (
            db.session.scalar(select(func.count()).where(ScreeningResult.student_id == student.id))
            == 1
        )
        assert db.session.get(Student, student.id).name in ("Recent", "Current")
        assert (
            db.session.scalar(select(func.count()).where(CrisisRecord.student_id == student.id))
            == 1
        )


def test_each_run_is_audited_with_its_counts(world):
    _sweep()

    run = db.session.scalars(select(PurgeRun)).one()
    assert run.state == RunState.FINISHED
    assert run.counts["screening_results"] == {"deleted": 2}
    assert run.counts["crisis_records"] == {"deleted": 2}
    # The old graduates' two warnings and the closed-long-ago ones of the other two students.
    assert run.counts["warnings"] == {"anonymised": 4}
    assert run.counts["identity"] == {"anonymised": 2}
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention_purge")).one()
    assert row.record_id == str(run.id)
    assert "screening_results:deleted=2" in row.detail


def test_a_second_sweep_the_same_day_changes_nothing(world):
    assert _sweep() > 0
    before = _count(PurgedRecord)

    assert _sweep() == 0
    assert _count(PurgeRun) == 1
    assert _count(PurgedRecord) == before


def test_a_legal_hold_stops_the_sweep_for_that_student_and_the_run_says_so(world):
    where, old, _recent, _current = world
    held, free = old
    holds.place(db.session, where.director, held, "Lawsuit filed by the family", clock.now())

    _sweep()

    assert db.session.get(Student, held.id).name == "Old 0"
    assert db.session.scalar(select(func.count()).where(ScreeningResult.student_id == held.id)) == 1
    assert db.session.get(Student, free.id).name == "—"
    run = db.session.scalars(select(PurgeRun)).one()
    assert run.counts["screening_results"] == {"deleted": 1, "held": 1}

    # Once the hold is lifted, the next day's sweep takes the rest.
    holds.lift(db.session, where.director, holds.in_force(db.session, held.id), clock.now())
    clock.advance(timedelta(days=1))
    _sweep()
    assert db.session.get(Student, held.id).name == "—"


def test_an_open_warning_is_never_due(world):
    _where, old, _recent, _current = world
    warning = db.session.scalars(
        select(EarlyWarning).where(EarlyWarning.student_id == old[0].id)
    ).one()
    warning.status = "open"
    warning.closed_at = None
    db.session.commit()

    _sweep()

    assert db.session.get(EarlyWarning, warning.id).reason.startswith("red:")
    # Its crisis record stays with it: the warning is not closed.
    assert db.session.scalar(select(func.count()).where(CrisisRecord.warning_id == warning.id)) == 1


def _figures() -> dict:
    institution_ids = tuple(db.session.scalars(select(EarlyWarning.institution_id).distinct()))
    view = kpis.View(institution_ids, date(2009, 9, 1), date(2010, 12, 1), by="month")
    return {
        key: frame.to_json(orient="records")  # NaN ("—") compares equal as JSON null
        for key, frame in kpis.compute_all(db.session, view, clock.now()).items()
    }


def test_the_figures_are_the_same_after_the_purge(world):
    before = _figures()
    assert '"month":"2010-03","red":4' in before["levels"]

    _sweep()

    assert _figures() == before


def test_a_student_who_comes_back_stops_the_clock(world):
    _where, old, _recent, _current = world
    returned = old[0]
    returned.enrolment_status = EnrolmentStatus.ENROLLED
    db.session.commit()

    _sweep()

    assert db.session.get(StudentDeparture, returned.id) is None
    assert db.session.get(Student, returned.id).name == "Old 0"


def test_the_sweep_starts_the_clock_of_a_newly_graduated_student(world):
    _where, _old, _recent, current = world
    current.enrolment_status = EnrolmentStatus.GRADUATED
    db.session.commit()

    _sweep()

    assert db.session.get(StudentDeparture, current.id).left_on == date(2026, 9, 14)


def test_dry_run_prints_counts_per_record_type_and_changes_nothing(app, world):
    result = app.test_cli_runner().invoke(args=["privacy", "purge", "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert lines["screening_results"][1:4] == ["delete", "due", "2"]
    assert lines["warnings"][1:4] == ["anonymise", "due", "4"]
    assert _count(PurgeRun) == 0
    assert _count(ScreeningResult) == 4


def test_purge_command_runs_the_schedule(app, world):
    result = app.test_cli_runner().invoke(args=["privacy", "purge", "--institution", "XJU"])

    assert result.exit_code == 0, result.output
    assert "screening_results:deleted=2" in result.output
    assert _count(ScreeningResult) == 2


def test_audit_rows_go_after_thirty_years_and_only_through_the_purge(world):
    _where, old, _recent, current = world
    for student, year in ((old[0], 1995), (current, 1995), (current, 2020)):
        db.session.add(
            AuditEvent(
                at=datetime(year, 5, 1),
                student_id=student.id,
                institution_id=student.institution_id,
                record_type="student",
                record_id=str(student.id),
                action="view_file",
            )
        )
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(AuditEvent).where(AuditEvent.at < datetime(2000, 1, 1)))
    db.session.rollback()

    _sweep()

    years = db.session.scalars(
        select(AuditEvent.at).where(AuditEvent.action == "view_file").order_by(AuditEvent.at)
    ).all()
    assert years == [datetime(2020, 5, 1)]
    run = db.session.scalars(select(PurgeRun)).one()
    assert run.counts["audit"] == {"deleted": 2}
    # The purge's permit never outlives its transaction: the guard is whole again.
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()


def test_a_batch_that_clashes_is_rolled_back_and_selected_again(world, monkeypatch):
    clashed = []

    def clash_once(run, key, ids):
        if not clashed:
            clashed.append(key)
            raise IntegrityError("INSERT", {}, Exception("another purge was first"))

    monkeypatch.setattr(purge, "_before_commit", clash_once)

    _sweep()

    run = db.session.scalars(select(PurgeRun)).one()
    assert clashed == ["screening_answers"]
    # The old graduates' answers and the recent graduate's (one year after leaving).
    assert run.counts["screening_answers"] == {"deleted": 3}
    assert run.counts["screening_results"] == {"deleted": 2}


def test_a_clash_that_persists_stops_the_purge_with_nothing_half_written(world, monkeypatch):
    def always(run, key, ids):
        raise IntegrityError("DELETE", {}, Exception("a table no record type covers"))

    monkeypatch.setattr(purge, "_before_commit", always)

    with pytest.raises(IntegrityError):
        _sweep()

    db.session.rollback()
    run = db.session.scalars(select(PurgeRun)).one()
    assert (run.state, run.batches, run.counts) == (RunState.RUNNING, 0, {})
    assert _count(PurgedRecord) == 0
    assert all(db.session.scalars(select(ScreeningResult.answers)))  # no answers stripped


# --- a purge killed halfway -----------------------------------------------------------------------

CHILD = """
import sys, time
from datetime import datetime
from campus import clock, create_app
from campus.extensions import db
from privacy import purge

app = create_app("test", SQLALCHEMY_DATABASE_URI=sys.argv[1], RETENTION_BATCH_SIZE=2)
batches = []

def pause_in_second_batch(run, key, ids):
    batches.append(key)
    if len(batches) == 2:  # batch 1 committed, batch 2 written and not committed
        print("PAUSED", flush=True)
        time.sleep(600)

purge._before_commit = pause_in_second_batch
with app.app_context():
    clock.set_now(datetime(2026, 9, 14, 2, 0))
    purge.sweep(db.session, clock.now())
"""


def test_a_purge_killed_mid_batch_resumes_without_loss_or_double_deletion(app, campus):
    where = school(campus)
    group = campus.class_group(campus.department(where.institution))
    gone = [left(campus.student(group), LONG_AGO) for _ in range(3)]
    kept = campus.student(group)
    spring = campaign(where, "2010 spring", datetime(2010, 3, 1))
    for student in [*gone, kept]:
        screened(student, where, datetime(2009, 9, 10))
        screened(student, where, datetime(2010, 3, 10), spring)
    db.session.commit()
    kept_id = kept.id
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.close()

    with subprocess.Popen(  # noqa: S603 -- this interpreter, this test's own script
        [sys.executable, "-c", textwrap.dedent(CHILD), url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "PAUSED"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)

    # Killed: the first batch (two answers stripped) is in, the second is not.
    interrupted = db.session.scalars(select(PurgeRun)).one()
    assert (interrupted.state, interrupted.batches) == (RunState.RUNNING, 1)
    assert interrupted.counts == {"screening_answers": {"deleted": 2}}
    assert _count(PurgedRecord) == 2

    _sweep()

    run = db.session.scalars(select(PurgeRun)).one()
    assert run.id == interrupted.id
    assert run.state == RunState.FINISHED
    assert run.counts["screening_answers"] == {"deleted": 6}
    assert run.counts["screening_results"] == {"deleted": 6}
    assert run.counts["screening_consents"] == {"deleted": 6}
    assert run.counts["identity"] == {"anonymised": 3}
    remaining = db.session.scalars(select(ScreeningResult)).all()
    assert [(r.student_id, r.answers != {}) for r in remaining] == [(kept_id, True)] * 2
    assert _count(PurgedRecord) == 3  # the three anonymised students, once each


def test_a_killed_run_under_an_older_schedule_is_closed_and_a_new_one_goes_on(world):
    where, *_ = world
    db.session.add(
        PurgeRun(
            institution_id=where.institution.id,
            kind="sweep",
            schedule_version="2025.1",
            counts={"screening_answers": {"deleted": 1}},
        )
    )
    db.session.commit()

    _sweep()

    runs = db.session.scalars(select(PurgeRun).order_by(PurgeRun.id)).all()
    assert [(r.schedule_version, r.state) for r in runs] == [
        ("2025.1", RunState.FINISHED),
        ("2026.1", RunState.FINISHED),
    ]
    assert runs[0].counts == {"screening_answers": {"deleted": 1}}


# --- the schedule as data -------------------------------------------------------------------------


def test_the_default_schedule_names_every_registered_record_type(app):
    allowed = record_types.allowed(app)
    schedule = schedule_for(None, None, allowed)

    assert set(schedule.rules) == set(allowed)
    assert schedule.rules["warnings"].action == "anonymise"


def test_a_bad_schedule_names_every_problem(app):
    text = """
version: "x"
record_types:
  warnings: {from: left, years: 0, action: delete}
  screening_resluts: {from: left, years: 5, action: delete}
  referrals: {from: created, years: 5, action: anonymise, note: x}
"""
    with pytest.raises(ScheduleError) as caught:
        parse(text, record_types.allowed(app))

    problems = caught.value.problems
    assert "warnings: 'years' must be a whole number from 1 to 100" in problems
    assert "warnings: 'action' must be one of anonymise" in problems
    assert "screening_resluts: no domain registered this record type" in problems
    assert "referrals: unknown key 'note'" in problems


def test_an_institution_file_overrides_its_lines_only(app, tmp_path):
    (tmp_path / "XJU.yaml").write_text(
        'version: "xju-1"\nrecord_types:\n  appointments: {from: created, years: 2, '
        "action: delete}\n",
        encoding="utf-8",
    )
    schedule = schedule_for("XJU", str(tmp_path), record_types.allowed(app))

    assert schedule.version == "2026.1+xju-1"
    assert schedule.rules["appointments"].years == 2
    assert schedule.rules["warnings"].years == 10


def test_a_bad_institution_file_stops_the_start(app, tmp_path):
    from campus import create_app

    (tmp_path / "XJU.yaml").write_text("version: 1\nrecord_types: {warnings: 3}\n")

    with pytest.raises(ScheduleError, match="XJU.yaml: warnings"):
        create_app("test", RETENTION_DIR=str(tmp_path))
