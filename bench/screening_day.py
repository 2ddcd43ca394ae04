"""Screening day: 200 students signing in and submitting the freshman intake at once.

Real gunicorn (WORKERS × THREADS gthread) on 127.0.0.1 serves Xinqiao in production configuration
on PostgreSQL `xinqiao_bench_load`; locust headless plays the students' browsers (pages fetched,
csrf_token posted back). Three runs of the same length:
1. capacity: 200 students with no think time — the most submissions per second we sustain;
2. baseline: the bare app (`bench/baseline_app.py`, one row per POST) loaded the same way;
3. paced: 200 students who take 1–5 s per page (still several times faster than a person
   reading a questionnaire) — the latency a student sees on a busy screening day.
Afterwards the database must hold every acknowledged submission exactly once.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.baseline_app import create_table
from bench.load import harness
from bench.load import verify
from bench.results import Figure

DATABASE = "xinqiao_bench_load"
USERS = 200
PACED_WAIT = "1,5"


def _sizes(quick: bool) -> dict:
    if quick:
        return {"users": 20, "run_time": 15, "capacity_students": 400, "paced_students": 200}
    return {"users": USERS, "run_time": 60, "capacity_students": 4_000, "paced_students": 2_000}


def run(args) -> dict:
    size = _sizes(args.quick)
    workdir = Path(tempfile.mkdtemp(prefix="xinqiao_bench_load_"))
    url = harness.recreate_database(DATABASE)
    started = time.perf_counter()
    seeded = harness.seed_intake(url, size["capacity_students"] + size["paced_students"])
    seed_seconds = time.perf_counter() - started
    create_table(url)
    users, run_time = size["users"], size["run_time"]
    common = {"users": users, "spawn_rate": max(users / 4, 1), "run_time": run_time}
    with harness.gunicorn("wsgi:app", url, workdir / "gunicorn.log") as server:
        capacity = harness.run_locust(
            server.base,
            user_class="StudentIntake",
            workdir=workdir / "capacity",
            first=1,
            count=size["capacity_students"],
            **common,
        )
        paced = harness.run_locust(
            server.base,
            user_class="StudentIntake",
            workdir=workdir / "paced",
            first=size["capacity_students"] + 1,
            count=size["paced_students"],
            wait=PACED_WAIT,
            **common,
        )
    with harness.gunicorn("bench.baseline_app:app", url, workdir / "baseline.log") as server:
        baseline = harness.run_locust(
            server.base, user_class="BaselineRow", workdir=workdir / "baseline", **common
        )
    acked = verify.acked_pairs(
        harness.events(workdir / "capacity") + harness.events(workdir / "paced")
    )
    integrity = verify.intake_integrity(url, acked)
    return _report(size, seeded, seed_seconds, capacity, paced, baseline, integrity, workdir)


def _report(size, seeded, seed_seconds, capacity, paced, baseline, integrity, workdir) -> dict:
    users = size["users"]
    violations = sum(integrity[k] for k in verify.VIOLATIONS)
    figures = [
        Figure(
            f"intake submissions/s, {users} students, no think time",
            capacity.submissions_per_s,
            "/s",
            "≥ 0.5× baseline",
            capacity.submissions_per_s >= 0.5 * baseline.submissions_per_s,
            baseline.submissions_per_s,
            "bare Flask rows/s",
        ),
        Figure(
            f"submission p95, {users} students paced {PACED_WAIT.replace(',', '–')} s per page",
            paced.submission_p95_ms,
            "ms",
            "< 300 ms",
            paced.submission_p95_ms < 300,
            baseline.submission_p95_ms,
            "bare Flask POST p95 (no think time)",
        ),
        Figure(
            f"every request p95, {users} students paced",
            paced.all_p95_ms,
            "ms",
            "< 300 ms",
            paced.all_p95_ms < 300,
        ),
        Figure(
            f"submission p95, {users} students, no think time (saturated)",
            capacity.submission_p95_ms,
            "ms",
            "—",
            None,
            baseline.submission_p95_ms,
            "bare Flask POST p95",
        ),
        Figure(
            "errors (failed requests, all runs)",
            capacity.failures + paced.failures + baseline.failures,
            "",
            "0",
            capacity.failures + paced.failures == 0,
        ),
        Figure("integrity violations after the runs", violations, "", "0", violations == 0),
    ]
    return {
        "title": "Screening day under gunicorn (PostgreSQL, locust on loopback)",
        "figures": figures,
        "notes": _notes(size, seeded, seed_seconds, capacity, paced, baseline, integrity, workdir),
    }


def _notes(size, seeded, seed_seconds, capacity, paced, baseline, integrity, workdir) -> list:
    return [
        f"gunicorn {harness.WORKERS} workers × {harness.THREADS} threads (gthread) on "
        "127.0.0.1, XINQIAO_CONFIG=production, SESSION_COOKIE_SECURE=0, FORCE_HTTPS=0 (plain "
        "HTTP on loopback), **RATELIMIT_ENABLED=0** (every simulated student comes from "
        "127.0.0.1); the baseline app runs under the same gunicorn settings and database.",
        f"{seeded['students']:,} students seeded ({seeded['assigned']:,} assigned to the intake: "
        f"{', '.join(seeded['campaign_instruments'])}) in {seed_seconds:.0f} s; each simulated "
        "student signs in, reads the consent page, consents, and for each instrument fetches "
        "the page, posts every answer with the page's csrf_token, reads the feedback; about 6% "
        "answer PHQ-9 item 9 ≥ 1 (and ASQ item 1 yes), so the red-warning path is in the mix.",
        f"{size['run_time']} s per run, {size['users']} users spawned over 4 s; locust shares "
        "the machine's cores with gunicorn and PostgreSQL, which weighs on both app and baseline.",
        f"capacity run: {capacity.requests:,} requests, {capacity.submissions:,} submissions, "
        f"{capacity.failures} failures, p50 of a submission {capacity.submission_p50_ms:.0f} ms; "
        f"paced run: {paced.requests:,} requests, {paced.submissions:,} submissions, "
        f"{paced.failures} failures, {paced.submissions_per_s:.1f} submissions/s; baseline: "
        f"{baseline.requests:,} requests, {baseline.failures} failures.",
        "p95 per page in the paced run: "
        + ", ".join(f"{name} {row['95%']} ms" for name, row in sorted(paced.by_name.items())),
        "Integrity in the database after the runs: "
        + ", ".join(f"{name} {value:,}" for name, value in integrity.items()),
        f"Raw locust CSVs and event logs of this run: {workdir}.",
    ]
