"""What class and dorm reporters write reaches the department, and only the department."""

from __future__ import annotations

import uuid
from datetime import date
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from tests.pages import errors_under
from warning.models import EarlyWarning
from warning.models import Signal
from warning.models import SignalSource
from warning.models import WeeklyReport
from warning.policy import Level

NOTE = "She gave her things away to her roommates this week"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_weekly_report_naming_a_student_reaches_the_department_counsellor(campus, unit, login):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    counsellor = campus.staff(unit.institution, Role.DEPT_COUNSELLOR, department=unit.department)
    campus.commit()
    response = login(informant).post(
        f"/warnings/units/room/{unit.room.id}/weekly-report",
        data={"note": NOTE, "students": [unit.student.id]},
    )
    assert response.status_code == 302
    signal = db.session.scalar(select(Signal))
    assert signal.source == SignalSource.WEEKLY_REPORT
    assert signal.student_id == unit.student.id
    assert db.session.scalar(select(EarlyWarning.level)) == Level.BLUE
    page = login(counsellor).get(f"/warnings/students/{unit.student.id}").get_data(as_text=True)
    assert NOTE in page


def test_a_weekly_report_naming_someone_outside_the_room_is_refused_and_writes_nothing(
    campus, unit, login
):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    stranger = campus.student(unit.group, campus.room(unit.institution, "909"), name="Zhao Lei")
    campus.commit()
    response = login(informant).post(
        f"/warnings/units/room/{unit.room.id}/weekly-report",
        data={"note": NOTE, "students": [stranger.id]},
    )
    assert response.status_code == 400
    assert _count(WeeklyReport) == 0
    assert _count(Signal) == 0


def test_a_weekly_report_naming_no_one_still_counts_and_raises_no_warning(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    response = login(committee).post(
        f"/warnings/units/class/{unit.group.id}/weekly-report", data={"note": "Exams are close"}
    )
    assert response.status_code == 302
    assert _count(WeeklyReport) == 1
    assert _count(Signal) == 0


def test_concern_report_text_is_shown_to_department_staff_but_never_to_other_reporters(
    campus, unit, login
):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    leader = campus.staff(unit.institution, Role.DEPT_LEADER, department=unit.department)
    campus.commit()
    text = "He wrote a goodbye message in the class group chat"
    login(committee).post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": unit.student.id,
            "category": "low_mood",
            "text": text,
        },
    )
    leader_page = login(leader).get(f"/warnings/students/{unit.student.id}")
    assert text in leader_page.get_data(as_text=True)
    dorm = login(informant)
    assert text not in dorm.get(f"/warnings/units/room/{unit.room.id}").get_data(as_text=True)
    assert dorm.get(f"/warnings/students/{unit.student.id}").status_code in (403, 404)


def test_a_report_filed_at_1am_monday_in_shanghai_counts_for_the_new_week(campus, unit, login):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    campus.commit()
    clock.set_now(datetime(2026, 9, 13, 17, 0))  # Sunday 17:00 UTC = Monday 01:00 in Shanghai
    client = login(informant)
    page = client.get(f"/warnings/units/room/{unit.room.id}").get_data(as_text=True)
    assert "2026-09-14" in page
    client.post(f"/warnings/units/room/{unit.room.id}/zero-report")
    assert db.session.scalar(select(WeeklyReport.week_start)) == date(2026, 9, 14)


@pytest.mark.parametrize(
    ("locale", "wanted"),
    [
        ("en", "Write what you noticed this week, or tap “All is well this week” above."),
        ("zh_CN", "请写下本周你注意到的情况；如果一切正常，请点上方的“本周一切正常”。"),
    ],
)
def test_a_weekly_report_sent_empty_asks_for_the_note_or_all_is_well(
    campus, unit, login, locale, wanted
):
    """Before: 该字段是必填字段。("This field is required.") under the note, though a week with
    nothing to tell is filed with the button above it."""
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    informant.locale = locale
    campus.commit()
    response = login(informant).post(
        f"/warnings/units/room/{unit.room.id}/weekly-report", data={"note": ""}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert errors_under(page, "note") == [wanted]
    assert "该字段是必填字段。" not in page
    assert _count(WeeklyReport) == 0
