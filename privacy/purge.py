"""The purge: delete or anonymise what the schedule says is past its date, in batches.

One code path for the scheduled sweep and for an approved erasure (the erasure names one student
and ignores the clocks). Each batch is its own transaction: the rows it changes, the memory of
the anonymised ones (`PurgedRecord`) and the run's counts commit together. Nothing else remembers
where a run stopped: the next batch asks again for "past its date and not yet done", so a run
killed halfway resumes without losing a row or touching one twice. A student under a legal hold
is never selected; an open warning or referral is never due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import Any

from flask import Flask
from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Student
from privacy import record_types
from privacy.record_types import FILES_KEY
from privacy.record_types import RecordType
from privacy.retention_models import LegalHold
from privacy.retention_models import PurgedRecord
from privacy.retention_models import PurgeRun
from privacy.retention_models import RunState
from privacy.retention_models import StudentDeparture
from privacy.schedule import Rule
from privacy.schedule import Schedule
from privacy.schedule import schedule_for

log = logging.getLogger(__name__)
LEFT = (EnrolmentStatus.GRADUATED, EnrolmentStatus.WITHDRAWN)


@dataclass(frozen=True)
class Target:
    """What one purge covers: an institution under its schedule, all due records of the
    `types` named, or (an erasure) every record of those types of one student."""

    institution: Institution
    schedule: Schedule
    types: tuple[str, ...]
    now: datetime
    student_id: int | None = None


def schedule_of(app: Flask, institution: Institution) -> Schedule:
    """The institution's schedule (its own file over the default)."""
    return schedule_for(
        institution.code, app.config.get("RETENTION_DIR"), record_types.allowed(app)
    )


def sweep_target(app: Flask, institution: Institution, now: datetime) -> Target:
    schedule = schedule_of(app, institution)
    types = tuple(t.key for t in record_types.registered(app) if t.key in schedule.rules)
    return Target(institution, schedule, types, now)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def held_clause(student: Any) -> ColumnElement[bool]:
    """True for students with a legal hold in force."""
    return exists(
        select(LegalHold.id).where(LegalHold.student_id == student, LegalHold.lifted_at.is_(None))
    )


def _due(rtype: RecordType, rule: Rule, target: Target) -> Any:
    """The root rows of `rtype` past their date and not yet done, hold aside."""
    root = rtype.root
    students = select(Student.id).where(Student.institution_id == target.institution.id)
    stmt = select(root.id).where(rtype.student.in_(students))
    if target.student_id is not None:
        stmt = stmt.where(rtype.student == target.student_id)
    else:
        cutoff = _years_before(target.now.date(), rule.years)
        if rule.clock == "left":
            left = select(StudentDeparture.student_id).where(StudentDeparture.left_on <= cutoff)
            stmt = stmt.where(rtype.student.in_(left))
        else:
            moment = rtype.clocks[rule.clock]
            stmt = stmt.where(
                moment.is_not(None), moment < datetime.combine(cutoff, datetime.min.time())
            )
    if rtype.covers is not None:
        stmt = stmt.where(rtype.covers())
    if rtype.still_open is not None:
        stmt = stmt.where(not_(rtype.still_open()))
    if rtype.actions[rule.action].keeps_rows:
        stmt = stmt.where(
            ~exists(
                select(PurgedRecord.id).where(
                    PurgedRecord.record_type == rtype.key, PurgedRecord.record_id == root.id
                )
            )
        )
    return stmt


def due_counts(app: Flask, session: Session, target: Target) -> dict[str, dict[str, int]]:
    """{record type: {"due": n, "held": n}} without changing anything (the dry run)."""
    out: dict[str, dict[str, int]] = {}
    types = {t.key: t for t in record_types.registered(app)}
    for key in target.types:
        rtype, rule = types[key], target.schedule.rules[key]
        stmt = _due(rtype, rule, target)
        due = stmt.where(~held_clause(rtype.student)).subquery()
        held = stmt.where(held_clause(rtype.student)).subquery()
        out[key] = {
            "due": session.scalar(select(func.count()).select_from(due)) or 0,
            "held": session.scalar(select(func.count()).select_from(held)) or 0,
        }
    return out


