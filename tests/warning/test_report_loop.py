"""Closing the loop for whoever raised a concern: told it was received, then that a teacher
followed it up, and never anything about what the teacher did or found."""

from __future__ import annotations

import re
import uuid
from datetime import date
from datetime import timedelta

from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.notifications import Notification
from campus.notifications import OutboxMail
from tests.pages import without_tokens
from tests.warning.response_helpers import department_contact
from warning import actions
from warning.models import ConcernReport
from warning.models import EarlyWarning
from warning.models import Task

RECEIVED = "The concern you reported has been received."
FOLLOWED_UP = "The concern you reported has been followed up by a teacher."
LEVEL = re.compile(r"\b(red|yellow|blue)\b", re.IGNORECASE)
CLINICAL = "Low mood for weeks, PHQ-9 re-screen planned, guardian informed"


def _report(client, network, category="low_mood", text="Has not left the room for days"):
    return client.post(
        f"/warnings/units/class/{network.group.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": network.student.id,
            "category": category,
            "text": text,
        },
    )


def _texts(user) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.text)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def _warning() -> EarlyWarning:
    return db.session.scalar(select(EarlyWarning))


def test_the_reporter_is_told_at_once_it_was_received_and_a_peer_check_in_is_no_follow_up(
    network, login
):
    client = login(network.class_committee)
    assert _report(client, network).status_code == 302
    assert [t for t in _texts(network.class_committee) if t.startswith(RECEIVED)] != []
    task = db.session.scalar(select(Task).where(Task.assignee_class_id == network.group.id))
    assert task is not None  # a blue warning asks the class to check in
    client.post(f"/tasks/{task.id}/done", data={"note": "Had lunch together"})
    assert db.session.scalar(select(ConcernReport)).followed_up_at is None
    assert FOLLOWED_UP not in _texts(network.class_committee)
    page = client.get(f"/warnings/units/class/{network.group.id}").get_data(as_text=True)
    assert "Received, not yet followed up" in page


def test_a_counsellors_contact_tells_the_reporter_it_was_followed_up_and_nothing_more(
    network, login
):
    network.class_committee.email = "committee@xju.test"
    db.session.commit()
    client = login(network.class_committee)
    _report(client, network)
    clock.advance(timedelta(hours=5))
    department_contact(
        network, _warning(), CLINICAL, method="in_person", note="Family conflict; sleeping 3 hours"
    )
    client = login(network.class_committee)  # signed in again after the idle timeout

    report = db.session.scalar(select(ConcernReport))
    assert report.followed_up_at == clock.now()
    assert _texts(network.class_committee)[-1] == FOLLOWED_UP
    page = without_tokens(
        client.get(f"/warnings/units/class/{network.group.id}").get_data(as_text=True)
    )
    inbox = without_tokens(client.get("/inbox/").get_data(as_text=True))
    mails = " ".join(
        f"{m.subject} {m.body}"
        for m in db.session.scalars(
            select(OutboxMail).where(OutboxMail.recipient == "committee@xju.test")
        )
    )
    assert "Followed up by a teacher" in page
    assert "has been followed up by a teacher" in inbox
    for shown in (page, inbox, mails):
        for secret in (CLINICAL, "Family conflict", network.dept_counsellor.name, "PHQ", "score"):
            assert secret not in shown, secret
        assert not LEVEL.search(shown), LEVEL.search(shown)
        assert 'class="level' not in shown


def test_acknowledging_the_warning_counts_and_a_second_action_tells_no_one_again(network, login):
    client = login(network.dorm_informant)
    client.post(
        f"/warnings/units/room/{network.room.id}/concern",
        data={
            "submission": uuid.uuid4().hex,
            "student_id": network.student.id,
            "category": "self_harm",
            "text": "Cuts on arm",
        },
    )
    warning = _warning()
    actions.acknowledge(
        db.session, network.school_counsellor, warning, warning.version, clock.now()
    )
    department_contact(
        network, warning, CLINICAL, method="in_person", note="Family conflict; sleeping 3 hours"
    )
    assert _texts(network.dorm_informant).count(FOLLOWED_UP) == 1
    page = client.get(f"/warnings/units/room/{network.room.id}").get_data(as_text=True)
    assert "Followed up by a teacher" in page


def test_a_report_filed_after_the_warning_was_acknowledged_waits_for_the_next_staff_action(
    network, login
):
    client = login(network.class_committee)
    _report(client, network)
    warning = _warning()
    actions.acknowledge(db.session, network.dept_counsellor, warning, warning.version, clock.now())
    clock.advance(timedelta(days=1))
    client = login(network.class_committee)
    assert _report(client, network, "isolation", "Eats alone every day").status_code == 302
    later = db.session.scalars(select(ConcernReport).order_by(ConcernReport.id)).all()[-1]
    assert later.followed_up_at is None  # staff acted before it existed
    clock.advance(timedelta(days=1))
    actions.close(
        db.session,
        network.school_counsellor,
        warning,
        warning.version,
        clock.now(),
        outcome="Stable after two sessions",
        review_date=date(2026, 12, 1),
    )
    db.session.refresh(later)
    assert later.followed_up_at == clock.now()
