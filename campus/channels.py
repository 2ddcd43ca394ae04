"""Channels outside the app: WeCom and DingTalk group robots and an SMS gateway.

Each institution configures, per role (or for all roles), where its notes also go. The kinds are a
table of adapters (`ADAPTERS`, kind → class with `send(delivery)` that raises when the receiver did
not take the message), so adding a channel is one class and one row, not another `if`. Every
message goes through the notification outbox (`campus.notifications`) with its retries, and
carries the outside-the-app minimum: "you have something new in Xinqiao" and a link, never a
student's name, level, score or diagnosis.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import NotificationChannel
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User
from campus.outcomes import Refused
from campus.submissions import stored_once

if TYPE_CHECKING:
    from flask.config import Config

# The whole text that leaves the app; `link` is an absolute URL to the page, which asks to sign in.
CHANNEL_TEXT = N_("Xinqiao: you have a new task or notice. Sign in to see it: %(link)s")
TEST_TEXT = N_("Xinqiao: this is a test message. This channel is set up correctly.")


class Delivery(Protocol):
    """What an adapter sends: an outbox row (or a test message shaped like one)."""

    recipient: str
    body: str


class DeliveryFailed(Exception):
    """The message was not delivered: the receiver refused it, or answered as no receiver does."""


class ReceiverRefused(DeliveryFailed):
    """The receiver answered and refused the message: an HTTP error status, a robot's non-zero
    errcode. Its text is the receiver's own answer, which an administrator can look up."""


class ChannelError(Refused):
    """A channel the administrator asked for that cannot be set up; `message` says why."""


# --- adapters ----------------------------------------------------------------------------------


class ChannelAdapter:
    """Sends one delivery to one configured channel; `send` raises on failure (`DeliveryFailed`,
    or `OSError` when the receiver cannot be reached), so the outbox retries it."""

    label = ""
    needs_phone = False

    def __init__(self, channel: NotificationChannel, config: Config) -> None:
        self.channel = channel
        self.timeout = config["CHANNEL_TIMEOUT_SECONDS"]
        self.config = config

    def send(self, delivery: Delivery) -> None:
        raise NotImplementedError


class WeComRobot(ChannelAdapter):
    """A WeCom (企业微信) group robot: a text message to its webhook; errcode 0 is success."""

    label = N_("WeCom group robot")

    def send(self, delivery: Delivery) -> None:
        _check_errcode(_post_json(self.url(), _robot_text(delivery.body), {}, self.timeout))

    def url(self) -> str:
        return self.channel.target_url


class DingTalkRobot(WeComRobot):
    """A DingTalk (钉钉) group robot: the same message; with a secret, each call is signed."""

    label = N_("DingTalk group robot")

    def url(self) -> str:
        if not self.channel.secret:
            return self.channel.target_url
        timestamp = str(int(time.time() * 1000))  # DingTalk refuses one an hour off its clock
        signed = {"timestamp": timestamp, "sign": dingtalk_sign(self.channel.secret, timestamp)}
        joiner = "&" if "?" in self.channel.target_url else "?"
        return f"{self.channel.target_url}{joiner}{urllib.parse.urlencode(signed)}"


class SmsGateway(ChannelAdapter):
    """A generic HTTP SMS gateway: SMS_GATEWAY_BODY_TEMPLATE filled with the channel's phone and
    the text, POSTed as JSON with the secret in SMS_GATEWAY_AUTH_HEADER; any 2xx is success."""

    label = N_("SMS gateway")
    needs_phone = True

    def send(self, delivery: Delivery) -> None:
        template = json.loads(self.config["SMS_GATEWAY_BODY_TEMPLATE"])
        body = _fill(template, {"{phone}": delivery.recipient, "{text}": delivery.body})
        secret = self.channel.secret
        headers = {self.config["SMS_GATEWAY_AUTH_HEADER"]: secret} if secret else {}
        _post_json(self.channel.target_url, body, headers, self.timeout)


ADAPTERS: dict[str, type[ChannelAdapter]] = {
    "wecom": WeComRobot,
    "dingtalk": DingTalkRobot,
    "sms": SmsGateway,
}


def adapter_for(channel: NotificationChannel, config: Config) -> ChannelAdapter:
    return ADAPTERS[channel.kind](channel, config)


@dataclass
class ProbeDelivery:
    """A message sent straight away from the channels page, not through the outbox."""

    recipient: str
    body: str


def send_test(channel: NotificationChannel, config: Config, text: str) -> None:
    """Send `text` to `channel` now, so the administrator sees at once whether it arrives."""
    adapter_for(channel, config).send(ProbeDelivery(channel.phone or "", text))


