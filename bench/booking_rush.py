"""Booking rush: the week's counselling times open and 2,000 students try for 200 of them within
a minute.

Real gunicorn (harness.WORKERS × THREADS gthread) serves Xinqiao in production configuration on
PostgreSQL `xinqiao_bench_booking`. Every student already holds a signed-in session when booking
opens (made directly: a server-side session row and its signed cookie; the password sign-in has
its figures in screening_day) and has the week's times as the booking page lists them.
Then, in one minute, each student posts the pre-check and books a time they chose from that page
(a third the earliest time, the rest one of the week's times at random); a student told "taken"
(redirected to the pre-check page, which says so) books one of the next free times it offers,
once; one told "booked" follows the redirect to the confirmation, as the browser does. Students
arrive at uniformly random moments of the minute (about 33 a second). The same-run baseline: a
student who is not booking opens their home page (a page that reads and writes nothing of the
booking) five times a second through the rush.

Afterwards the database must hold no seat twice, no student twice, and exactly the bookings the
students were told were made.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from urllib.parse import urljoin

import requests
from sqlalchemy import create_engine
from sqlalchemy import text

from bench import machine
from bench import pg
from bench.load import harness
from bench.results import Figure

DATABASE = "xinqiao_bench_booking"
INSTITUTION = "BOOK"
PASSWORD = "booking-rush-2026"  # noqa: S105 - synthetic bench accounts on a throwaway database
COUNSELLORS = 10
SLOTS_PER_COUNSELLOR = 20  # four a day, Monday to Friday
RUSH_SECONDS = 60
CLIENT_THREADS = 64
SAFETY_SHARE = 0.02  # students who answer the safety question above "not at all"
OBSERVE_EVERY = 0.2  # seconds between the baseline's home pages
WARM_UP_PAGES = 200  # list pages opened before the opening (students waiting for it)
_NEXT_TIME = re.compile(r'formaction="/appointments/book/(\d+)"')


def _sizes(quick: bool) -> dict:
    if quick:
        return {"students": 200, "counsellors": 2, "rush": 15}
    return {"students": 2_000, "counsellors": COUNSELLORS, "rush": RUSH_SECONDS}


@dataclass
class Student:
    login: str
    http: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""
    slots: list[int] = field(default_factory=list)
    outcome: str = "unanswered"


@dataclass
class Timings:
    booking_ms: list[float] = field(default_factory=list)
    confirmed_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    home_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float) -> None:
        with self.lock:
            getattr(self, f"{kind}_ms").append(ms)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def run(args) -> dict:
    size = _sizes(args.quick)
    workdir = Path(tempfile.mkdtemp(prefix="xinqiao_bench_booking_"))
    url = harness.recreate_database(DATABASE)
    started = time.perf_counter()
    seeded = seed(url, size["students"] + 1, size["counsellors"])
    seeded["students"] = size["students"]  # and the baseline's student
    seed_seconds = time.perf_counter() - started
    students = [Student(f"B{n:06d}") for n in range(1, size["students"] + 1)]
    observer = Student(f"B{size['students'] + 1:06d}")  # the baseline's student, not booking
    timings = Timings()
    started = time.perf_counter()
    _sign_in_all(url, [*students, observer], _slot_ids(url))
    prepare_seconds = time.perf_counter() - started
    with harness.gunicorn("wsgi:app", url, workdir / "gunicorn.log") as server:
        warmed = _warm_up(server.base, students[:WARM_UP_PAGES])
        load_before = os.getloadavg()[0]
        speed_before = machine.reference_loop_ms()
        rush_started = time.perf_counter()
        rng = random.Random(2026)
        # In the order of their moments: a pool thread waiting for a late student must not hold
        # back the earlier ones queued behind it (that bunched the arrivals at the end).
        plan = sorted(((s, size["rush"] * rng.random(), rng) for s in students), key=itemgetter(1))
        done = threading.Event()
        baseline = threading.Thread(target=_observe, args=(server.base, observer, done, timings))
        baseline.start()
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            list(pool.map(lambda p: _rush(server.base, *p, rush_started, timings), plan))
        rush_seconds = time.perf_counter() - rush_started
        done.set()
        baseline.join()
        load_after = os.getloadavg()[0]
    speed_after = machine.reference_loop_ms()
    integrity = verify(url, students)
    seeded["load"] = (load_before, load_after)
    seeded["speed"] = (speed_before, speed_after)
    seeded["warmed"] = warmed
    return _report(
        size,
        seeded,
        seed_seconds,
        prepare_seconds,
        rush_seconds,
        students,
        timings,
        integrity,
        workdir,
    )


def seed(url: str, students: int, counsellors: int) -> dict:
    """Schema from the models; `students` accounts B000001… sharing one password hash; the
    counsellors' week of slots, Monday to Friday from tomorrow, four a day each."""
    from appointments.models import CounsellorProfile
    from appointments.models import SessionKind
    from appointments.models import Slot
    from campus import clock
    from campus.auth import hash_password
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
        inst = Institution(code=INSTITUTION, name="Booking University", on_duty_phone="0731-0000")
        dept = Department(institution=inst, name="Computing")
        group = ClassGroup(department=dept, name="CS 1", grade=now.year)
        session.add_all([inst, dept, group])
        session.flush()
        password_hash = hash_password(PASSWORD)  # argon2 once; every account reuses it
        start = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
        slots = 0
        for n in range(1, counsellors + 1):
            user = User(
                institution=inst, login=f"c{n}", name=f"Counsellor {n}", password_hash=password_hash
            )
            user.roles.append(RoleAssignment(role=Role.SCHOOL_COUNSELLOR, institution_id=inst.id))
            session.add(user)
            session.flush()
            session.add(
                CounsellorProfile(
                    user_id=user.id, institution_id=inst.id, gender="F" if n % 2 else "M"
                )
            )
            for k in range(SLOTS_PER_COUNSELLOR):
                starts = start + timedelta(days=k // 4, hours=(k % 4) + (3 if k % 4 > 1 else 0))
                session.add(
                    Slot(
                        institution_id=inst.id,
                        counsellor_id=user.id,
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=50),
                        room=f"Room {n}",
                        kind=SessionKind.FIRST_VISIT,
                        capacity=1,
                    )
                )
                slots += 1
        session.commit()
        params = {
            "i": inst.id,
            "d": dept.id,
            "c": group.id,
            "n": students,
            "h": password_hash,
            "now": now,
        }
        for table, columns, select in SEED:
            pg.insert_select(session, table, columns, select, params)
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        # The seed's pages written out now, not by a checkpoint in the middle of the rush: a
        # server at the opening has no freshly loaded campus waiting in its buffers.
        session.execute(text("CHECKPOINT"))
    return {"students": students, "slots": slots, "counsellors": counsellors}


