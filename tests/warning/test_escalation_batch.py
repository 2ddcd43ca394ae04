"""The escalation sweep at volume: a backlog is caught up in one tick, every escalation of a
batch reaches its own student's people, and a batch costs the same statements however large."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests.factories import open_warning
from warning import actions
from warning import escalation
from warning.escalation import sweep_deadlines
from warning.models import OwnerTier

from .response_helpers import events
from .response_helpers import open_deadlines

YELLOW, BLUE = 2, 1


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def _more_students(campus, network, count: int) -> list:
    return [campus.student(network.group, network.room, name=f"学生{i}") for i in range(count)]


def test_a_backlog_larger_than_a_batch_is_caught_up_in_one_sweep(campus, network, monkeypatch):
    monkeypatch.setattr(escalation, "BATCH_SIZE", 2)
    students = [network.student, network.other_student, *_more_students(campus, network, 3)]
    campus.commit()
    start = clock.now()
    warnings = [open_warning(student, YELLOW) for student in students]
    clock.set_now(start + timedelta(hours=73))
    assert sweep_deadlines(db.session, clock.now()) == 5
    db.session.commit()
    for warning in warnings:
        db.session.refresh(warning)
        assert warning.owner_tier == OwnerTier.SCHOOL
        assert events(warning, "escalated") == 1
        assert open_deadlines(warning)["contact"].tier == OwnerTier.SCHOOL
    assert sweep_deadlines(db.session, clock.now()) == 0


def test_each_escalation_of_a_batch_tells_only_its_own_students_department(network):
    start = clock.now()
    computing = open_warning(network.student, BLUE)
    history = open_warning(network.other_student, BLUE)
    clock.set_now(start + timedelta(days=8))
    assert sweep_deadlines(db.session, clock.now()) == 2
    db.session.commit()
    assert len(_notes(network.dept_counsellor)) == 1
    assert len(_notes(network.dept_leader)) == 1
    assert len(_notes(network.other_counsellor)) == 1
    assert _notes(network.school_counsellor) == []
    for warning in (computing, history):
        db.session.refresh(warning)
        assert warning.owner_tier == OwnerTier.DEPARTMENT
    # The mail goes with the counsellor's own note, and says nothing about the student.
    mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.recipient == "counsellor@xju.test")
    )
    assert mail.notification_id == _notes(network.dept_counsellor)[0].id
    assert "张三" not in mail.body
    assert "李四" not in mail.body


def test_a_contact_logged_on_a_page_opened_before_the_escalation_is_refused(network):
    start = clock.now()
    warning = open_warning(network.student, YELLOW)
    version_on_the_page = warning.version
    clock.set_now(start + timedelta(hours=73))
    sweep_deadlines(db.session, clock.now())
    db.session.commit()
    db.session.refresh(warning)
    with pytest.raises(actions.StaleWarning):
        actions.log_contact(
            db.session,
            network.dept_counsellor,
            warning,
            version_on_the_page,
            clock.now(),
            method="phone",
            outcome="Talked",
        )


def test_a_batch_queries_as_often_for_four_escalations_as_for_two(campus, network):
    extra = _more_students(campus, network, 5)
    campus.commit()
    start = clock.now()
    for student in (network.student, extra[0]):
        open_warning(student, BLUE)
    for student in extra[1:]:
        open_warning(student, BLUE, start + timedelta(days=1))

    def sweep_at(when) -> tuple[int, int]:
        """(escalations, statements other than INSERTs): the reads and updates must not grow
        with the batch. (INSERTs are batched by the ORM on PostgreSQL, one per row on SQLite.)"""
        seen: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:
            if not statement.lstrip().upper().startswith("INSERT"):
                seen.append(statement)

        clock.set_now(when)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            escalated = sweep_deadlines(db.session, clock.now())
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.commit()
        return escalated, len(seen)

    two = sweep_at(start + timedelta(days=7, hours=1))
    four = sweep_at(start + timedelta(days=8, hours=1))  # the first two are not due again yet
    assert (two[0], four[0]) == (2, 4)
    assert four[1] == two[1]
    assert len(_notes(network.dept_counsellor)) == 6  # one note per escalation, none lost
