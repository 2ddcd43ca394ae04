"""What one student's screening-day requests cost inside the app, request by request.

    .venv/bin/python -m bench.request_profile [--database-url URL] [--students 50] [--sql]

Seeds the freshman intake like the load bench (`harness.seed_intake`, database
xinqiao_bench_profile recreated each run) and walks each student's flow through Flask's test
client in the load bench's production configuration (CSRF on, rate limits off): sign in,
"My screenings", consent, then per instrument the page, its submission, the feedback and the
resume redirect. Per kind of request it prints the SQL statements executed, the rows written and
the median in-process time, so redundant work per request shows up without gunicorn or locust.
`--sql` also prints the statements of the first measured student.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

from bench.load import harness

DATABASE = "xinqiao_bench_profile"
WARM_UP = 3  # students walked first and not measured: templates compile, instruments load
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN = re.compile(r'name="token"[^>]*value="([^"]*)"')
OPTION = re.compile(r'name="(item_\d+)" value="(-?\d+)"')
ASSIGNMENT = re.compile(r'href="/screening/a/(\d+)"')
INSTRUMENT = re.compile(r"/screening/a/\d+/i/([a-z0-9_]+)$")
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Cost:
    """What the statement listener saw during one request."""

    statements: list[str] = field(default_factory=list)
    rows_written: int = 0
    commits: int = 0  # of transactions that wrote: each waits for its WAL flush


@dataclass
class Sample:
    name: str
    statements: int
    rows_written: int
    commits: int
    seconds: float
    cpu_seconds: float
    sql: list[str]


class Meter:
    """Counts statements, written rows and commits that wrote on the app's engine while a
    request runs."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.cost: Cost | None = None
        self.wrote = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _before(self, _conn, _cursor, statement, *_args) -> None:
        if self.cost is not None:
            self.cost.statements.append(" ".join(statement.split()))

    def _after(self, _conn, cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            self.wrote = True
            if self.cost is not None:
                self.cost.rows_written += max(cursor.rowcount, 0)

    def _commit(self, _conn) -> None:
        if self.cost is not None and self.wrote:
            self.cost.commits += 1
        self.wrote = False

    def _rollback(self, _conn) -> None:
        self.wrote = False

    def request(self, samples: list[Sample], name: str, call):
        """Run `call()` (one test-client request), append its sample, return its response."""
        self.cost = Cost()
        started, cpu = time.perf_counter(), time.process_time()
        try:
            response = call()
        finally:
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            cost, self.cost = self.cost, None
        samples.append(
            Sample(
                name,
                len(cost.statements),
                cost.rows_written,
                cost.commits,
                elapsed,
                cpu,
                cost.statements,
            )
        )
        return response


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


def _lowest_answers(html: str) -> dict[str, str]:
    """The lowest option of every item: the answers most students give, no safety answer."""
    lowest: dict[str, int] = {}
    for name, value in OPTION.findall(html):
        lowest[name] = min(int(value), lowest.get(name, int(value)))
    return {name: str(value) for name, value in lowest.items()}


def walk(app, meter: Meter, login: str) -> list[Sample]:
    """One student's whole intake, as the load bench's browser does it; fails loudly."""
    client = app.test_client()
    samples: list[Sample] = []

    def get(name: str, path: str, expect: int = 200):
        response = meter.request(samples, name, lambda: client.get(path))
        _expect(response, expect, name)
        return response

    def post(name: str, path: str, data: dict):
        response = meter.request(samples, name, lambda: client.post(path, data=data))
        _expect(response, 302, name)
        return response

    page = get("GET /login", "/login")
    post(
        "POST /login",
        "/login",
        {
            "csrf_token": _csrf(page.text),
            "institution": harness.INSTITUTION,
            "login": login,
            "password": harness.PASSWORD,
        },
    )
    assignment = "/screening/a/" + ASSIGNMENT.search(
        get("GET /screening/mine", "/screening/mine").text
    ).group(1)
    page = get("GET consent", f"{assignment}/consent")
    consent = {"csrf_token": _csrf(page.text), "informed": "y", "sensitive_data": "y"}
    post("POST consent", f"{assignment}/consent", consent)
    location = get("GET resume", assignment, 302).headers["Location"]
    while found := INSTRUMENT.search(location):
        path = location[location.index("/screening/") :]
        html = get("GET instrument", path).text
        answers = {"csrf_token": _csrf(html), "action": "submit", **_lowest_answers(html)}
        answers["token"] = TOKEN.search(html).group(1)
        post("POST instrument (submission)", path, answers)
        get("GET feedback", f"{path}/done")
        resumed = get(
            "GET resume", assignment, 302 if found.group(1) != harness.INSTRUMENTS[-1] else 200
        )
        location = resumed.headers.get("Location", "")
    return samples


def _expect(response, status: int, name: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{name}: {response.status_code}, expected {status}")


COLUMNS = ("per student", "statements", "rows written", "commits", "ms", "cpu ms")


def report(samples: list[Sample], students: int) -> str:
    """The table: per kind of request, its count per student and median costs; then the sums
    over one student's whole flow. ms is wall time in process, cpu ms the app's own CPU time
    (PostgreSQL's is not in it)."""
    by_name: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_name[sample.name].append(sample)
    lines = [f"{'request':<30}" + "".join(f"{c:>13}" for c in COLUMNS)]
    for name, group in by_name.items():
        lines.append(_row(name, len(group) / students, group, statistics.median))
    lines.append(
        _row("whole flow (sum per student)", len(samples) / students, samples, _per(students))
    )
    return "\n".join(lines)


def _per(students: int):
    return lambda values: sum(values) / students


def _row(name: str, count: float, group: list[Sample], summary) -> str:
    figures = (
        count,
        summary([s.statements for s in group]),
        summary([s.rows_written for s in group]),
        summary([s.commits for s in group]),
        1000 * summary([s.seconds for s in group]),
        1000 * summary([s.cpu_seconds for s in group]),
    )
    return f"{name:<30}" + "".join(
        f"{f:>13.1f}" if i >= 4 else f"{f:>13.0f}" for i, f in enumerate(figures)
    )


def recreate(url: str) -> str:
    """Drop and create the database `url` names, so every run starts from the same seed."""
    from sqlalchemy import create_engine
    from sqlalchemy import make_url
    from sqlalchemy import text

    target = make_url(url)
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        server.dispose()
    return url


def _parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.request_profile", description=__doc__)
    parser.add_argument(
        "--database-url", help=f"PostgreSQL database to recreate and use (default {DATABASE})"
    )
    parser.add_argument("--students", type=int, default=50, help="students measured")
    parser.add_argument("--sql", action="store_true", help="print one student's statements")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = _parse(argv)
    url = recreate(args.database_url or harness.url_for(DATABASE))
    # The production configuration reads the environment when `config` is first imported.
    os.environ.update(harness.app_env(url))
    harness.seed_intake(url, WARM_UP + args.students)
    from campus import create_app
    from campus.extensions import db

    app = create_app("production")
    with app.app_context():
        meter = Meter(db.engine)
    logins = [f"S{n:06d}" for n in range(1, WARM_UP + args.students + 1)]
    for login in logins[:WARM_UP]:
        walk(app, meter, login)
    samples: list[Sample] = []
    server_cpu = backend_cpu_seconds(url)
    for index, login in enumerate(logins[WARM_UP:]):
        walked = walk(app, meter, login)
        if args.sql and index == 0:
            _print_sql(walked)
        samples += walked
    server_cpu = backend_cpu_seconds(url) - server_cpu
    print(report(samples, args.students))
    print(f"PostgreSQL backends' CPU per student: {1000 * server_cpu / args.students:.1f} ms")


def backend_cpu_seconds(url: str) -> float:
    """CPU time so far of the server processes serving the profiled database (read from /proc,
    so only for a server on this machine); the app's pool keeps its connections between students.
    """
    from sqlalchemy import create_engine
    from sqlalchemy import make_url
    from sqlalchemy import text

    name = make_url(url).database
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pids = conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).all()
    finally:
        engine.dispose()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _print_sql(samples: list[Sample]) -> None:
    for sample in samples:
        print(f"--- {sample.name}: {sample.statements} statements")
        for statement in sample.sql:
            print(f"    {statement[:160]}")


if __name__ == "__main__":
    main()
