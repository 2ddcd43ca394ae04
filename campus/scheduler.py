"""Periodic sweeps, registered by the domains, run by exactly one scheduler process.

Domains register plain functions `sweep(session, now) -> int` (how many things they acted on);
the runner calls each in its own transaction. Any number of `flask scheduler run` processes may
start, on any host: each tick, only the holder of the leader lease (a row in `scheduler_lease`,
taken and renewed with a conditional UPDATE, so it works on SQLite and PostgreSQL alike) runs
the sweeps; when the leader dies its lease expires and another takes over. Sweeps only look for
rows that are due, so a scheduler stopped for an hour catches up on its first tick.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

import click
from flask import Flask
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import DateTime
from sqlalchemy import String
from sqlalchemy import or_
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from campus import clock
from campus.extensions import Model
from campus.extensions import db
from campus.extensions import rows_changed

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler

Sweep = Callable[[Session, datetime], int]
LEASE_NAME = "sweeps"
log = logging.getLogger(__name__)


class SchedulerLease(Model):
    """Who leads the sweeps until when; one row per lease name."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


def register_sweep(app: Flask, name: str, sweep: Sweep) -> None:
    app.extensions.setdefault("xinqiao_sweeps", {})[name] = sweep


def registered_sweeps(app: Flask) -> dict[str, Sweep]:
    return dict(app.extensions.get("xinqiao_sweeps", {}))


def new_holder_id() -> str:
    """Unique per process start: host, pid and a random part (pids repeat across hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lease(session: Session, holder: str, now: datetime, seconds: int) -> bool:
    """Take or renew the leader lease for `holder`; False while another holder's lease runs."""
    expires = now + timedelta(seconds=seconds)
    taken = rows_changed(
        session,
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False),
    )
    if taken:
        session.commit()
        return True
    try:
        session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=expires))
        session.commit()
    except IntegrityError:
        session.rollback()  # the row exists and someone else holds it
        return False
    return True


def release_lease(session: Session, holder: str) -> None:
    """Give the lease up at shutdown so a standby takes over at its next tick, not after expiry."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1))
        .execution_options(synchronize_session=False)
    )
    session.commit()


def run_sweeps(app: Flask, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Run every registered sweep once, each in its own transaction; a failing one is logged and
    rolled back without stopping the others (its rows stay due, so the next tick retries)."""
    results: dict[str, int] = {}
    for name, sweep in sorted(registered_sweeps(app).items()):
        try:
            results[name] = sweep(session, now or clock.now())
            session.commit()
        except Exception:
            session.rollback()
            log.exception("sweep %s failed", name)
            results[name] = -1
    return results


def tick(app: Flask, holder: str) -> dict[str, int] | None:
    """One scheduler tick: run the sweeps if this process leads; None if another one does."""
    with app.app_context():
        try:
            seconds = app.config["SCHEDULER_LEASE_SECONDS"]
            if not acquire_lease(db.session, holder, clock.now(), seconds):
                log.info("scheduler %s: standby, another process leads", holder)
                return None
            results = run_sweeps(app, db.session)
            log.info("scheduler %s: leader, swept %s", holder, results)
            return results
        finally:
            db.session.remove()


def run_forever(app: Flask) -> None:
    """Block, ticking every SCHEDULER_SWEEP_SECONDS until interrupted; releases the lease then."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    holder = new_holder_id()
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        args=(app, holder),
        seconds=app.config["SCHEDULER_SWEEP_SECONDS"],
        next_run_time=datetime.now().astimezone(),
        max_instances=1,
        coalesce=True,
    )
    log.info("scheduler %s starting", holder)
    # systemd and container runtimes stop a service with SIGTERM: turn it into a clean exit so the
    # lease is released at once and a standby takes over without waiting for it to expire.
    signal.signal(signal.SIGTERM, lambda *_: _stop(scheduler))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            release_lease(db.session, holder)


def _stop(scheduler: BlockingScheduler) -> None:
    """Stop once, however many SIGTERMs arrive (a supervisor and a shell may both send one)."""
    if scheduler.running:
        scheduler.shutdown(wait=False)


scheduler_cli = AppGroup("scheduler", help="The sweeps that escalate deadlines and send mail.")


@scheduler_cli.command("run")
def run_command() -> None:
    """Run the scheduler in this process (start one or more; only the leader sweeps)."""
    logging.basicConfig(level=logging.INFO)
    # The app itself, not the proxy: the scheduler's threads run outside this command's context.
    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("run-once")
def run_once_command() -> None:
    """Run every sweep once now, whoever leads (sweeps are safe to run concurrently)."""
    # Flask types `current_app` as the app, though it is the proxy that has this method.
    results = run_sweeps(current_app._get_current_object(), db.session)  # type: ignore[attr-defined]
    for name, count in results.items():
        click.echo(f"{name}: {'failed' if count < 0 else count}")
