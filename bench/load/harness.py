"""What the screening-day benchmark and the fault tests share: a seeded PostgreSQL database, real
gunicorn on loopback (always stopped, even on failure), locust headless, and the integrity checks
run on the database afterwards."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil
from sqlalchemy import text

from bench import pg

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
INSTITUTION = "LOAD"
PASSWORD = "screening-day-2026"  # noqa: S105 - synthetic bench accounts on a throwaway database
INSTRUMENTS = ["literacy", "phq9", "gad7", "asq"]
WORKERS = 4
THREADS = 4
CONSENT_TEXT = (
    "This screening helps the mental health centre offer support early. Your answers are "
    "confidential and used only to offer you help."
)


def url_for(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def recreate_database(name: str) -> str:
    """Drop and create `name` on the loopback server; returns its SQLAlchemy URL."""
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, timeout=60
        )
    return url_for(name)


def seed_intake(url: str, students: int) -> dict:
    """Schema from the models, `students` student accounts S000001… sharing one password hash,
    staff who receive red escalations, and the open freshman intake with every student due."""
    from campus import clock
    from campus.auth import hash_password
    from campus.extensions import db
    from campus.models import ClassGroup
    from campus.models import Department
    from campus.models import DormBuilding
    from campus.models import DormRoom
    from campus.models import Institution
    from campus.models import Role
    from campus.models import RoleAssignment
    from campus.models import User
    from screening import campaigns
    from screening.models import Campaign

    app = pg.app_with_schema(url)
    with app.app_context():
        session = db.session
        now = clock.now()
        inst = Institution(code=INSTITUTION, name="Load University", on_duty_phone="0731-0000")
        dept = Department(institution=inst, name="Computing")
        group = ClassGroup(department=dept, name="CS 1", grade=now.year)
        session.add_all([inst, dept, group])
        session.flush()
        room = DormRoom(building=DormBuilding(institution_id=inst.id, name="A"), number="101")
        session.add(room)
        session.flush()
        password_hash = hash_password(PASSWORD)  # argon2 once; every account reuses it
        for login, role, dept_id in (
            ("dc", Role.DEPT_COUNSELLOR, dept.id),
            ("dl", Role.DEPT_LEADER, dept.id),
            ("sc", Role.SCHOOL_COUNSELLOR, None),
            ("dir", Role.DIRECTOR, None),
        ):
            staff = User(institution=inst, login=login, name=login, password_hash=password_hash)
            staff.roles.append(
                RoleAssignment(role=role, institution_id=inst.id, department_id=dept_id)
            )
            session.add(staff)
        session.commit()
        params = {
            "i": inst.id,
            "d": dept.id,
            "c": group.id,
            "r": room.id,
            "n": students,
            "h": password_hash,
            "now": now,
        }
        for table, columns, select in SEED:
            pg.insert_select(session, table, columns, select, params)
        session.commit()
        campaign = Campaign(
            institution_id=inst.id,
            name=f"{now.year} freshman intake (load)",
            instruments=INSTRUMENTS,
            grades=[now.year],
            department_ids=[],
            class_ids=[],
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            consent_text_zh=CONSENT_TEXT,
            consent_text_en=CONSENT_TEXT,
            reminder_every_days=0,
        )
        session.add(campaign)
        session.flush()
        assigned, _ = campaigns.sync_assignments(session, campaign)
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    return {"students": students, "assigned": assigned, "campaign_instruments": INSTRUMENTS}


# Per table: the columns chosen and the SELECT giving them; the models' defaults fill the rest.
SEED = [
    *pg.student_accounts("S"),
    (
        "student",
        (
            "institution_id, user_id, student_number, name, gender, birth_date, department_id, "
            "class_id, room_id, enrolment_status"
        ),
        """SELECT :i, id, login, name, 'F', DATE '2005-03-01', :d, :c, :r, 'ENROLLED'
           FROM user_account WHERE login LIKE 'S%'""",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(url: str) -> dict[str, str]:
    """Production configuration on plain HTTP over loopback, rate limits off: every simulated
    student comes from 127.0.0.1, so the per-address login limit would stop them after 30."""
    return {
        **os.environ,
        "XINQIAO_CONFIG": "production",
        "SECRET_KEY": "bench-load-secret-not-used-elsewhere",
        # A field-encryption key for the bench only: production refuses to start without one.
        "FIELD_ENCRYPTION_KEYS": "bvF0w8qWRuNOwlVRVm2Uq9ef5fnsdXdIGKpGrz9QKlw=",
        "DATABASE_URL": url,
        "SESSION_COOKIE_SECURE": "0",
        "FORCE_HTTPS": "0",
        "RATELIMIT_ENABLED": "0",
        "SCHEDULER_ENABLED": "0",
    }


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        return [child.pid for child in psutil.Process(self.process.pid).children()]


@contextmanager
def gunicorn(target: str, url: str, log: Path) -> Iterator[Server]:
    """gunicorn on 127.0.0.1:<free port> with WORKERS × THREADS; stopped on the way out."""
    port = free_port()
    command = [
        str(VENV / "gunicorn"),
        "-w",
        str(WORKERS),
        "-k",
        "gthread",
        "--threads",
        str(THREADS),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        target,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=app_env(url), stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, port)
    try:
        _wait_ready(server, "/form" if "baseline" in target else "/login")
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}")
        try:
            with urllib.request.urlopen(server.base + path, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn not ready on {server.base} after {seconds} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass(frozen=True)
class LoadRun:
    """Figures of one locust run, from its stats CSV."""

    submissions_per_s: float
    submissions: int
    submission_p95_ms: float
    submission_p50_ms: float
    all_p95_ms: float
    requests: int
    failures: int
    by_name: dict[str, dict[str, str]]


def start_locust(
    host: str,
    *,
    user_class: str,
    users: int,
    spawn_rate: float,
    run_time: int,
    workdir: Path,
    first: int = 1,
    count: int = 1_000_000,
    wait: str = "0,0",
) -> subprocess.Popen:
    """locust headless in the background; `finish_locust` waits for it and reads its CSV."""
    env = {
        **os.environ,
        "XINQIAO_BENCH_LOG": str(workdir / "events.csv"),
        "XINQIAO_BENCH_FIRST": str(first),
        "XINQIAO_BENCH_COUNT": str(count),
        "XINQIAO_BENCH_INSTITUTION": INSTITUTION,
        "XINQIAO_BENCH_PASSWORD": PASSWORD,
        "XINQIAO_BENCH_WAIT": wait,
        "XINQIAO_BENCH_USER": user_class,
    }
    command = [
        str(VENV / "locust"),
        "-f",
        str(ROOT / "bench" / "load" / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{run_time}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(workdir / "locust"),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    with (workdir / "locust.log").open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def finish_locust(process: subprocess.Popen, run_time: int, workdir: Path) -> LoadRun:
    try:
        process.wait(timeout=run_time + 90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise
    return read_stats(workdir / "locust_stats.csv")


def run_locust(host: str, *, run_time: int, workdir: Path, **options) -> LoadRun:
    workdir.mkdir(parents=True, exist_ok=True)
    process = start_locust(host, run_time=run_time, workdir=workdir, **options)
    return finish_locust(process, run_time, workdir)


def read_stats(path: Path) -> LoadRun:
    with path.open(newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows.pop("Aggregated")
    submission = next(
        (r for name, r in rows.items() if "submission" in name or "/submit" in name), None
    ) or {"Requests/s": 0, "Request Count": 0, "Failure Count": 0, "95%": "nan", "50%": "nan"}
    return LoadRun(
        submissions_per_s=float(submission["Requests/s"]),
        submissions=int(submission["Request Count"]) - int(submission["Failure Count"]),
        submission_p95_ms=_ms(submission["95%"]),
        submission_p50_ms=_ms(submission["50%"]),
        all_p95_ms=_ms(total["95%"]),
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        by_name=rows,
    )


def _ms(value: str) -> float:
    """A percentile cell of locust's CSV; "N/A" when nothing was measured."""
    try:
        return float(value)
    except ValueError:
        return float("nan")


def events(workdir: Path) -> list[list[str]]:
    """The locust event log: [time, event, login, instrument, status] per line."""
    path = workdir / "events.csv"
    if not path.exists():
        return []
    return [line.split(",") for line in path.read_text().splitlines() if line]
