"""Forgotten password: a single-use, expiring link by real mail where mail is set up, the same
answer whether or not the account exists, and whom to ask where there is no mail."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.extensions import db
from campus.models import Role
from campus.models import UserSession
from campus.notifications import OutboxMail
from campus.notifications import deliver_outbox
from tests.conftest import PASSWORD
from tests.conftest import sign_in
from tests.mail import Collect
from tests.mail import free_port

LINK = re.compile(r"(http://localhost/password/reset/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def smtp(app):
    handler = Collect()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    app.config.update(
        MAIL_ENABLED=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_TIMEOUT_SECONDS=5,
        MAIL_LINK_BASE="http://localhost",
    )
    yield handler
    server.stop()
    app.config.update(MAIL_ENABLED=False, MAIL_LINK_BASE="http://127.0.0.1:5000")


@pytest.fixture
def counsellor(campus):
    inst = campus.institution("XJU")
    user = campus.staff(
        inst,
        Role.DEPT_COUNSELLOR,
        login="dc01",
        department=campus.department(inst),
        email="dc01@xju.test",
    )
    campus.commit()
    return user


def _ask(client, login: str):
    return client.post("/password/reset", data={"institution": "XJU", "login": login})


def _mailed_link(smtp) -> str:
    deliver_outbox(db.session, clock.now())
    assert len(smtp.messages) == 1
    recipients, content = smtp.messages[0]
    assert recipients == ["dc01@xju.test"]
    body = email.message_from_string(content, policy=email.policy.default).get_content()
    return LINK.search(body).group(1)


def test_reset_link_arrives_by_real_mail_sets_the_password_once_and_ends_other_sessions(
    app, smtp, counsellor
):
    elsewhere = app.test_client()
    assert sign_in(elsewhere, counsellor).status_code == 302
    assert _ask(app.test_client(), "dc01").status_code == 200
    link = _mailed_link(smtp)
    path = link.removeprefix("http://localhost")
    browser = app.test_client()
    assert browser.get(path).status_code == 200
    done = browser.post(path, data={"new": "a-brand-new-secret", "confirm": "a-brand-new-secret"})
    assert done.status_code == 302
    assert browser.get("/").status_code == 200  # signed in with the new password's session
    assert elsewhere.get("/students").status_code == 302  # the other session has ended
    again = app.test_client().get(path)
    assert again.status_code == 400
    assert "此链接已过期或已使用" in again.get_data(as_text=True)
    fresh = app.test_client()
    assert sign_in(fresh, counsellor, "a-brand-new-secret").status_code == 302
    assert sign_in(app.test_client(), counsellor, PASSWORD).status_code == 401
    actions = db.session.scalars(
        select(AuditEvent.outcome).where(AuditEvent.action == "use_password_reset")
    ).all()
    assert actions == ["ok", "denied"]


def test_a_reset_link_works_for_an_hour_and_not_after(app, smtp, counsellor):
    _ask(app.test_client(), "dc01")
    path = _mailed_link(smtp).removeprefix("http://localhost")
    clock.advance(timedelta(minutes=59))
    assert app.test_client().get(path).status_code == 200
    clock.advance(timedelta(minutes=2))
    assert app.test_client().get(path).status_code == 400


def test_the_answer_is_the_same_whether_the_account_exists_or_not(app, smtp, counsellor, campus):
    inst = counsellor.institution
    campus.staff(inst, Role.DIRECTOR, login="dir01")  # no address on record
    campus.commit()
    answers = [_ask(app.test_client(), login) for login in ("dc01", "nobody", "dir01")]
    assert {r.status_code for r in answers} == {200}
    texts = {re.sub(r'name="csrf_token"[^>]*', "", r.get_data(as_text=True)) for r in answers}
    assert len(texts) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 1
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "request_password_reset")
    ).all()
    assert [r.outcome for r in rows] == ["ok", "denied", "denied"]


def test_a_forged_link_is_refused_with_a_page_not_an_error(app, counsellor):
    response = app.test_client().get("/password/reset/not-a-real-token")
    assert response.status_code == 400
    assert "此链接已过期或已使用" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_without_mail_the_page_says_whom_to_ask_and_sends_nothing(app, counsellor):
    client = app.test_client()
    page = client.get("/password/reset").get_data(as_text=True)
    assert "学生：请联系所在院系辅导员" in page  # a visitor reads Chinese
    assert "教职工：请联系本校心桥系统管理员" in page
    assert 'name="login"' not in page
    client.post("/password/reset", data={"institution": "XJU", "login": "dc01"})
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_sign_in_page_links_to_the_forgotten_password_page(client):
    assert 'href="/password/reset"' in client.get("/login").get_data(as_text=True)