# Per table: the columns chosen and the SELECT giving them; the models' defaults fill the rest.
SEED = [
    *pg.student_accounts("B"),
    (
        "student",
        (
            "institution_id, user_id, student_number, name, gender, birth_date, department_id, "
            "class_id, enrolment_status"
        ),
        """SELECT :i, id, login, name, 'F', DATE '2005-03-01', :d, :c, 'ENROLLED'
           FROM user_account WHERE login LIKE 'B%'""",
    ),
]


def _sign_in_all(url: str, students: list[Student], slot_ids: list[int]) -> None:
    """Pre-authenticated sessions, as the students would hold after signing in before the
    opening: a server-side session row per student and the browser cookie that carries it,
    signed with the server's key, with the csrf token of that session. The argon2 sign-in has
    its own figures (screening_day); here it would only measure the wait before the opening."""
    from flask import session as cookie
    from flask_wtf.csrf import generate_csrf

    from campus import create_app

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_session (token, user_id, created_at, last_seen_at, "
                "signed_in_with) SELECT 'bench-' || login, id, now() AT TIME ZONE 'UTC', "
                "now() AT TIME ZONE 'UTC', 'password' FROM user_account WHERE login LIKE 'B%'"
            )
        )
    engine.dispose()
    env = harness.app_env(url)  # the server's key and field keys: its cookies, its database
    app = create_app(
        "test",
        SECRET_KEY=env["SECRET_KEY"],
        FIELD_ENCRYPTION_KEYS=env["FIELD_ENCRYPTION_KEYS"],
        SQLALCHEMY_DATABASE_URI=url,
    )
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    for student in students:
        with app.test_request_context():
            cookie["_user_id"] = f"bench-{student.login}"
            cookie["_fresh"] = True
            student.csrf = generate_csrf()
            student.http.cookies.set(
                app.config["SESSION_COOKIE_NAME"], serializer.dumps(dict(cookie))
            )
        student.slots = slot_ids


def _warm_up(base: str, students: list[Student]) -> int:
    """Before the opening, some students open the booking list (as they would, waiting for it):
    every gunicorn worker has imported the app, compiled its templates and opened its database
    connections by the time the rush starts, as on a server that has been up all day. A freshly
    forked worker's first requests are not what a student meets at nine on a Monday."""

    def open_list(student: Student) -> int:
        return student.http.get(f"{base}/appointments/book", timeout=120).status_code

    with ThreadPoolExecutor(harness.WORKERS * harness.THREADS) as pool:
        statuses = list(pool.map(open_list, students))
    return sum(status == 200 for status in statuses)