def _before_commit(run: PurgeRun, record_type: str, ids: list[int]) -> None:
    """Called after a batch is written and before it commits; tests replace it to kill a purge
    at the worst moment. Does nothing."""


def run(
    app: Flask,
    session: Session,
    target: Target,
    *,
    kind: str = "sweep",
    erasure_id: int | None = None,
    batch_size: int | None = None,
) -> PurgeRun:
    """Purge everything `target` covers, batch by batch; resume the unfinished run of the same
    institution and kind (and erasure) if one was killed. Commits after every batch."""
    size = batch_size or int(app.config.get("RETENTION_BATCH_SIZE", 500))
    purge_run = _open_run(session, target, kind, erasure_id)
    types = {t.key: t for t in record_types.registered(app)}
    for key in target.types:
        rtype, rule = types[key], target.schedule.rules[key]
        clashes = 0
        while True:
            ids = list(
                session.scalars(
                    _due(rtype, rule, target)
                    .where(~held_clause(rtype.student))
                    .order_by(rtype.root.id)
                    .limit(size)
                )
            )
            if not ids:
                break
            try:
                _batch(session, purge_run, rtype, types.values(), rule.action, ids)
            except IntegrityError:
                # Another purge (an erasure beside the sweep) did these rows first: select again.
                # A clash that persists is a table referencing the root that no record type
                # covers: stop loudly, with nothing of the batch written.
                session.rollback()
                session.info.pop(FILES_KEY, None)
                clashes += 1
                if clashes >= 3:
                    raise
                continue
            clashes = 0
            _remove_files(app, session.info.pop(FILES_KEY, []))
    held = due_counts(app, session, target)
    for key, figures in held.items():
        if figures["held"]:
            _add(purge_run, key, "held", figures["held"])
    purge_run.state = RunState.FINISHED
    purge_run.finished_at = clock.now()
    audit.record(
        session,
        actor=None,
        action="retention_purge" if kind == "sweep" else "erasure_purge",
        record_type="purge_run",
        record_id=purge_run.id,
        institution_id=target.institution.id,
        student_id=target.student_id,
        detail=summary(purge_run.counts)[:500],
    )
    session.commit()
    return purge_run


def _batch(
    session: Session,
    purge_run: PurgeRun,
    rtype: RecordType,
    every: Iterable[RecordType],
    action_name: str,
    ids: list[int],
) -> None:
    """One batch in one transaction: the change, its "done" marks and the run's counts."""
    action = rtype.actions[action_name]
    changed = action.apply(session, ids)
    if action.keeps_rows:
        session.add_all(
            PurgedRecord(record_type=rtype.key, record_id=i, run_id=purge_run.id) for i in ids
        )
    else:
        _forget(session, rtype, every, ids)
    _add(purge_run, rtype.key, action_name, changed)
    purge_run.batches += 1
    session.flush()
    _before_commit(purge_run, rtype.key, ids)
    session.commit()


def _open_run(session: Session, target: Target, kind: str, erasure_id: int | None) -> PurgeRun:
    unfinished = session.scalars(
        select(PurgeRun)
        .where(
            PurgeRun.institution_id == target.institution.id,
            PurgeRun.kind == kind,
            PurgeRun.state == RunState.RUNNING,
            PurgeRun.erasure_id.is_(None)
            if erasure_id is None
            else PurgeRun.erasure_id == erasure_id,
        )
        .order_by(PurgeRun.id)
        .limit(1)
    ).first()
    if unfinished is not None and unfinished.schedule_version == target.schedule.version:
        return unfinished
    if unfinished is not None:
        # The schedule changed since the run was killed: it ends with what it did under its own
        # version, and a new run goes on under the new one.
        unfinished.state = RunState.FINISHED
        unfinished.finished_at = clock.now()
    purge_run = PurgeRun(
        institution_id=target.institution.id,
        kind=kind,
        erasure_id=erasure_id,
        schedule_version=target.schedule.version,
        started_at=clock.now(),
        counts={},
    )
    session.add(purge_run)
    session.commit()
    return purge_run


