"""The student file of a student with five years of history, as a school counsellor opens it.

PostgreSQL `xinqiao_bench_file` (recreated each run; its own database so it never disturbs the
other benchmarks): 3,000 other students, and one student with five years of history — ten
screening rounds a year on PHQ-9 and GAD-7 (100 results), a warning a year with its signal and 60
contacts and follow-ups each (300 events), 60 family contacts, two referrals and a leave. The
page is fetched through the app (sign-in, scope, every section, template, audit row) 20 times
after a warm-up; the PDF once. Baseline: the same student's warning page (`/warnings/students/
<id>`), which reads the same timeline.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from datetime import datetime
from datetime import timedelta

from bench import pg
from bench.results import Figure

DB = "xinqiao_bench_file"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway benchmark account
NOW = datetime(2026, 9, 14, 2, 0)


def _seed(db, years: int, others: int) -> int:
    """The campus, the other students and the one with `years` of history; returns its id."""
    from campus.auth import hash_password
    from campus.models import Caseload
    from campus.models import ClassGroup
    from campus.models import Department
    from campus.models import DormBuilding
    from campus.models import DormRoom
    from campus.models import Hospital
    from campus.models import Institution
    from campus.models import Role
    from campus.models import RoleAssignment
    from campus.models import Student
    from campus.models import User
    from casework.models import ContactChannel
    from casework.models import ContactDirection
    from casework.models import ContactOutcome
    from casework.models import FamilyContact
    from referrals.models import ConsentBy
    from referrals.models import LeaveOfAbsence
    from referrals.models import LeaveReason
    from referrals.models import Referral
    from referrals.models import ReferralStatus
    from referrals.models import Urgency
    from screening.models import Campaign
    from screening.models import CampaignAssignment
    from screening.models import ScreeningResult
    from warning.models import EarlyWarning
    from warning.models import Signal
    from warning.models import WarningEvent
    from warning.models import WarningStatus

    session = db.session
    inst = Institution(code="BENCH", name="基准大学", live_since=NOW - timedelta(days=2000))
    session.add(inst)
    session.flush()
    dept = Department(institution_id=inst.id, name="计算机学院")
    session.add(dept)
    session.flush()
    group = ClassGroup(department_id=dept.id, name="CS2201", grade=2022)
    building = DormBuilding(institution_id=inst.id, name="1栋")
    session.add_all([group, building])
    session.flush()
    room = DormRoom(building_id=building.id, number="101")
    hospital = Hospital(institution_id=inst.id, name="脑科医院")
    session.add_all([room, hospital])
    session.flush()
    session.add_all(
        Student(
            institution_id=inst.id,
            student_number=f"O{n:06d}",
            name=f"学生{n}",
            gender="F",
            birth_date=date(2004, 1, 1),
            department_id=dept.id,
            class_id=group.id,
        )
        for n in range(others)
    )
    counsellor = User(
        institution_id=inst.id,
        login="sc",
        name="专职教师",
        password_hash=hash_password(PASSWORD),
        must_change_password=False,
    )
    counsellor.roles.append(RoleAssignment(role=Role.SCHOOL_COUNSELLOR, institution_id=inst.id))
    student = Student(
        institution_id=inst.id,
        student_number="S000001",
        name="李晓雨",
        gender="F",
        birth_date=date(2004, 3, 1),
        department_id=dept.id,
        class_id=group.id,
        room_id=room.id,
        guardian_name="李母",
    )
    session.add_all([counsellor, student])
    session.flush()
    session.add(Caseload(counsellor_id=counsellor.id, student_id=student.id))
    start = NOW - timedelta(days=365 * years)
    for n in range(10 * years):
        opens = start + timedelta(days=36 * n)
        campaign = Campaign(
            institution_id=inst.id,
            name=f"第{n + 1}轮",
            instruments=["phq9", "gad7"],
            opens_at=opens,
            closes_at=opens + timedelta(days=14),
        )
        session.add(campaign)
        session.flush()
        assignment = CampaignAssignment(
            campaign_id=campaign.id, student_id=student.id, completed_at=opens
        )
        session.add(assignment)
        session.flush()
        for code, total in (("phq9", 3 + n % 12), ("gad7", 2 + n % 9)):
            session.add(
                ScreeningResult(
                    assignment_id=assignment.id,
                    campaign_id=campaign.id,
                    student_id=student.id,
                    institution_id=inst.id,
                    instrument=code,
                    instrument_version="1",
                    answers={},
                    total=total,
                    band="mild",
                    completed_at=opens + timedelta(hours=1),
                )
            )
    for year in range(years):
        opened = start + timedelta(days=365 * year + 30)
        closed = opened + timedelta(days=200) if year < years - 1 else None
        warning = EarlyWarning(
            student_id=student.id,
            institution_id=inst.id,
            department_id=dept.id,
            status=WarningStatus.CLOSED if closed else WarningStatus.OPEN,
            level=2,
            computed_level=2,
            reason="yellow: PHQ-9 = 12",
            policy_version="bench",
            owner_tier=3,
            owner_since=opened,
            opened_at=opened,
            closed_at=closed,
        )
        session.add(warning)
        session.flush()
        session.add(
            Signal(
                student_id=student.id,
                institution_id=inst.id,
                source="screening",
                implied_level=2,
                policy_version="bench",
                label="PHQ-9 = 12",
                instrument="phq9",
                total=12,
                observed_at=opened,
            )
        )
        session.add_all(
            WarningEvent(
                warning_id=warning.id,
                at=opened + timedelta(days=3 * k),
                actor_id=counsellor.id,
                kind="contact" if k % 2 else "follow_up_scheduled",
                outcome="reached" if k % 2 else (opened + timedelta(days=3 * k + 14)).isoformat(),
                note="约谈，学生情绪平稳。",
            )
            for k in range(60)
        )
    session.add_all(
        FamilyContact(
            institution_id=inst.id,
            student_id=student.id,
            at=start + timedelta(days=30 * k),
            author_id=counsellor.id,
            direction=ContactDirection.WE_CALLED,
            guardian_name="李母",
            guardian_relation="母亲",
            channel=ContactChannel.PHONE,
            summary="电话告知近况，家长表示配合。",
            outcome=ContactOutcome.REACHED,
            agreements=["informed_consent"],
            other_agreement="",
            submission=f"bench-{k}",
        )
        for k in range(60)
    )
    for k in range(2):
        session.add(
            Referral(
                institution_id=inst.id,
                student_id=student.id,
                hospital_id=hospital.id,
                department_id=dept.id,
                created_by_id=counsellor.id,
                reason="评估后建议就诊",
                urgency=Urgency.ROUTINE,
                disclosed_fields="name",
                consent_by=ConsentBy.STUDENT,
                consent_name="李晓雨",
                consent_method="written",
                consent_at=start + timedelta(days=400 * k),
                consent_recorded_by_id=counsellor.id,
                status=ReferralStatus.CLOSED,
                created_at=start + timedelta(days=400 * k),
            )
        )
    session.add(
        LeaveOfAbsence(
            institution_id=inst.id,
            student_id=student.id,
            start_date=(start + timedelta(days=500)).date(),
            expected_return_date=(start + timedelta(days=680)).date(),
            reason_category=LeaveReason.MENTAL_HEALTH,
            created_by_id=counsellor.id,
        )
    )
    session.commit()
    return student.id


def _seconds(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def run(args) -> dict:
    from campus import clock
    from campus import create_app
    from campus.extensions import db

    years, others, repeat = (1, 200, 5) if args.quick else (5, 3000, 20)
    # The page, not the sign-in: the bench counsellor signs in with a password alone.
    app = create_app("test", SQLALCHEMY_DATABASE_URI=pg.recreate(DB), MFA_REQUIRED_ROLES=())
    app.config["RATELIMIT_ENABLED"] = False
    clock.set_now(NOW)
    try:
        with app.app_context():
            db.create_all()
            student_id = _seed(db, years, others)
            db.session.remove()
        client = app.test_client()
        signed = client.post(
            "/login", data={"institution": "BENCH", "login": "sc", "password": PASSWORD}
        )
        assert signed.status_code == 302, signed.status_code
        page, warning_page = f"/casework/students/{student_id}", f"/warnings/students/{student_id}"
        _seconds(client, page)
        _seconds(client, warning_page)
        file_times = [_seconds(client, page) for _ in range(repeat)]
        base_times = [_seconds(client, warning_page) for _ in range(repeat)]
        pdf_times = [_seconds(client, page + "/file.pdf")]
    finally:
        clock.set_now(None)
    file_p95, base_p95 = _p95(file_times), _p95(base_times)
    return {
        "title": f"student_file ({years} years of history)",
        "figures": [
            Figure(
                "file page p95",
                file_p95,
                "s",
                "< 1 s",
                file_p95 < 1,
                baseline=base_p95,
                baseline_name="warning page p95",
            ),
            Figure("file page median", statistics.median(file_times), "s", "—", None),
            Figure(
                "file PDF median (A4, WeasyPrint)", statistics.median(pdf_times), "s", "—", None
            ),
        ],
        "notes": [
            f"{repeat} fetches each after a warm-up; 100 screening results per five years, "
            "300 warning events, 60 family contacts, 2 referrals, 1 leave; "
            f"{others} other students in the institution."
        ],
    }
