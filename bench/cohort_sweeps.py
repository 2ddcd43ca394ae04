"""The two sweeps of the first week, at a large university's size, in PostgreSQL: late students
joining the open campaigns' cohorts (`screening.late_students`) and interviews handed to the
counsellor who took up the case (`casework.interview_case_counsellor`). Each runs on every
scheduler tick, so what matters is the tick with nothing to do as much as the one with work.
Baseline: a sequential count of the assignment table."""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from bench import pg
from bench.results import Figure
from bench.timing import p95
from bench.timing import timed

NOW = datetime(2026, 9, 14, 2, 0, 0)
REPEATS = 20
CAMPAIGNS = 3  # the intake, a grade's re-screen, one department's round


def _seed(session, students: int, late: int, cases: int) -> None:
    """`students` enrolled freshmen; `CAMPAIGNS` open campaigns of their grade assigned to all
    but the last `late`; `cases` interview entries to assign, half of them of students whose open
    warning a school counsellor has taken up."""
    from campus.auth import hash_password
    from campus.models import ClassGroup
    from campus.models import Department
    from campus.models import Institution
    from campus.models import Role
    from campus.models import RoleAssignment
    from campus.models import User
    from screening.models import Campaign

    inst = Institution(code="BENCH", name="Bench University")
    dept = Department(institution=inst, name="Computing")
    group = ClassGroup(department=dept, name="CS", grade=2026)
    session.add_all([inst, dept, group])
    session.flush()
    counsellor = User(institution=inst, login="sc", name="Centre", password_hash=hash_password("x"))
    counsellor.roles.append(RoleAssignment(role=Role.SCHOOL_COUNSELLOR, institution_id=inst.id))
    session.add(counsellor)
    for n in range(CAMPAIGNS):
        session.add(
            Campaign(
                institution_id=inst.id,
                name=f"round {n}",
                instruments=["phq9"],
                grades=[2026],
                opens_at=NOW - timedelta(days=1),
                closes_at=NOW + timedelta(days=30),
            )
        )
    session.commit()
    p = {
        "i": inst.id,
        "d": dept.id,
        "c": group.id,
        "n": students,
        "on_time": students - late,
        "cases": cases,
        "sc": counsellor.id,
        "now": NOW,
    }
    for table, columns, query in SEED:
        pg.insert_select(session, table, columns, query, p)
        session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def run(args) -> dict:
    from campus.extensions import db
    from casework.interviews import case_counsellor_sweep
    from screening.campaigns import late_students_sweep
    from screening.models import CampaignAssignment

    students, late, cases = (2_000, 100, 200) if args.quick else (30_000, 1_000, 2_000)
    app = pg.app_with_schema(pg.recreate())
    with app.app_context():
        session = db.session
        start = time.perf_counter()
        _seed(session, students, late, cases)
        seeded = time.perf_counter() - start
        start = time.perf_counter()
        added = late_students_sweep(session, NOW)
        late_tick = time.perf_counter() - start
        idle_late = timed(lambda: late_students_sweep(session, NOW), REPEATS)
        start = time.perf_counter()
        handed = case_counsellor_sweep(session, NOW)
        case_tick = time.perf_counter() - start
        idle_case = timed(lambda: case_counsellor_sweep(session, NOW), REPEATS)
        assigned = session.scalar(select(func.count(CampaignAssignment.id)))
        base = timed(lambda: session.execute(text("SELECT count(*) FROM screening_assignment")), 5)
    baseline = statistics.median(base)
    figures = [
        Figure(
            f"late students' sweep, {late:,} joined {CAMPAIGNS} open campaigns of {students:,}",
            late_tick * 1000,
            "ms",
            "< 5,000 ms (ticks are 60 s apart)",
            late_tick < 5.0,
            baseline * 1000,
            "count(*) of assignments",
        ),
        Figure(
            "late students' sweep, nothing to add (p95 of every later tick)",
            p95(idle_late) * 1000,
            "ms",
            "< 250 ms",
            p95(idle_late) < 0.25,
            baseline * 1000,
            "count(*) of assignments",
        ),
        Figure(
            f"case counsellor's sweep, {handed:,} of {cases:,} interviews handed out at once",
            case_tick * 1000,
            "ms",
            "< 5,000 ms (ticks are 60 s apart)",
            case_tick < 5.0,
        ),
        Figure(
            "case counsellor's sweep, nothing to hand out (p95)",
            p95(idle_case) * 1000,
            "ms",
            "< 100 ms",
            p95(idle_case) < 0.1,
        ),
    ]
    notes = [
        f"Seeded with set-based SQL in {seeded:.1f} s: {students:,} students, {CAMPAIGNS} open "
        f"campaigns of their grade assigned to all but {late:,} ({assigned:,} assignments after "
        f"the sweep added {added:,}), {cases:,} interview entries to assign, half of them of "
        "students whose open red a school counsellor has taken up.",
        "Both sweeps run on every scheduler tick (SCHEDULER_SWEEP_SECONDS); an idle tick is "
        "one query per open campaign (late students) and one join (case counsellors).",
    ]
    return {
        "title": "First-week sweeps: late students and case counsellors' interviews (PostgreSQL)",
        "figures": figures,
        "notes": notes,
    }


# Per table: the columns chosen and the SELECT giving them; the models' defaults fill the rest.
SEED = [
    (
        "student",
        (
            "institution_id, student_number, name, gender, birth_date, department_id, "
            "class_id, enrolment_status"
        ),
        """SELECT :i, 'S' || g, 'Student ' || g, 'F', DATE '2007-01-01', :d, :c, 'ENROLLED'
           FROM generate_series(1, :n) g""",
    ),
    (
        "screening_assignment",
        "campaign_id, student_id, created_at",
        """SELECT c.id, s.id, :now FROM screening_campaign c
           JOIN student s ON s.student_number::text <> ''
           WHERE substr(s.student_number, 2)::int <= :on_time""",
    ),
    (
        "warning",
        (
            "student_id, institution_id, department_id, status, level, computed_level, "
            "reason, policy_version, owner_tier, owner_since, opened_at, version, "
            "assigned_counsellor_id"
        ),
        """SELECT s.id, :i, :d, 'OPEN', 3, 3, 'bench', 'bench', 3, :now, :now, 1,
               CASE WHEN g % 2 = 0 THEN :sc END
           FROM generate_series(1, :cases) g JOIN student s ON s.student_number = 'S' || g""",
    ),
    (
        "interview_entry",
        (
            "campaign_id, student_id, institution_id, department_id, rule_set_version, "
            "reasons, tier, state, due_at, due_from_warning, created_at, no_shows, version"
        ),
        """SELECT (SELECT min(id) FROM screening_campaign), s.id, :i, :d, 'bench', '[]',
               'school', 'TO_ASSIGN', :now + INTERVAL '14 days', false, :now, 0, 1
           FROM generate_series(1, :cases) g JOIN student s ON s.student_number = 'S' || g""",
    ),
]
