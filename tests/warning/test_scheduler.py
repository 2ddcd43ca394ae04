"""The scheduler: one leader across processes, catch-up after downtime, run-once for ops."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from campus import clock
from campus import scheduler
from campus.extensions import db
from tests.factories import open_warning
from warning.models import OwnerTier

from .response_helpers import events

RED, YELLOW = 3, 2


def test_scheduler_stopped_for_two_hours_catches_up_once_on_restart(app, network):
    start = clock.now()
    red = open_warning(network.student, RED)
    yellow = open_warning(network.other_student, YELLOW)
    clock.set_now(start + timedelta(hours=2))
    results = scheduler.run_sweeps(app, db.session)
    assert results["warning.escalation"] == 1  # red's acknowledgement, nothing else due yet
    assert scheduler.run_sweeps(app, db.session)["warning.escalation"] == 0
    db.session.expire_all()
    assert red.owner_tier == OwnerTier.LEADERSHIP
    assert events(red, "escalated") == 1
    assert events(yellow, "escalated") == 0  # its 72 hours are not over


def test_only_the_lease_holder_runs_sweeps_and_a_standby_takes_over_after_expiry(app, network):
    start = clock.now()
    open_warning(network.student, RED)
    clock.set_now(start + timedelta(hours=2))
    assert scheduler.tick(app, "host-a") is not None
    assert scheduler.tick(app, "host-b") is None  # a leads: b stays idle
    assert scheduler.tick(app, "host-a") is not None  # the leader renews
    clock.advance(timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"] + 1))
    assert scheduler.tick(app, "host-b") is not None  # a went silent: b takes over
    assert scheduler.tick(app, "host-a") is None


def test_two_instances_racing_for_a_free_lease_elect_one(app):
    now = clock.now()
    with Session(db.engine) as a, Session(db.engine) as b:
        won = [scheduler.acquire_lease(s, h, now, 60) for s, h in ((a, "a"), (b, "b"))]
    assert won == [True, False]


def test_released_lease_is_taken_at_the_next_tick(app):
    assert scheduler.tick(app, "host-a") is not None
    scheduler.release_lease(db.session, "host-a")
    assert scheduler.tick(app, "host-b") is not None


def test_a_failing_sweep_does_not_stop_the_others(app, network):
    def broken(session, now):
        raise RuntimeError("boom")

    sweeps = app.extensions["xinqiao_sweeps"]
    sweeps["aaa.broken"] = broken
    try:
        results = scheduler.run_sweeps(app, db.session)
    finally:
        del sweeps["aaa.broken"]
    assert results["aaa.broken"] == -1
    assert results["warning.escalation"] == 0


def test_run_once_command_runs_every_registered_sweep(app):
    output = app.test_cli_runner().invoke(args=["scheduler", "run-once"]).output
    for name in ("warning.escalation", "warning.follow_ups", "notifications.deliver"):
        assert f"{name}: 0" in output