def _slot_ids(url: str) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = list(conn.scalars(text("SELECT id FROM appointment_slot ORDER BY starts_at, id")))
    engine.dispose()
    return ids


def _rush(
    base: str,
    student: Student,
    offset: float,
    rng: random.Random,
    started: float,
    timings: Timings,
) -> None:
    """At the student's moment: book their chosen time; after "taken", the first time offered
    instead, once; then open the home page."""
    if not student.slots:
        return
    choice = student.slots[0] if rng.random() < 1 / 3 else rng.choice(student.slots)
    safety = "1" if rng.random() < SAFETY_SHARE else "0"
    delay = started + offset - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    try:
        for attempt in range(2):
            # The page keeps its form token after "taken", as the browser's form does: a
            # pre-check kept for its safety answer is not stored (nor signalled) twice.
            response = _post_booking(base, student, choice, safety, student.login, timings)
            if response is None:
                return
            if response.status_code == 302 and "/confirmed" in response.headers.get("Location", ""):
                student.outcome = "booked"
                _open(base, student, response.headers["Location"], "confirmed", timings)
                break
            refused = response.headers.get("Location", "")
            if response.status_code == 303 and "refused=1" in refused:
                # A refusal redirects to the pre-check page, which offers the next free times.
                student.outcome = "taken"
                page = _open(base, student, refused, "refused", timings)
                offered = [int(s) for s in _NEXT_TIME.findall(page.text)] if page else []
                if offered and attempt == 0:
                    choice = offered[0]
                    continue
                break
            student.outcome = f"status {response.status_code}"
            timings.error(f"booking {student.login}: {response.status_code}")
            break
    except requests.RequestException as exc:
        timings.error(f"rush {student.login}: {exc}")


def _open(
    base: str, student: Student, path: str, kind: str, timings: Timings
) -> requests.Response | None:
    """GET one page as `student`, timed under `kind`; anything but 200 is an error (None)."""
    t0 = time.perf_counter()
    page = student.http.get(urljoin(base, path), timeout=120)
    timings.add(kind, (time.perf_counter() - t0) * 1000)
    if page.status_code != 200:
        timings.error(f"{kind} {student.login}: {page.status_code}")
        return None
    return page


def _observe(base: str, observer: Student, done: threading.Event, timings: Timings) -> None:
    """The same-run baseline: the home page, every `OBSERVE_EVERY` seconds until the rush ends."""
    while not done.wait(OBSERVE_EVERY):
        try:
            _open(base, observer, "/", "home", timings)
        except requests.RequestException as exc:
            timings.error(f"baseline: {exc}")


def _post_booking(
    base: str, student: Student, slot_id: int, safety: str, token: str, timings: Timings
) -> requests.Response | None:
    data = {
        "csrf_token": student.csrf,
        "token": token,
        "reason": "考试压力大，睡不好",
        "phq2_1": "1",
        "phq2_2": "1",
        "gad2_1": "2",
        "gad2_2": "1",
        "safety": safety,
    }
    t0 = time.perf_counter()
    response = student.http.post(
        f"{base}/appointments/book/{slot_id}", data=data, allow_redirects=False, timeout=120
    )
    timings.add("booking", (time.perf_counter() - t0) * 1000)
    return response