def _add(purge_run: PurgeRun, key: str, what: str, n: int) -> None:
    counts = {k: dict(v) for k, v in (purge_run.counts or {}).items()}
    verb = {"delete": "deleted", "anonymise": "anonymised"}.get(what, what)
    counts.setdefault(key, {})[verb] = counts.get(key, {}).get(verb, 0) + n
    purge_run.counts = counts  # a new dict: the JSON column sees the change


def _forget(
    session: Session, rtype: RecordType, every: Iterable[RecordType], ids: list[int]
) -> None:
    """Deleted rows take their "done" marks with them: on SQLite a new row may reuse an id."""
    same_root = [t.key for t in every if t.root is rtype.root]
    session.execute(
        delete(PurgedRecord).where(
            PurgedRecord.record_type.in_(same_root), PurgedRecord.record_id.in_(ids)
        )
    )


def _remove_files(app: Flask, names: list[str]) -> None:
    if not names:
        return
    from casework import scans

    where = scans.folder(app)
    for name in names:
        scans.discard(where, name)


def summary(counts: dict[str, dict[str, int]]) -> str:
    """`type:deleted=3,held=1;…` for the audit row and the CLI."""
    return (
        ";".join(
            f"{key}:" + ",".join(f"{k}={v}" for k, v in sorted(figures.items()))
            for key, figures in sorted(counts.items())
        )
        or "nothing due"
    )


def note_departures(session: Session, institution: Institution, today: date) -> int:
    """Start the "after leaving" clock of students newly graduated or withdrawn (today, the first
    day the roster says so) and stop it for students back on the roll. Commits."""
    left = select(Student.id).where(
        Student.institution_id == institution.id,
        Student.enrolment_status.in_(LEFT),
        ~exists(
            select(StudentDeparture.student_id).where(StudentDeparture.student_id == Student.id)
        ),
    )
    new = list(session.scalars(left))
    session.add_all(StudentDeparture(student_id=s, left_on=today, source="seen") for s in new)
    back = select(Student.id).where(
        Student.institution_id == institution.id, Student.enrolment_status.not_in(LEFT)
    )
    session.execute(delete(StudentDeparture).where(StudentDeparture.student_id.in_(back)))
    session.commit()
    return len(new)


def swept_today(session: Session, institution: Institution, today: date) -> bool:
    """A finished sweep of `today` (the institution's calendar) exists: the next tick rests."""
    zone = clock.institution_zone(institution)
    runs = session.scalars(
        select(PurgeRun.started_at)
        .where(
            PurgeRun.institution_id == institution.id,
            PurgeRun.kind == "sweep",
            PurgeRun.state == RunState.FINISHED,
        )
        .order_by(PurgeRun.id.desc())
        .limit(1)
    ).all()
    return any(clock.local_date(moment, zone) == today for moment in runs)


def sweep(session: Session, now: datetime) -> int:
    """The scheduler's retention sweep: once a day per institution, departures noted, approved
    erasures finished, then everything past its date purged. Returns the rows changed."""
    from privacy import erasure

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    changed = 0
    for institution in session.scalars(select(Institution).order_by(Institution.id)).all():
        today = clock.local_date(now, clock.institution_zone(institution))
        changed += erasure.finish_pending(app, session, institution, now)
        if swept_today(session, institution, today):
            continue
        note_departures(session, institution, today)
        done = run(app, session, sweep_target(app, institution, now))
        changed += sum(
            n for figures in done.counts.values() for k, n in figures.items() if k != "held"
        )
    return changed
