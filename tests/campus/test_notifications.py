"""Notifications: the inbox for everyone, and mail through an outbox that survives an outage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Role
from campus.notifications import MailStatus
from campus.notifications import Notification
from campus.notifications import OutboxMail
from campus.notifications import deliver_outbox
from campus.notifications import notify
from tests.mail import Collect
from tests.mail import free_port


@pytest.fixture
def people(campus):
    inst = campus.institution("XJU")
    dept = campus.department(inst)
    with_mail = [
        campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept, email=f"c{i}@xju.test")
        for i in range(3)
    ]
    without_mail = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    campus.commit()
    return with_mail, without_mail


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count(model.id)).where(*where))


def test_mail_server_down_then_up_delivers_every_notification_exactly_once(app, people):
    with_mail, without_mail = people
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    notify(
        db.session,
        [u.id for u in [*with_mail, without_mail]],
        "A warning in your department needs attention",
        "/tasks",
    )
    db.session.commit()
    assert _count(OutboxMail) == 3  # the user without an address gets the inbox note only
    assert _count(Notification) == 4

    assert deliver_outbox(db.session, clock.now()) == 0  # nobody listens on the port
    pending = db.session.scalars(select(OutboxMail)).all()
    assert all(m.status == MailStatus.PENDING and m.attempts == 1 for m in pending)

    handler = Collect()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert deliver_outbox(db.session, clock.now()) == 0  # backing off: not due yet
        clock.advance(timedelta(minutes=2))
        assert deliver_outbox(db.session, clock.now()) == 3
        clock.advance(timedelta(hours=2))
        assert deliver_outbox(db.session, clock.now()) == 0
    finally:
        server.stop()
    recipients = sorted(r for rcpts, _ in handler.messages for r in rcpts)
    assert recipients == ["c0@xju.test", "c1@xju.test", "c2@xju.test"]
    db.session.expire_all()
    assert _count(OutboxMail, OutboxMail.status == MailStatus.SENT) == 3


def test_a_claimed_mail_is_not_sent_by_a_second_deliverer(app, people):
    with_mail, _ = people
    notify(db.session, [with_mail[0].id], "You have a new task", "/tasks")
    db.session.commit()
    sent: list[str] = []

    def send_and_race(mail):
        # While the first deliverer is sending, a second one runs: it must find nothing to send.
        sent.append(mail.recipient)
        if len(sent) == 1:
            deliver_outbox(db.session, clock.now(), send=send_and_race)

    assert deliver_outbox(db.session, clock.now(), send=send_and_race) == 1
    assert sent == ["c0@xju.test"]


def test_mail_carries_no_student_detail_and_links_to_the_site(app, people):
    with_mail, _ = people
    notify(db.session, [with_mail[0].id], "A warning in your department needs attention", "/tasks")
    db.session.commit()
    mail = db.session.scalar(select(OutboxMail))
    assert "/tasks" in mail.body
    for word in ("red", "yellow", "PHQ", "score"):
        assert word.lower() not in mail.body.lower()


def test_inbox_lists_notes_counts_unread_in_the_nav_and_marks_read(login, people):
    with_mail, _ = people
    user = with_mail[0]
    notify(db.session, [user.id], "You have a new task", "/tasks")
    db.session.commit()
    client = login(user)
    page = client.get("/inbox/").get_data(as_text=True)
    assert "Inbox (1)" in page
    note = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    response = client.post(f"/inbox/{note.id}/read")
    assert response.status_code == 302
    assert response.location.endswith("/tasks")
    assert "Inbox (1)" not in client.get("/inbox/").get_data(as_text=True)


def test_someone_elses_note_cannot_be_opened(login, people):
    with_mail, _ = people
    notify(db.session, [with_mail[1].id], "You have a new task", "/tasks")
    db.session.commit()
    note = db.session.scalar(select(Notification))
    client = login(with_mail[0])
    assert client.post(f"/inbox/{note.id}/read").status_code == 404
    assert db.session.get(Notification, note.id).read_at is None
