"""The concern report's student picker: nobody is chosen in advance, a report without a student is
refused on the same page, and the list shows names with student numbers to tell namesakes apart."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from warning.models import ConcernReport
from warning.models import Signal


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_picker_chooses_nobody_in_advance(campus, unit, login):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.student(unit.group, name="Aaron First")
    campus.commit()
    page = login(committee).get(f"/warnings/units/class/{unit.group.id}").get_data(as_text=True)
    picker = page[
        page.index('name="student_id"') - 200 : page.index(
            "</fieldset>", page.index('name="student_id"')
        )
    ]
    assert 'type="radio"' in picker
    assert "checked" not in picker
    assert "<select" not in picker
    assert f"Li Hua · {unit.student.student_number}" in picker
    assert 'type="search"' in page


def test_a_concern_report_without_a_student_is_refused_and_keeps_what_was_written(
    campus, unit, login
):
    committee = campus.staff(unit.institution, Role.CLASS_COMMITTEE, group=unit.group)
    campus.commit()
    response = login(committee).post(
        f"/warnings/units/class/{unit.group.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "category": "low_mood",
            "text": "Has not come to class for a week",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the student you are worried about." in page
    assert "Has not come to class for a week" in page
    assert (_count(ConcernReport), _count(Signal)) == (0, 0)


def test_the_weekly_report_names_students_with_tick_boxes(campus, unit, login):
    informant = campus.staff(unit.institution, Role.DORM_INFORMANT, room=unit.room)
    campus.commit()
    page = login(informant).get(f"/warnings/units/room/{unit.room.id}").get_data(as_text=True)
    assert 'type="checkbox" name="students"' in page or 'name="students" type="checkbox"' in page
    assert "<select multiple" not in page