def test_refusal(error: Exception) -> Message:
    """What a failed test tells the administrator: the receiver's own answer (an HTTP status, a
    robot's errcode) when there was one, else that the address was not reached. The log keeps
    the library's words, which are a developer's, in English."""
    if isinstance(error, ReceiverRefused):
        return Message(
            N_("the receiver answered %(answer)s. Check the address and the secret."),
            answer=str(error),
        )
    return Message(
        N_(
            "the address could not be reached, or did not answer as a robot or gateway does. "
            "Check the address, and that this server may connect to it."
        )
    )


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's signature: base64 of HMAC-SHA256 of "timestamp\\nsecret", keyed by the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _robot_text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    """The template with each placeholder in its strings replaced (not `format`: no other braces
    are read, so a text with braces cannot break or extend the body)."""
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    if isinstance(template, str):
        for placeholder, value in values.items():
            template = template.replace(placeholder, value)
    return template


def _post_json(url: str, payload: object, headers: dict[str, str], timeout: int) -> bytes:
    """POST `payload` as JSON and return the reply's body; an HTTP error status raises."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed("only http and https receivers are allowed")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            return bytes(reply.read())
    except urllib.error.HTTPError as error:
        error.close()
        raise ReceiverRefused(f"HTTP {error.code}") from None


def _check_errcode(reply: bytes) -> None:
    try:
        errcode = json.loads(reply).get("errcode")
    except (ValueError, AttributeError):
        raise DeliveryFailed("the robot's reply is not JSON") from None
    if errcode != 0:
        raise ReceiverRefused(f"errcode {errcode}")


# --- routing -----------------------------------------------------------------------------------


def channels_by_user(
    session: Session, user_ids: Iterable[int]
) -> dict[int, list[NotificationChannel]]:
    """The enabled channels each user's notes go to: those of an institution the user holds a
    role in, for that role or for every role. One query, however many users."""
    rows = session.execute(
        select(RoleAssignment.user_id, NotificationChannel)
        .join(
            NotificationChannel,
            and_(
                NotificationChannel.institution_id == RoleAssignment.institution_id,
                or_(
                    NotificationChannel.role.is_(None),
                    NotificationChannel.role == RoleAssignment.role,
                ),
            ),
        )
        .where(RoleAssignment.user_id.in_(list(user_ids)), NotificationChannel.enabled.is_(True))
        .order_by(NotificationChannel.id)
    )
    found: dict[int, list[NotificationChannel]] = {}
    for user_id, channel in rows:
        mine = found.setdefault(user_id, [])
        if channel not in mine:
            mine.append(channel)
    return found


# --- administration ----------------------------------------------------------------------------


def institution_channels(session: Session, institution: Institution) -> list[NotificationChannel]:
    return list(
        session.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.institution_id == institution.id)
            .order_by(NotificationChannel.id)
        )
    )


def find_channel(
    session: Session, institution: Institution, channel_id: int
) -> NotificationChannel | None:
    """The channel if it belongs to `institution`; another institution's id is as if missing."""
    return session.scalar(
        select(NotificationChannel).where(
            NotificationChannel.id == channel_id,
            NotificationChannel.institution_id == institution.id,
        )
    )


def check_channel(kind: str, target_url: str, phone: str | None) -> None:
    """Raise `ChannelError` unless a channel of `kind` can be set up with these values."""
    if kind not in ADAPTERS:
        raise ChannelError(Message(N_("Unknown channel kind.")))
    if urllib.parse.urlsplit(target_url).scheme not in ("http", "https"):
        raise ChannelError(Message(N_("The address must start with http:// or https://.")))
    if ADAPTERS[kind].needs_phone and not phone:
        raise ChannelError(Message(N_("An SMS channel needs a phone number.")))


def add_channel(
    session: Session,
    actor: User,
    institution: Institution,
    *,
    kind: str,
    role: Role | None,
    label: str,
    target_url: str,
    secret: str | None,
    phone: str | None,
    submission: str | None = None,
) -> NotificationChannel:
    """Check, then add the channel with its audit row; commits. The same form sent again
    (`submission`, its one-time token) returns the channel it added: two channels to one group
    would post every note twice."""
    check_channel(kind, target_url, phone)

    def add() -> NotificationChannel:
        channel = NotificationChannel(
            institution_id=institution.id,
            kind=kind,
            role=role,
            label=label,
            target_url=target_url,
            secret=secret or None,
            phone=phone or None if ADAPTERS[kind].needs_phone else None,
            submission=submission,
        )
        session.add(channel)
        session.flush()
        _audit(session, actor, "channel_added", channel)
        return channel

    mine = NotificationChannel.institution_id == institution.id
    return stored_once(session, NotificationChannel, submission, mine, add).record


def set_enabled(session: Session, actor: User, channel: NotificationChannel, enabled: bool) -> None:
    """Turn a channel on or off (off: its queued messages are not sent either); commits."""
    channel.enabled = enabled
    _audit(session, actor, "channel_enabled" if enabled else "channel_disabled", channel)
    session.commit()


def _audit(session: Session, actor: User, action: str, channel: NotificationChannel) -> None:
    audit.record_on(
        session,
        channel,
        actor=actor,
        action=action,
        record_type="notification_channel",
        detail=channel.kind,
    )


def masked_url(url: str) -> str:
    """The receiver's host, not its key: a robot's webhook URL is its credential."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…{url[-4:]}"


def masked_secret(secret: str | None) -> str:
    """Enough to tell two secrets apart, never enough to use one."""
    if not secret:
        return ""
    return "••••" + (secret[-4:] if len(secret) >= 12 else "")
