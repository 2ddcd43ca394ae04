"""Notification channels: WeCom and DingTalk group robots and an SMS gateway, through the outbox,
checked against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import NotificationChannel
from campus.models import Role
from campus.notifications import MailStatus
from campus.notifications import OutboxMail
from campus.notifications import deliver_outbox
from campus.notifications import deliver_sweep
from campus.notifications import notify

LINK_BASE = "https://xinqiao.example.edu.cn"
OK = (200, {"errcode": 0, "errmsg": "ok"})


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict


@dataclass
class Receiver:
    """What a chat robot or SMS gateway would get, and what it answers (the last answer repeats)."""

    url: str
    answers: list[tuple[int, dict]] = field(default_factory=lambda: [OK])
    received: list[Received] = field(default_factory=list)

    def answer(self) -> tuple[int, dict]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver in a thread, stopped (and its port closed) after the test."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            parts = urlsplit(self.path)
            state.received.append(
                Received(parts.path, parse_qs(parts.query), dict(self.headers), json.loads(raw))
            )
            status, reply = state.answer()
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def school(app, campus):
    """A university with a counsellor, a department leader and a student with a red warning's
    kind of name; links in messages point at LINK_BASE."""
    app.config.update(MAIL_LINK_BASE=LINK_BASE, CHANNEL_MAX_ATTEMPTS=3)
    inst = campus.institution("XJU")
    dept = campus.department(inst)
    group = campus.class_group(dept)
    student = campus.student(group, name="Wang Xiaoming")
    counsellor = campus.staff(inst, Role.DEPT_COUNSELLOR, department=dept)
    leader = campus.staff(inst, Role.DEPT_LEADER, department=dept)
    admin = campus.staff(inst, Role.ADMIN)
    campus.commit()
    return inst, student, counsellor, leader, admin


def _channel(inst, kind: str, url: str, role: Role | None = Role.DEPT_COUNSELLOR, **extra):
    channel = NotificationChannel(
        institution_id=inst.id, kind=kind, role=role, label=kind, target_url=url, **extra
    )
    db.session.add(channel)
    db.session.commit()
    return channel


def _tell(users, student) -> None:
    """A note as a careless caller might write it: with the student's name and level. Nothing of
    it may leave the app through a channel."""
    text = f"Red warning for {student.name}: PHQ-9 score 24"
    notify(db.session, [u.id for u in users], text, "/warnings/7")
    db.session.commit()


def _deliver() -> int:
    return deliver_outbox(db.session, clock.now(), mail=False)


def _channel_rows() -> list[OutboxMail]:
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMail).where(OutboxMail.channel_id.is_not(None)).order_by(OutboxMail.id)
    ).all()


def _assert_minimum(text: str, student) -> None:
    assert f"{LINK_BASE}/warnings/7" in text
    for word in (student.name, "Red", "red", "PHQ", "24", "红"):
        assert word not in text


def test_wecom_robot_gets_a_text_message_with_only_a_link(school, receiver):
    inst, student, counsellor, _leader, _admin = school
    _channel(inst, "wecom", f"{receiver.url}/cgi-bin/webhook/send?key=abc")
    _tell([counsellor], student)
    assert _deliver() == 1
    (got,) = receiver.received
    assert got.path == "/cgi-bin/webhook/send"
    assert got.query == {"key": ["abc"]}
    assert set(got.body) == {"msgtype", "text"}
    assert got.body["msgtype"] == "text"
    assert list(got.body["text"]) == ["content"]
    content = got.body["text"]["content"]
    assert "Xinqiao" in content  # the counsellor reads English
    _assert_minimum(content, student)
    assert _channel_rows()[0].status == MailStatus.SENT


def test_dingtalk_robot_message_is_signed_with_the_secret(school, receiver):
    inst, student, counsellor, _leader, _admin = school
    secret = "SECdingtalk-robot-secret"
    _channel(inst, "dingtalk", f"{receiver.url}/robot/send?access_token=t0k", secret=secret)
    counsellor.locale = "zh_CN"
    _tell([counsellor], student)
    assert _deliver() == 1
    (got,) = receiver.received
    assert got.query["access_token"] == ["t0k"]
    timestamp = got.query["timestamp"][0]
    expected = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    assert got.query["sign"] == [base64.b64encode(expected.digest()).decode()]
    assert got.body["msgtype"] == "text"
    content = got.body["text"]["content"]
    assert "心桥" in content  # in the recipient's language
    _assert_minimum(content, student)


def test_sms_gateway_gets_the_phone_and_text_with_its_auth_header(school, receiver):
    inst, student, counsellor, _leader, _admin = school
    _channel(inst, "sms", f"{receiver.url}/sms", phone="13800000000", secret="Bearer gw-token-1234")
    _tell([counsellor], student)
    assert _deliver() == 1
    (got,) = receiver.received
    assert got.headers["Authorization"] == "Bearer gw-token-1234"
    assert set(got.body) == {"phone", "text"}
    assert got.body["phone"] == "13800000000"
    _assert_minimum(got.body["text"], student)


@pytest.mark.parametrize(
    "failure", [(500, {"error": "down"}), (200, {"errcode": 310000, "errmsg": "sign not match"})]
)
def test_a_refusing_receiver_is_retried_with_backoff_then_marked_failed(school, receiver, failure):
    inst, student, counsellor, _leader, _admin = school
    _channel(inst, "wecom", f"{receiver.url}/hook")
    receiver.answers = [failure]
    _tell([counsellor], student)

    assert _deliver() == 0
    (row,) = _channel_rows()
    assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
    assert _deliver() == 0  # backing off: not tried again yet
    assert len(receiver.received) == 1
    clock.advance(timedelta(minutes=1))
    assert _deliver() == 0
    assert (_channel_rows()[0].status, len(receiver.received)) == (MailStatus.PENDING, 2)
    clock.advance(timedelta(minutes=2))
    assert _deliver() == 0
    (row,) = _channel_rows()
    assert (row.status, row.attempts, len(receiver.received)) == (MailStatus.FAILED, 3, 3)
    clock.advance(timedelta(hours=2))
    assert _deliver() == 0
    assert len(receiver.received) == 3


def test_a_receiver_that_recovers_gets_the_message_once(school, receiver):
    inst, student, counsellor, _leader, _admin = school
    _channel(inst, "wecom", f"{receiver.url}/hook")
    receiver.answers = [(502, {}), OK]
    _tell([counsellor], student)
    assert _deliver() == 0
    clock.advance(timedelta(minutes=1))
    assert _deliver() == 1
    clock.advance(timedelta(hours=1))
    assert _deliver() == 0
    assert len(receiver.received) == 2
    assert _channel_rows()[0].status == MailStatus.SENT


def test_the_sweep_sends_channel_messages_while_mail_is_off(app, school, receiver):
    inst, student, counsellor, _leader, _admin = school
    app.config["MAIL_ENABLED"] = False
    _channel(inst, "wecom", f"{receiver.url}/hook")
    _tell([counsellor], student)
    assert deliver_sweep(db.session, clock.now()) == 1
    assert len(receiver.received) == 1


def test_a_role_without_a_channel_gets_none_and_a_group_is_told_once(school, receiver, campus):
    inst, student, counsellor, leader, _admin = school
    other = campus.institution("HNU")
    _channel(other, "wecom", f"{receiver.url}/other", role=None)
    counsellors = _channel(inst, "wecom", f"{receiver.url}/counsellors")
    colleague = campus.staff(inst, Role.DEPT_COUNSELLOR, department=None)
    campus.commit()

    _tell([leader], student)
    assert _channel_rows() == []  # the leader's role has no channel; HNU's is not XJU's
    _tell([counsellor, colleague], student)
    # One post to the counsellors' group, not one per member.
    assert [r.channel_id for r in _channel_rows()] == [counsellors.id]

    everyone = _channel(inst, "wecom", f"{receiver.url}/everyone", role=None)
    _tell([leader], student)
    assert [r.channel_id for r in _channel_rows()] == [counsellors.id, everyone.id]


def test_a_turned_off_channel_gets_nothing_more(school, receiver):
    inst, student, counsellor, _leader, _admin = school
    channel = _channel(inst, "wecom", f"{receiver.url}/hook")
    _tell([counsellor], student)
    channel.enabled = False
    db.session.commit()
    _tell([counsellor], student)
    assert _deliver() == 0
    assert receiver.received == []
    assert [r.status for r in _channel_rows()] == [MailStatus.FAILED]


# --- the administrator's page --------------------------------------------------------------------


def _token(client) -> str:
    """The one-time token the channels page issues with its blank form."""
    page = client.get("/admin/channels/").get_data(as_text=True)
    return page.split('name="submission" type="hidden" value="', 1)[1][:32]


def _add(client, url: str, **fields):
    data = {"label": "Counsellors", "kind": "dingtalk", "role": "dept_counsellor"}
    sent = {"submission": _token(client), **data, "target_url": url, **fields}
    return client.post("/admin/channels/", data=sent)


def test_the_channel_form_sent_twice_adds_one_channel(school, receiver, login):
    _inst, _student, _counsellor, _leader, admin = school
    client = login(admin)
    sent = {
        "submission": _token(client),
        "label": "Counsellors",
        "kind": "wecom",
        "role": "dept_counsellor",
        "target_url": f"{receiver.url}/hook",
    }
    assert [client.post("/admin/channels/", data=sent).status_code for _ in range(2)] == [302, 302]
    assert db.session.scalar(select(func.count(NotificationChannel.id))) == 1


def test_admin_adds_a_channel_whose_secrets_are_never_shown_back(school, receiver, login):
    inst, student, counsellor, _leader, admin = school
    client = login(admin)
    key = "0123456789abcdef0123456789abcdef"
    secret = "SEC9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    response = _add(client, f"{receiver.url}/robot/send?access_token={key}", secret=secret)
    assert response.status_code == 302
    page = client.get("/admin/channels/").get_data(as_text=True)
    assert "Counsellors" in page
    assert key not in page
    assert secret not in page
    assert "••••" + secret[-4:] in page

    _tell([counsellor], student)
    assert _deliver() == 1
    assert receiver.received[0].query["access_token"] == [key]


def test_admin_turns_a_channel_off_and_its_role_gets_no_more_messages(school, receiver, login):
    inst, student, counsellor, _leader, admin = school
    channel = _channel(inst, "wecom", f"{receiver.url}/hook")
    client = login(admin)
    assert client.post(f"/admin/channels/{channel.id}/disable").status_code == 302
    assert "Off" in client.get("/admin/channels/").get_data(as_text=True)
    _tell([counsellor], student)
    assert _channel_rows() == []


def test_admin_sends_a_test_message_and_learns_a_refusal(school, receiver, login):
    inst, _student, _counsellor, _leader, admin = school
    channel = _channel(inst, "wecom", f"{receiver.url}/hook")
    client = login(admin)
    client.post(f"/admin/channels/{channel.id}/test")
    assert "test message" in receiver.received[0].body["text"]["content"]
    receiver.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    page = client.post(f"/admin/channels/{channel.id}/test", follow_redirects=True)
    assert "errcode 93000" in page.get_data(as_text=True)


def test_a_test_message_to_an_unreachable_address_says_so_in_words(school, login):
    """Before: the administrator read "<urlopen error [Errno -2] Name or service not known>"."""
    inst, _student, _counsellor, _leader, admin = school
    channel = _channel(inst, "wecom", "http://127.0.0.1:9/hook")
    page = login(admin).post(f"/admin/channels/{channel.id}/test", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "the address could not be reached" in text
    assert "urlopen" not in text
    assert "Errno" not in text


def test_an_sms_channel_needs_a_phone_and_an_address_must_be_http(school, login):
    *_people, admin = school
    client = login(admin)
    page = _add(client, "http://127.0.0.1:9/sms", kind="sms").get_data(as_text=True)
    assert "needs a phone number" in page
    page = _add(client, "file:///etc/passwd").get_data(as_text=True)
    assert "http://" in page
    assert db.session.scalar(select(func.count(NotificationChannel.id))) == 0


def test_only_an_administrator_of_the_institution_reaches_its_channels(school, campus, login):
    inst, _student, counsellor, _leader, _admin = school
    channel = _channel(inst, "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    other_admin = campus.staff(campus.institution("HNU"), Role.ADMIN)
    campus.commit()
    client = login(counsellor)
    assert client.get("/admin/channels/").status_code == 403
    assert client.post(f"/admin/channels/{channel.id}/disable").status_code == 403
    client.get("/logout")
    client = login(other_admin)
    assert "qyapi" not in client.get("/admin/channels/").get_data(as_text=True)
    assert client.post(f"/admin/channels/{channel.id}/disable").status_code == 404
    db.session.expire_all()
    assert db.session.get(NotificationChannel, channel.id).enabled
