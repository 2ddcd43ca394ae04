"""Academic import, life events, batch re-triage with expiry, policy drafts and simulation."""

from __future__ import annotations

import html
import io
import uuid
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from warning import retriage
from warning import services
from warning.models import AcademicRecord
from warning.models import EarlyWarning
from warning.models import PolicyKind
from warning.models import PolicyVersion
from warning.models import Signal
from warning.models import WarningEvent
from warning.policy import Level


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _phq9(student, total, label):
    services.record_signal(
        db.session,
        student=student,
        source="screening",
        observed_at=clock.now(),
        label=label,
        instrument="phq9",
        total=total,
    )
    db.session.commit()


def _upload(client, text: str, name: str = "grades.csv"):
    return client.post(
        "/warnings/academic-import",
        data={"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


def test_academic_import_with_a_bad_row_reports_it_and_imports_nothing(campus, unit, login):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    number = unit.student.student_number
    bad = (
        "student_number,term,failed_credits,academic_warning,absence_rate\n"
        f"{number},2025-2,12,yes,10%\n"
        "NOBODY,2025-2,abc,maybe,150%\n"
    )
    response = _upload(login(admin), bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "unknown student_number NOBODY" in page
    assert "is not a number" in page
    assert (_count(AcademicRecord), _count(Signal)) == (0, 0)


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"),
    [
        (
            "zh_CN",
            ("学号 NOBODY 不存在", "failed_credits“abc”不是数字", "（或 0–100%）"),
            ("unknown student_number", "is not a number"),
        ),
        (
            "en",
            ("unknown student_number NOBODY", "failed_credits 'abc' is not a number", "0–100%)"),
            ("不存在", "不是数字"),
        ),
    ],
)
def test_academic_import_problems_read_in_the_viewers_language(
    campus, unit, login, locale, shown, hidden
):
    admin = campus.staff(unit.institution, Role.ADMIN)
    admin.locale = locale
    campus.commit()
    bad = (
        "student_number,term,failed_credits,academic_warning,absence_rate\n"
        "NOBODY,2025-2,abc,no,150%\n"
    )
    page = html.unescape(_upload(login(admin), bad).get_data(as_text=True))
    for phrase in shown:
        assert phrase in page
    for phrase in hidden:
        assert phrase not in page


def test_wrong_file_type_is_refused(campus, unit, login):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    response = _upload(login(admin), "hello", name="grades.txt")
    assert response.status_code == 400
    assert _count(AcademicRecord) == 0


def test_academic_difficulty_is_a_key_group_that_raises_a_screening_level(campus, unit, login):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    _phq9(unit.student, 7, "PHQ-9 mild in the intake")
    good = (
        "student_number,term,failed_credits,academic_warning,absence_rate\n"
        f"{unit.student.student_number},2025-2,12,no,0.05\n"
    )
    assert _upload(login(admin), good).status_code == 200
    _upload(login(admin), good)  # the same file again adds no second signal
    signals = db.session.scalars(select(Signal).where(Signal.source == "academic")).all()
    assert len(signals) == 1
    assert signals[0].flags == "key_group:academic_difficulty"
    warning = db.session.scalar(select(EarlyWarning))
    assert warning.level == Level.YELLOW
    assert "raised from blue by a key group" in warning.reason


def test_bereavement_entered_by_the_department_counsellor_is_a_family_change_signal(
    campus, unit, login
):
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    response = login(counsellor).post(
        f"/warnings/students/{unit.student.id}/life-event",
        data={
            "submission": uuid.uuid4().hex,
            "kind": "bereavement",
            "occurred_on": "2026-09-01",
            "note": "",
        },
    )
    assert response.status_code == 302
    signal = db.session.scalar(select(Signal))
    assert "key_group:family_change" in signal.flag_set
    assert db.session.scalar(select(EarlyWarning)).level == Level.BLUE


def test_retriage_lowers_an_expired_yellow_and_never_lowers_red(campus, unit):
    red_student = campus.student(unit.group, name="Red Student")
    campus.commit()
    _phq9(unit.student, 12, "PHQ-9 moderate in the intake")
    _phq9(unit.student, 6, "PHQ-9 mild in the retest")
    clock.advance(timedelta(days=100))
    _phq9(unit.student, 6, "PHQ-9 mild in the third round")
    services.record_signal(
        db.session,
        student=red_student,
        source="concern_report",
        observed_at=clock.now(),
        label="Dorm concern report: self harm",
        flags=["concern:self_harm"],
    )
    db.session.commit()
    clock.advance(timedelta(days=85))  # the yellow (180 days) is gone, the last blue is live
    changed = retriage.retriage(db.session, clock.now(), unit.institution.id)
    db.session.commit()
    yellow = db.session.scalar(
        select(EarlyWarning).where(EarlyWarning.student_id == unit.student.id)
    )
    red = db.session.scalar(select(EarlyWarning).where(EarlyWarning.student_id == red_student.id))
    assert changed == 1
    assert yellow.level == Level.BLUE
    assert "third round" in yellow.reason
    assert red.level == Level.RED
    lowered = db.session.scalar(select(WarningEvent).where(WarningEvent.kind == "level_changed"))
    assert (lowered.from_level, lowered.to_level) == (Level.YELLOW, Level.BLUE)


def test_expiry_sweep_is_registered(app):
    from campus.scheduler import registered_sweeps

    assert registered_sweeps(app)["warning.expiry"] is retriage.expiry_sweep


def _draft_text(version: str, phq9_moderate_min: int) -> str:
    text = retriage.default_yaml().replace('version: "default-2026.1"', f'version: "{version}"')
    return text.replace(
        "{instrument: phq9, total_min: 10, total_max: 19}",
        f"{{instrument: phq9, total_min: {phq9_moderate_min}, total_max: 19}}",
    )


def test_simulation_counts_moves_per_department_and_writes_nothing(campus, unit, login):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    _phq9(unit.student, 12, "PHQ-9 moderate in the intake")
    client = login(admin)
    saved = client.post("/warnings/policy", data={"yaml_text": _draft_text("strict-1", 13)})
    assert saved.status_code == 302
    draft = db.session.scalar(select(PolicyVersion))
    before = [_count(m) for m in (Signal, EarlyWarning, WarningEvent, PolicyVersion, AuditEvent)]
    response = client.post(f"/warnings/policy/{draft.id}/simulate")
    assert response.status_code == 200
    assert "<td>Computing</td>" in response.get_data(as_text=True)
    # What moves is asserted on data; the page words are translated.
    moves = retriage.simulate(
        db.session,
        institution_id=unit.institution.id,
        draft=retriage.policy_of(draft),
        now=clock.now(),
    )
    db.session.rollback()
    assert moves == [retriage.Move("Computing", Level.YELLOW, Level.NONE, 1)]
    after = [_count(m) for m in (Signal, EarlyWarning, WarningEvent, PolicyVersion, AuditEvent)]
    assert after == before
    assert db.session.scalar(select(EarlyWarning)).level == Level.YELLOW


def test_a_new_draft_starts_from_the_policy_in_force_not_the_shipped_one(campus, unit, login):
    """A campus that lowered a threshold and later starts another draft must not undo the change
    by editing the shipped text."""
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    client = login(admin)
    shipped = html.unescape(client.get("/warnings/policy").get_data(as_text=True))
    assert "{instrument: phq9, total_min: 10, total_max: 19}" in shipped
    client.post("/warnings/policy", data={"yaml_text": _draft_text("strict-1", 8)})
    draft = db.session.scalar(select(PolicyVersion))
    client.post(f"/warnings/policy/{draft.id}/activate")

    page = html.unescape(client.get("/warnings/policy").get_data(as_text=True))
    assert "{instrument: phq9, total_min: 8, total_max: 19}" in page
    assert 'version: "strict-1"' in page
    assert "total_min: 10, total_max: 19}" not in page
    # The response policy has none in force: its draft starts from the shipped text.
    response = html.unescape(client.get("/warnings/response-policy").get_data(as_text=True))
    assert retriage.default_yaml(PolicyKind.RESPONSE).splitlines()[0] in response


def test_invalid_draft_shows_every_problem_and_saves_nothing(campus, unit, login):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    response = login(admin).post(
        "/warnings/policy", data={"yaml_text": "version: 1\nrules: []\nbogus: true\n"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "bogus" in page
    assert "version" in page
    assert _count(PolicyVersion) == 0


def test_activating_a_draft_is_audited_and_new_signals_record_its_version(campus, unit, login):
    admin = campus.staff(unit.institution, Role.ADMIN)
    campus.commit()
    client = login(admin)
    client.post("/warnings/policy", data={"yaml_text": _draft_text("strict-1", 13)})
    draft = db.session.scalar(select(PolicyVersion))
    activated = client.post(f"/warnings/policy/{draft.id}/activate", follow_redirects=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "activate_policy"))
    # The administrator has nothing to run: the scheduler re-levels every student on its own.
    said = html.unescape(activated.get_data(as_text=True))
    assert "checked again under it at the system's next scheduled run" in said
    assert "re-triage" not in said
    _phq9(unit.student, 12, "PHQ-9 moderate in the intake")
    signal = db.session.scalar(select(Signal))
    assert signal.policy_version == "strict-1"
    assert signal.implied_level == Level.NONE


def test_when_every_signal_lapses_the_warning_stays_open_at_blue_and_says_why(campus, unit):
    _phq9(unit.student, 12, "PHQ-9 moderate in the intake")
    clock.advance(timedelta(days=200))
    retriage.retriage(db.session, clock.now(), unit.institution.id)
    db.session.commit()
    warning = db.session.scalar(select(EarlyWarning))
    assert warning.status == "open"
    assert warning.level == Level.BLUE
    assert warning.reason == services.LAPSED_REASON


def test_a_life_event_of_this_local_morning_is_accepted_before_utc_reaches_that_day(
    campus, unit, login
):
    """07:30 on 15 September in Shanghai is 23:30 on the 14th in UTC: "today" is the 15th."""
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    clock.set_now(clock.to_utc(datetime(2026, 9, 15, 7, 30), clock.institution_zone(None)))
    response = login(counsellor).post(
        f"/warnings/students/{unit.student.id}/life-event",
        data={
            "submission": uuid.uuid4().hex,
            "kind": "bereavement",
            "occurred_on": "2026-09-15",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Signal)) == 1
