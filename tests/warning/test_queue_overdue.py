"""The queue's "overdue" mark and filter, computed for the page's rows only."""

from __future__ import annotations

from datetime import timedelta

from campus import clock
from campus.extensions import db
from campus.models import Role
from tests.factories import phq9_signal
from warning import queue


def test_queue_marks_overdue_only_the_warning_whose_deadline_passed_unmet(campus, unit):
    """Red's one-hour acknowledgement has passed; yellow's 72-hour contact is not due yet."""
    red_student = campus.student(unit.group, name="Wang Fang")
    viewer = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    phq9_signal(unit.student, 15)
    phq9_signal(red_student, 22)
    later = clock.now() + timedelta(hours=2)
    page = queue.queue(db.session, viewer, queue.QueueFilter(), later)
    assert page.total == 2
    assert [(student.name, overdue) for _w, student, _d, overdue in page.rows] == [
        ("Wang Fang", True),
        ("Li Hua", False),
    ]
    only_overdue = queue.queue(db.session, viewer, queue.QueueFilter(overdue=True), later)
    assert only_overdue.total == 1
    assert [student.id for _w, student, _d, _o in only_overdue.rows] == [red_student.id]


def test_queue_total_counts_every_page_not_just_the_first(campus, unit):
    viewer = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    students = [campus.student(unit.group, name=f"学生{i}") for i in range(queue.PAGE_SIZE + 2)]
    campus.commit()
    for student in students:
        phq9_signal(student, 12)
    second = queue.queue(db.session, viewer, queue.QueueFilter(page=2), clock.now())
    assert second.total == queue.PAGE_SIZE + 2
    assert len(second.rows) == 2


def test_a_closed_warnings_dropped_deadlines_are_not_overdue(campus, unit):
    """Closing supersedes the open deadlines: the closed warning must not read as overdue."""
    from warning.models import Deadline
    from warning.models import EarlyWarning
    from warning.models import WarningStatus

    viewer = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    campus.commit()
    phq9_signal(unit.student, 22)
    warning = db.session.query(EarlyWarning).one()
    now = clock.now()
    for deadline in db.session.query(Deadline).filter_by(warning_id=warning.id):
        deadline.superseded_at = now
    warning.status = WarningStatus.CLOSED
    db.session.commit()
    later = now + timedelta(days=3)
    closed = queue.queue(db.session, viewer, queue.QueueFilter(status="closed"), later)
    assert [overdue for _w, _s, _d, overdue in closed.rows] == [False]
    assert queue.queue(db.session, viewer, queue.QueueFilter(overdue=True), later).total == 0


def test_a_long_history_says_more_than_n_and_still_pages_to_the_end(
    campus, unit, login, monkeypatch
):
    """Past the count's cap the pager says "more than", and Next keeps going to the last row."""
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    monkeypatch.setattr(queue, "COUNT_CAP", 3)
    viewer = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    students = [campus.student(unit.group, name=f"Student {i}") for i in range(5)]
    campus.commit()
    for student in students:
        phq9_signal(student, 12)
    client = login(viewer)

    first = client.get("/warnings/", query_string={"status": "all"}).get_data(as_text=True)
    assert "Page 1 of more than 2 · more than 3 in all" in first
    assert "page=2" in first
    last = client.get("/warnings/", query_string={"status": "all", "page": 3})
    body = last.get_data(as_text=True)
    assert "Page 3 of 3 · 5 in all" in body
    assert "page=4" not in body
    assert body.count("Student ") == 1


def test_all_warnings_list_the_open_ones_before_the_closed_ones(campus, unit):
    """Red first applies within open and within closed: a closed red is history, so an open
    lower-level warning comes before it."""
    from warning.models import EarlyWarning
    from warning.models import WarningStatus

    viewer = campus.staff(unit.institution, Role.SCHOOL_COUNSELLOR)
    later_student = campus.student(unit.group, name="Zhao Lei")
    campus.commit()
    phq9_signal(unit.student, 22)
    closed = db.session.query(EarlyWarning).one()
    closed.status = WarningStatus.CLOSED
    db.session.commit()
    phq9_signal(later_student, 12)
    page = queue.queue(db.session, viewer, queue.QueueFilter(status="all"), clock.now())
    listed = [
        (student.name, warning.status, warning.level) for warning, student, _d, _o in page.rows
    ]
    assert [name for name, _status, _level in listed] == ["Zhao Lei", unit.student.name]
    assert listed[0][1] == WarningStatus.OPEN
    assert listed[0][2] < listed[1][2]
