"""A life event's note (what happened, in the recorder's words) is read where the life event is
shown, by staff who may read the student's warnings; never by the class and dorm tiers."""

from __future__ import annotations

from datetime import timedelta

from campus import clock
from campus.extensions import db
from warning import academic

NOTE = "CANARY-LIFE father died last week, she went home for the funeral"


def _life_event(network) -> None:
    academic.record_life_event(
        db.session,
        student=network.student,
        kind="bereavement",
        occurred_on=clock.now().date() - timedelta(days=3),
        note=NOTE,
        actor=network.dept_counsellor,
        now=clock.now(),
    )


def test_the_note_is_on_the_students_warning_page_for_department_and_centre_staff(network, login):
    """Before: the note was stored (encrypted) and shown nowhere."""
    _life_event(network)
    for reader in (network.dept_counsellor, network.dept_leader, network.school_counsellor):
        page = login(reader).get(f"/warnings/students/{network.student.id}")
        assert page.status_code == 200
        assert NOTE in page.get_data(as_text=True), reader


def test_the_note_is_in_the_student_file_timeline(network, login):
    _life_event(network)
    page = login(network.dept_counsellor).get(f"/casework/students/{network.student.id}")
    assert page.status_code == 200
    assert NOTE in page.get_data(as_text=True)


def test_the_class_and_dorm_tiers_never_read_the_note(network, login):
    _life_event(network)
    for peer, unit in (
        (network.class_committee, f"/warnings/units/class/{network.group.id}"),
        (network.dorm_informant, f"/warnings/units/room/{network.room.id}"),
    ):
        client = login(peer)
        for url in ("/", "/tasks", unit, f"/warnings/students/{network.student.id}"):
            assert NOTE not in client.get(url).get_data(as_text=True), (peer, url)


def test_another_departments_counsellor_does_not_read_it(network, login):
    _life_event(network)
    page = login(network.other_counsellor).get(f"/warnings/students/{network.student.id}")
    assert page.status_code == 404
    assert NOTE not in page.get_data(as_text=True)
