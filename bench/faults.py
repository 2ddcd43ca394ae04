"""Fault tests that need real processes: `python -m bench --only faults` (or `-m bench.faults`).

a. a gunicorn worker is killed with SIGKILL in the middle of a submission load;
b. the machine's PostgreSQL is restarted once under load (it is shared: the outage is short);
c. the scheduler is killed with SIGKILL mid-sweep over thousands of due deadlines and restarted;
d. a worker is killed with SIGKILL inside a safety submission, every time at the point where the
   answers are written and their red signal is not yet, then the student resubmits.
Each prints PASS or FAIL with its numbers; the run fails (exit status 1) if any of them fails.
`--scenario` (repeatable: worker, postgres, scheduler, window) runs only those.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy import text

from bench.load import harness
from bench.load import verify
from bench.results import Figure

INTAKE_DB = "xinqiao_bench_faults"
SCHEDULER_DB = "xinqiao_bench_sched"
RECOVERY_SECONDS = 90
WINDOW_KILLS = 30
PG_RESTART = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"]


def _sizes(quick: bool) -> dict:
    if quick:
        return {"users": 20, "run_time": 25, "students": 1_500, "deadlines": 1_500}
    return {"users": 50, "run_time": 45, "students": 4_000, "deadlines": 5_000}


SCENARIOS = ("worker", "postgres", "scheduler", "window")


def run(args) -> dict:
    size = _sizes(args.quick)
    chosen = getattr(args, "scenario", None) or SCENARIOS
    workdir = Path(tempfile.mkdtemp(prefix="xinqiao_bench_faults_"))
    url = harness.recreate_database(INTAKE_DB)
    harness.seed_intake(url, size["students"] + WINDOW_KILLS)
    half = size["students"] // 2
    scenarios = {
        "worker": lambda: _worker_killed(url, size, workdir / "worker", first=1, count=half),
        "postgres": lambda: _database_restarted(
            url, size, workdir / "postgres", first=half + 1, count=half
        ),
        "scheduler": lambda: _scheduler_killed(size["deadlines"], workdir / "scheduler"),
        "window": lambda: _killed_in_window(url, workdir / "window", first=size["students"] + 1),
    }
    outcomes = [scenarios[name]() for name in SCENARIOS if name in chosen]
    figures = [figure for outcome in outcomes for figure in outcome["figures"]]
    notes = [note for outcome in outcomes for note in outcome["notes"]]
    failed = [o["name"] for o in outcomes if not o["passed"]]
    for outcome in outcomes:
        print(("PASS" if outcome["passed"] else "FAIL") + f": {outcome['name']}", flush=True)
    notes.append(f"Logs of this run: {workdir}.")
    return {
        "title": "Fault tests (gunicorn worker SIGKILL, PostgreSQL restart, scheduler SIGKILL, "
        "worker SIGKILL in the safety submission window)",
        "figures": figures,
        "notes": notes,
        "failed": failed,
    }


# --- a. a worker killed mid-load ---------------------------------------------------------------


def _worker_killed(url: str, size: dict, workdir: Path, *, first: int, count: int) -> dict:
    workdir.mkdir(parents=True)
    with harness.gunicorn("wsgi:app", url, workdir / "gunicorn.log") as server:
        load = harness.start_locust(
            server.base,
            user_class="StudentIntake",
            users=size["users"],
            spawn_rate=size["users"],
            run_time=size["run_time"],
            workdir=workdir,
            first=first,
            count=count,
        )
        time.sleep(size["run_time"] / 3)
        victim = server.workers()[0]
        before = _acks(workdir)
        os.kill(victim, signal.SIGKILL)
        stats = harness.finish_locust(load, size["run_time"], workdir)
        serving = _serves(server.base)
        respawned = victim not in server.workers() and len(server.workers()) == harness.WORKERS
    integrity = verify.intake_integrity(url, verify.acked_pairs(harness.events(workdir)))
    violations = {k: integrity[k] for k in verify.VIOLATIONS if integrity[k]}
    after = integrity["acknowledged"] - before
    passed = not violations and serving and respawned and after > 0
    return {
        "name": "worker SIGKILL under submission load",
        "passed": passed,
        "figures": [
            Figure(
                "a. worker kill: integrity violations",
                sum(violations.values()),
                "",
                "0",
                not violations,
            ),
            Figure(
                "a. worker kill: submissions acknowledged after the kill",
                after,
                "",
                "> 0",
                after > 0,
            ),
        ],
        "notes": [
            f"a. **{'PASS' if passed else 'FAIL'}** — {size['users']} students submitting with no "
            f"think time; worker {victim} killed with SIGKILL after {size['run_time'] / 3:.0f} s "
            f"({before} submissions acknowledged by then, {integrity['acknowledged']} in all, "
            f"{integrity['results stored']} results stored); requests cut off by the kill: "
            f"{stats.failures} of {stats.requests}; gunicorn replaced the worker: "
            f"{'yes' if respawned else 'no'}; serving afterwards: {'yes' if serving else 'no'}. "
            + _integrity_text(integrity, violations)
        ],
    }


# --- b. PostgreSQL restarted under load --------------------------------------------------------


def _database_restarted(url: str, size: dict, workdir: Path, *, first: int, count: int) -> dict:
    workdir.mkdir(parents=True)
    run_time = size["run_time"] + RECOVERY_SECONDS  # room to show the recovery after the outage
    with harness.gunicorn("wsgi:app", url, workdir / "gunicorn.log") as server:
        load = harness.start_locust(
            server.base,
            user_class="StudentIntake",
            users=size["users"],
            spawn_rate=size["users"],
            run_time=run_time,
            workdir=workdir,
            first=first,
            count=count,
            wait="0.2,1",
        )
        began = time.time()
        _wait_for_first_ack(workdir, timeout=size["run_time"])
        down = time.time()
        restart = subprocess.run(PG_RESTART, capture_output=True, text=True, timeout=120)
        up = time.time()
        stats = harness.finish_locust(load, run_time, workdir)
        serving = _serves(server.base)
    events = harness.events(workdir)
    failures = [e for e in events if e[1] == "fail"]
    bare = {(e[0], e[2]) for e in events if e[1] == "bare_error"}
    unclean = [e for e in failures if not 500 <= int(e[4]) < 600 or (e[0], e[2]) in bare]
    tracebacks = [e for e in events if e[1] == "traceback"]
    late = [e for e in failures if float(e[0]) > up + 15]
    acks_after = sum(1 for e in events if e[1] == "ack" and float(e[0]) > up)
    integrity = verify.intake_integrity(url, verify.acked_pairs(events))
    violations = {k: integrity[k] for k in verify.VIOLATIONS if integrity[k]}
    passed = (
        restart.returncode == 0
        and not unclean
        and not tracebacks
        and not late
        and acks_after > 0
        and serving
        and not violations
    )
    return {
        "name": "PostgreSQL restart under load",
        "passed": passed,
        "figures": [
            Figure(
                "b. database restart: failures not a 5xx with our error page",
                len(unclean),
                "",
                "0",
                not unclean,
            ),
            Figure(
                "b. database restart: error pages with a traceback",
                len(tracebacks),
                "",
                "0",
                not tracebacks,
            ),
            Figure(
                "b. database restart: submissions acknowledged after it",
                acks_after,
                "",
                "> 0",
                acks_after > 0,
            ),
            Figure(
                "b. database restart: integrity violations",
                sum(violations.values()),
                "",
                "0",
                not violations,
            ),
        ],
        "notes": [
            f"b. **{'PASS' if passed else 'FAIL'}** — `{' '.join(PG_RESTART)}` once, "
            f"{down - began:.0f} s into a load of {size['users']} students (0.2–1 s per "
            f"page); the restart took {up - down:.1f} s (exit {restart.returncode}). "
            f"Failed requests: {len(failures)} of {stats.requests} (statuses "
            f"{_statuses(failures)}), {len(late)} of them later than 15 s after the restart; "
            f"{len(tracebacks)} with traceback text; {acks_after} submissions acknowledged after "
            f"the restart without restarting gunicorn; serving afterwards: "
            f"{'yes' if serving else 'no'}. " + _integrity_text(integrity, violations)
        ],
    }


# --- c. the scheduler killed mid-sweep ---------------------------------------------------------


def _scheduler_killed(deadlines: int, workdir: Path) -> dict:
    workdir.mkdir(parents=True)
    url = harness.recreate_database(SCHEDULER_DB)
    seeded_at = _seed_due_deadlines(url, deadlines)
    engine = create_engine(url)
    env = {**harness.app_env(url), "SCHEDULER_SWEEP_SECONDS": "1", "SCHEDULER_LEASE_SECONDS": "10"}
    try:
        first = _start_scheduler(env, workdir / "scheduler-1.log")
        try:
            at_kill, in_flight = _wait_mid_sweep(engine, seeded_at, deadlines)
        finally:
            first.kill()  # SIGKILL: no cleanup, the lease is left to expire
            first.wait(timeout=10)
        second = _start_scheduler(env, workdir / "scheduler-2.log")
        try:
            finished = _wait_all_escalated(engine, seeded_at, deadlines, timeout=600)
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(timeout=20)
            except subprocess.TimeoutExpired:
                second.kill()
                second.wait(timeout=10)
        counts = _escalation_counts(engine, seeded_at)
    finally:
        engine.dispose()
    passed = (
        in_flight
        and finished
        and counts["missed"] == 0
        and counts["twice"] == 0
        and counts["events"] == deadlines
    )
    return {
        "name": "scheduler SIGKILL mid-sweep",
        "passed": passed,
        "figures": [
            Figure(
                "c. scheduler kill: deadlines never escalated",
                counts["missed"],
                "",
                "0",
                counts["missed"] == 0,
            ),
            Figure(
                "c. scheduler kill: deadlines escalated more than once",
                counts["twice"],
                "",
                "0",
                counts["twice"] == 0,
            ),
        ],
        "notes": [
            f"c. **{'PASS' if passed else 'FAIL'}** — {deadlines:,} due deadlines (one per open "
            "warning); `flask scheduler run` (sweep every 1 s, lease 10 s) killed with SIGKILL "
            f"when {at_kill:,} were escalated, with a sweep transaction "
            f"{'in flight' if in_flight else 'not visibly in flight'}; a new scheduler took the "
            f"lease after it expired and finished: {counts['escalated']:,} escalated, "
            f"{counts['events']:,} escalation events, {counts['next_deadlines']:,} next-tier "
            f"deadlines, {counts['missed']} missed, {counts['twice']} escalated twice."
        ],
    }


def _seed_due_deadlines(url: str, count: int):
    """`count` students with an open yellow warning owned by the department, each owing a
    contact that fell due an hour ago; returns the seeding time (naive UTC)."""
    from bench import pg
    from campus import clock
    from campus.extensions import db
    from campus.models import ClassGroup
    from campus.models import Department
    from campus.models import Institution
    from campus.models import Role
    from campus.models import RoleAssignment
    from campus.models import User

    app = pg.app_with_schema(url)
    with app.app_context():
        session = db.session
        now = clock.now()
        inst = Institution(code="SWEEP", name="Sweep University")
        dept = Department(institution=inst, name="Computing")
        group = ClassGroup(department=dept, name="CS", grade=now.year)
        session.add_all([inst, dept, group])
        session.flush()
        for login, role in (("dl", Role.DEPT_LEADER), ("sc", Role.SCHOOL_COUNSELLOR)):
            user = User(institution=inst, login=login, name=login, password_hash=None)
            user.roles.append(
                RoleAssignment(
                    role=role,
                    institution_id=inst.id,
                    department_id=dept.id if role is Role.DEPT_LEADER else None,
                )
            )
            session.add(user)
        session.commit()
        p = {
            "i": inst.id,
            "d": dept.id,
            "c": group.id,
            "n": count,
            "now": now,
            "due": now - timedelta(hours=1),
        }
        for table, columns, select in SEED:
            pg.insert_select(session, table, columns, select, p)
        session.execute(text("ANALYZE"))
        session.commit()
    return now


# Per table: the columns chosen and the SELECT giving them; the models' defaults fill the rest.
SEED = [
    (
        "student",
        (
            "institution_id, student_number, name, gender, birth_date, department_id, class_id, "
            "enrolment_status"
        ),
        """SELECT :i, 'S' || g, 'Student ' || g, 'F', DATE '2005-01-01', :d, :c, 'ENROLLED'
           FROM generate_series(1, :n) g""",
    ),
    (
        "warning",
        (
            "student_id, institution_id, department_id, status, level, computed_level, reason, "
            "policy_version, owner_tier, owner_since, opened_at, version"
        ),
        """SELECT id, :i, :d, 'OPEN', 2, 2, 'yellow: bench', 'bench', 3, :now, :now, 1
           FROM student""",
    ),
    (
        "deadline",
        "warning_id, kind, tier, due_at",
        """SELECT id, 'contact', 3, :due FROM warning""",
    ),
]


def _start_scheduler(env: dict, log: Path) -> subprocess.Popen:
    command = [str(harness.VENV / "flask"), "--app", "wsgi:app", "scheduler", "run"]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=harness.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _escalated(conn, seeded_at) -> int:
    return conn.execute(
        text("SELECT count(*) FROM deadline WHERE due_at < :t AND escalated_at IS NOT NULL"),
        {"t": seeded_at},
    ).scalar_one()


def _wait_mid_sweep(engine, seeded_at, deadlines: int, timeout: float = 300) -> tuple[int, bool]:
    """Wait until at least one batch is committed and the next one is being swept; returns the
    count escalated at that moment and whether a sweep transaction was open."""
    end = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < end:
            done = _escalated(conn, seeded_at)
            conn.rollback()
            if done >= deadlines // 5 and done < deadlines:
                in_flight = conn.execute(text(_IN_FLIGHT), {"db": SCHEDULER_DB}).scalar_one() > 0
                conn.rollback()
                if in_flight:
                    return done, True
            if done >= deadlines:
                return done, False
            time.sleep(0.05)
    raise RuntimeError(f"the scheduler escalated nothing in {timeout} s")


_IN_FLIGHT = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = :db AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
"""