def verify(url: str, students: list[Student]) -> dict[str, int]:
    """What the database holds after the rush, against what the students were told."""
    engine = create_engine(url)
    live = "state IN ('BOOKED', 'ATTENDED', 'NO_SHOW')"
    with engine.connect() as conn:
        double_seats = conn.scalar(
            text(
                f"SELECT count(*) FROM (SELECT slot_id, seat FROM appointment WHERE {live} "
                "GROUP BY slot_id, seat HAVING count(*) > 1) d"
            )
        )
        double_students = conn.scalar(
            text(
                f"SELECT count(*) FROM (SELECT student_id FROM appointment WHERE {live} "
                "GROUP BY student_id HAVING count(*) > 1) d"
            )
        )
        appointments = conn.scalar(text(f"SELECT count(*) FROM appointment WHERE {live}"))
        free_left = conn.scalar(
            text(
                "SELECT count(*) FROM appointment_slot s WHERE NOT EXISTS "
                f"(SELECT 1 FROM appointment a WHERE a.slot_id = s.id AND a.{live})"
            )
        )
        red_signals = conn.scalar(
            text("SELECT count(*) FROM signal WHERE evidence_type = 'appointment_precheck'")
        )
        prechecks = conn.scalar(text("SELECT count(*) FROM appointment_precheck"))
    engine.dispose()
    told_booked = sum(s.outcome == "booked" for s in students)
    return {
        "seats held twice": double_seats or 0,
        "students holding two": double_students or 0,
        "appointments": appointments or 0,
        "students told booked": told_booked,
        "told booked but not stored (or stored untold)": abs((appointments or 0) - told_booked),
        "slots left free": free_left or 0,
        "pre-checks stored": prechecks or 0,
        "safety signals raised": red_signals or 0,
    }


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _report(
    size, seeded, seed_seconds, prepare_seconds, rush_seconds, students, timings, integrity, workdir
) -> dict:
    outcomes: dict[str, int] = {}
    for s in students:
        outcomes[s.outcome] = outcomes.get(s.outcome, 0) + 1
    answered = outcomes.get("booked", 0) + outcomes.get("taken", 0)
    booking_p95, home_p95 = _p(timings.booking_ms, 95), _p(timings.home_ms, 95)
    violations = (
        integrity["seats held twice"]
        + integrity["students holding two"]
        + integrity["told booked but not stored (or stored untold)"]
    )
    figures = [
        Figure(
            f"booking POST p95, {size['students']:,} students in {size['rush']} s",
            booking_p95,
            "ms",
            "< 300 ms",
            booking_p95 < 300,
            home_p95,
            "student home page p95",
        ),
        Figure(
            "booking POST p50",
            _p(timings.booking_ms, 50),
            "ms",
            "—",
            None,
            _p(timings.home_ms, 50),
            "student home page p50",
        ),
        Figure(
            "students answered (booked or taken)",
            answered,
            "",
            f"{size['students']:,}",
            answered == size["students"],
        ),
        Figure(
            "double bookings (seat or student twice, told ≠ stored)",
            violations,
            "",
            "0",
            violations == 0,
        ),
        Figure("errors (failed requests)", len(timings.errors), "", "0", not timings.errors),
    ]
    return {
        "title": "Booking rush under gunicorn (PostgreSQL, loopback)",
        "figures": figures,
        "failed": not all(f.met for f in figures if f.met is not None),
        "notes": [
            f"gunicorn {harness.WORKERS} workers × {harness.THREADS} threads (gthread) on "
            "127.0.0.1, XINQIAO_CONFIG=production, rate limits off (every student comes from "
            f"127.0.0.1); the client is {CLIENT_THREADS} Python threads (requests) on the same "
            "machine, sharing its cores with gunicorn and PostgreSQL.",
            f"{seeded['students']:,} students, {seeded['counsellors']} counsellors, "
            f"{seeded['slots']} one-to-one slots over the week, seeded in {seed_seconds:.0f} s; "
            f"each student holds a signed-in session from before the opening (made in "
            f"{prepare_seconds:.0f} s: a server-side session row and its signed cookie; the "
            "password sign-in is measured by screening_day) and the week's times as the "
            "booking page listed them at the opening. Before the opening "
            f"{seeded['warmed']:,} of them opened the booking list (every worker warm, as on a "
            "server that has been up all day).",
            f"The rush lasted {rush_seconds:.1f} s: {len(timings.booking_ms):,} booking POSTs "
            f"(pre-check included, {SAFETY_SHARE:.0%} with a safety answer), "
            f"{len(timings.confirmed_ms):,} confirmation pages (p95 "
            f"{_p(timings.confirmed_ms, 95):,.0f} ms), {len(timings.refused_ms):,} refusal pages "
            f"(p95 {_p(timings.refused_ms, 95):,.0f} ms), {len(timings.home_ms):,} baseline home "
            "pages. Outcomes: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
            + ".",
            "Database after the rush: "
            + ", ".join(f"{k} {v:,}" for k, v in integrity.items())
            + ".",
            "Machine load average (1 min) before and after the rush: "
            f"{seeded['load'][0]:.1f}, {seeded['load'][1]:.1f} — other work shared the cores. "
            "One core's time for the reference loop (bench.machine) before and after: "
            f"{seeded['speed'][0]:.0f} ms, {seeded['speed'][1]:.0f} ms — the host's speed "
            "varies; compare runs only where it is alike.",
            "First errors: " + ("; ".join(timings.errors[:5]) or "none") + ".",
            f"gunicorn log of this run: {workdir}.",
        ],
    }
