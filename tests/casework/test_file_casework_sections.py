"""The student file lists the centre's casework on the student — post-screening interviews and
crisis records — for the school counsellor and the director, linked to their own pages; the
department counsellor's file names the sections without showing them."""

from __future__ import annotations

from flask import Flask

from casework.models import CrisisRecord
from casework.models import InterviewEntry
from tests.casework import interview_world
from tests.casework.crisis_world import ENTRY
from tests.casework.crisis_world import crisis_world
from tests.conftest import sign_in


def _page(app: Flask, user, student) -> str:
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    response = client.get(f"/casework/students/{student.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_file_lists_the_crisis_record_for_whoever_may_open_it(app, campus):
    """The counsellor and the department counsellor on the scene, who may both open the record
    (casework.crisis_permissions); before, the department counsellor's file said her role gave
    no access to crisis records while the record's own page opened to her."""
    world = crisis_world(campus)
    client = app.test_client()
    sign_in(client, world.counsellor)
    assert client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY).status_code == 302
    record = CrisisRecord.query.one()
    for reader in (world.counsellor, world.dept_counsellor):
        view = _page(app, reader, world.student)
        assert 'id="crises"' in view
        assert f"/crisis/{record.id}" in view
        not_shown = view.partition('id="hidden-h"')[2]
        assert "Crisis records" not in not_shown
        reading = app.test_client()
        sign_in(reading, reader)
        assert reading.get(f"/crisis/{record.id}").status_code == 200


def test_the_department_leader_is_not_shown_the_crisis_records(app, campus):
    world = crisis_world(campus)
    client = app.test_client()
    sign_in(client, world.counsellor)
    client.post(f"/crisis/warnings/{world.warning.id}", data=ENTRY)
    record = CrisisRecord.query.one()
    view = _page(app, world.dept_leader, world.student)
    assert 'id="crises"' not in view
    assert f"/crisis/{record.id}" not in view


def test_the_file_lists_the_students_interview_with_its_state(app, campus):
    world = interview_world.build(campus)
    made = interview_world.campaign(world, "phq9")
    interview_world.submit(made, world.student, "phq9", interview_world.phq9_total(12))
    (entry,) = InterviewEntry.query.all()
    html = _page(app, world.director, world.student)
    assert 'id="interviews"' in html
    assert f"/interviews/{entry.id}" in html
    assert "To assign" in html  # a state label, capitalised in English
    assert 'id="interviews"' not in _page(app, world.computing_counsellor, world.student)


def test_the_interview_list_names_the_campaign_in_the_readers_language(app, campus):
    """Before: an English reader saw the campaign's Chinese name here, and English elsewhere."""
    world = interview_world.build(campus)
    made = interview_world.campaign(world, "phq9")
    made.name, made.name_en = "2026级新生心理健康普查", "2026 freshman intake"
    interview_world.submit(made, world.student, "phq9", interview_world.phq9_total(12))
    html = _page(app, world.director, world.student)
    section = html[html.index('id="interviews"') :]
    assert "2026 freshman intake" in section
    assert "2026级新生心理健康普查" not in section