def _wait_all_escalated(engine, seeded_at, deadlines: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < end:
            if _escalated(conn, seeded_at) >= deadlines:
                return True
            conn.rollback()
            time.sleep(0.5)
    return False


def _escalation_counts(engine, seeded_at) -> dict[str, int]:
    with engine.connect() as conn:
        one = conn.execute(text(_COUNTS), {"t": seeded_at}).mappings().one()
    return dict(one)


_COUNTS = """
WITH per_warning AS (
  SELECT w.id,
    (SELECT count(*) FROM warning_event e WHERE e.warning_id = w.id AND e.kind = 'escalated') AS ev,
    (SELECT count(*) FROM deadline d WHERE d.warning_id = w.id AND d.due_at >= :t) AS nxt
  FROM warning w)
SELECT
  (SELECT count(*) FROM deadline WHERE due_at < :t AND escalated_at IS NOT NULL) AS escalated,
  (SELECT count(*) FROM deadline WHERE due_at < :t AND escalated_at IS NULL) AS missed,
  (SELECT coalesce(sum(ev), 0) FROM per_warning) AS events,
  (SELECT count(*) FROM per_warning WHERE ev > 1 OR nxt > 1) AS twice,
  (SELECT coalesce(sum(nxt), 0) FROM per_warning) AS next_deadlines
"""


# --- d. a worker killed inside a safety submission ---------------------------------------------


def _killed_in_window(url: str, workdir: Path, *, first: int) -> dict:
    """WINDOW_KILLS students each submit PHQ-9 with item 9 = 2 while the bench holds a SHARE lock
    on `signal`: the worker's transaction has written the answers and blocks on its red signal,
    where the old two-commit submit had already committed them as a draft. That worker is killed
    (found by its database connection's port), the lock released, the student's stored answers
    checked at once, and then the student submits again as after any error page."""
    workdir.mkdir(parents=True)
    engine = create_engine(url)
    kills: list[dict] = []
    try:
        with harness.gunicorn("wsgi:app", url, workdir / "gunicorn.log") as server:
            for number in range(first, first + WINDOW_KILLS):
                kills.append(_kill_one_safety_submit(server, engine, f"S{number:06d}"))
    finally:
        engine.dispose()
    killed = sum(k["killed"] for k in kills)
    unwarned = sum(k["unwarned"] for k in kills)
    kept = sum(k["kept"] for k in kills)
    resubmitted = sum(k["resubmitted"] for k in kills)
    final, sweep = _stored_safety_without_red_warning(url)
    passed = (
        killed >= WINDOW_KILLS and unwarned == final == sweep == 0 and resubmitted == WINDOW_KILLS
    )
    return {
        "name": "worker SIGKILL in the safety submission window",
        "passed": passed,
        "figures": [
            Figure(
                "d. window kill: kills in the window",
                killed,
                "",
                f">= {WINDOW_KILLS}",
                killed >= WINDOW_KILLS,
            ),
            Figure(
                "d. window kill: safety answers without an open red warning",
                unwarned + final,
                "",
                "0",
                unwarned + final == 0,
            ),
        ],
        "notes": [
            f"d. **{'PASS' if passed else 'FAIL'}** — {WINDOW_KILLS} students each submitted "
            "PHQ-9 with item 9 = 2 while the bench held `LOCK TABLE signal IN SHARE MODE`; the "
            f"worker waiting there on its red signal was found and SIGKILLed {killed} times; "
            f"right after each kill, safety answers stored without an open red warning: "
            f"{unwarned} (answers left stored by the killed request: {kept}; the rest were lost "
            f"with their warning, uncommitted); the student then submitted again: {resubmitted} "
            f"stored with their red warning. At the end, safety answers (drafts and results) "
            f"without an open red warning: {final}; left for the safety sweep to raise: {sweep}."
        ],
    }


def _kill_one_safety_submit(server, engine, login: str) -> dict:
    """One student's safety submission killed in the window, checked, then submitted again."""
    import threading

    import psutil
    import requests

    browser = requests.Session()
    page_url = _open_phq9(browser, server.base, login)
    with engine.connect() as lock:
        lock.execute(text("LOCK TABLE signal IN SHARE MODE"))
        posting = threading.Thread(target=_post_safety_answers, args=(browser, page_url))
        posting.start()
        port = _backend_waiting_on_signal(engine)
        victim = _worker_on_port(server.workers(), port, psutil) if port else None
        if victim:
            os.kill(victim, signal.SIGKILL)
        lock.rollback()
    posting.join(timeout=60)
    if port:
        _wait_backend_gone(engine, port)
    unwarned, kept = _student_safety_state(engine, login)
    resubmitted = _post_safety_answers(browser, page_url)
    return {
        "killed": victim is not None,
        "unwarned": unwarned,
        "kept": kept,
        "resubmitted": resubmitted,
    }


def _open_phq9(browser, base: str, login: str) -> str:
    """Sign in, consent and return the PHQ-9 page's address."""
    page = browser.get(f"{base}/login", timeout=30)
    data = {
        "csrf_token": _csrf(page.text),
        "institution": harness.INSTITUTION,
        "login": login,
        "password": harness.PASSWORD,
    }
    browser.post(f"{base}/login", data=data, timeout=30)
    mine = browser.get(f"{base}/screening/mine", timeout=30).text
    assignment = f"{base}/screening/a/" + re.search(r'href="/screening/a/(\d+)"', mine).group(1)
    consent = browser.get(f"{assignment}/consent", timeout=30)
    data = {"csrf_token": _csrf(consent.text), "informed": "y", "sensitive_data": "y"}
    browser.post(f"{assignment}/consent", data=data, timeout=30)
    return f"{assignment}/i/phq9"


def _post_safety_answers(browser, page_url: str) -> bool:
    """Fetch the page and submit it with item 9 = 2; whether the feedback page was the answer.
    A request cut off by the kill is the error page a student would see."""
    import requests

    try:
        page = browser.get(page_url, timeout=60).text
        data = {f"item_{n}": "0" for n in range(1, 10)}
        data.update(item_9="2", action="submit", csrf_token=_csrf(page))
        data["token"] = re.search(r'name="token"[^>]*value="([^"]*)"', page).group(1)
        done = browser.post(page_url, data=data, timeout=60, allow_redirects=False)
    except requests.RequestException:
        return False
    return done.status_code == 302 and done.headers["Location"].endswith("/done")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return found.group(1) if found else ""


def _backend_waiting_on_signal(engine, timeout: float = 30) -> int | None:
    """The client port of the app's connection waiting for the lock on `signal`, if one comes."""
    end = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < end:
            port = conn.execute(text(_WAITING_ON_SIGNAL), {"db": INTAKE_DB}).scalar()
            conn.rollback()
            if port:
                return int(port)
            time.sleep(0.05)
    return None


_WAITING_ON_SIGNAL = """
SELECT client_port FROM pg_stat_activity
WHERE datname = :db AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO signal%'
LIMIT 1
"""


def _worker_on_port(workers: list[int], port: int, psutil) -> int | None:
    for pid in workers:
        if any(c.laddr and c.laddr.port == port for c in psutil.Process(pid).net_connections()):
            return pid
    return None


def _wait_backend_gone(engine, port: int, timeout: float = 30) -> None:
    """The killed worker's transaction ends (rolled back) once its backend sees the socket gone."""
    end = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < end:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE client_port = :p"
            if not conn.execute(text(sql), {"p": port}).scalar_one():
                return
            conn.rollback()
            time.sleep(0.05)


def _student_safety_state(engine, login: str) -> tuple[int, int]:
    """(stored PHQ-9 safety answers without an open red warning, stored PHQ-9 answers) of one
    student: a draft or result with item 9 answered 1 or more."""
    with engine.connect() as conn:
        row = conn.execute(text(_STUDENT_SAFETY), {"login": login}).one()
    return int(row.unwarned), int(row.kept)


_STUDENT_SAFETY = """
WITH answers AS (
  SELECT a.student_id, d.answers FROM screening_draft d
    JOIN screening_assignment a ON a.id = d.assignment_id WHERE d.instrument = 'phq9'
  UNION ALL
  SELECT r.student_id, r.answers FROM screening_result r WHERE r.instrument = 'phq9'),
mine AS (
  SELECT x.student_id, (x.answers ->> '9')::int >= 1 AS safety FROM answers x
    JOIN student s ON s.id = x.student_id WHERE s.student_number = :login)
SELECT
  count(*) FILTER (WHERE safety AND NOT EXISTS (
    SELECT 1 FROM warning w WHERE w.student_id = mine.student_id AND w.status = 'OPEN'
      AND w.level = 3)) AS unwarned,
  count(*) AS kept
FROM mine
"""


def _stored_safety_without_red_warning(url: str) -> tuple[int, int]:
    """(stored safety answers, drafts and results alike as the scoring engine sees them, whose
    student has no open red warning; those the safety sweep would have to raise)."""
    from bench import pg
    from campus.extensions import db
    from screening import intake
    from screening import safety
    from screening.models import CampaignAssignment
    from screening.models import InstrumentResponse
    from screening.models import ScreeningResult
    from warning.services import open_warning

    app = pg.app_with_schema(url)
    with app.app_context():
        session = db.session
        drafts = session.execute(
            select(InstrumentResponse, CampaignAssignment.student_id).join(
                CampaignAssignment, CampaignAssignment.id == InstrumentResponse.assignment_id
            )
        ).all()
        flagged = [
            student_id
            for draft, student_id in drafts
            if intake.safety_flags(intake.instrument(draft.instrument), draft.answer_map())
        ]
        results = session.scalars(select(ScreeningResult)).all()
        flagged += [r.student_id for r in results if intake.has_safety_flag(r)]
        warnings = {s: open_warning(session, s) for s in set(flagged)}
        unwarned = sum(1 for s in flagged if warnings[s] is None or warnings[s].level != 3)
        return unwarned, len(safety.unsignalled(session))


# --- shared ------------------------------------------------------------------------------------


def _acks(workdir: Path) -> int:
    return sum(1 for e in harness.events(workdir) if e[1] == "ack")


def _wait_for_first_ack(workdir: Path, timeout: float) -> None:
    """Restart only once students are submitting, so the outage hits submissions in flight."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and _acks(workdir) == 0:
        time.sleep(0.5)


def _serves(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/login", timeout=10) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def _statuses(failures: list[list[str]]) -> str:
    counts: dict[str, int] = {}
    for e in failures:
        counts[e[4]] = counts.get(e[4], 0) + 1
    return ", ".join(f"{k}×{v}" for k, v in sorted(counts.items())) or "none"


def _integrity_text(integrity: dict[str, int], violations: dict[str, int]) -> str:
    stored = (
        f"Every acknowledged submission stored exactly once ({integrity['acknowledged']:,} "
        f"checked; {integrity['safety answers stored']} safety answers, each with its red "
        "signal and open red warning); no half-written result, orphan signal or inconsistent "
        "assignment."
    )
    return stored if not violations else f"**Violations:** {violations}."


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    result = run(parser.parse_args())
    for note in result["notes"]:
        print(note)
    sys.exit(1 if result["failed"] else 0)
