"""Notifications: an in-app inbox for every user, and the same note by email and through the
institution's chat robots and SMS gateway (`campus.channels`), all through one outbox.

Content is minimum necessary ("a warning in your department needs attention"), never scores,
levels or names: email leaves our control, and a channel gets less still ("you have something new",
a link). The outbox rows are written in the caller's transaction, so a notification and its
messages exist together or not at all; the "notifications.deliver" sweep sends pending rows with
retries, so an outage delays a message but loses none (a channel's is given up after
CHANNEL_MAX_ATTEMPTS failures).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import JSON

from campus import channels
from campus import clock
from campus.extensions import Model
from campus.extensions import rows_changed
from campus.i18n import shown
from campus.i18n import viewer_locale
from campus.local_time import due_words
from campus.local_time import stored_day
from campus.models import NotificationChannel
from campus.models import User
from campus.models import name_for


class Notification(Model):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_unread", "user_id", "read_at"),
        UniqueConstraint("user_id", "digest_key", name="uq_notification_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(300))
    # In the app only, for a reader whose scope covers the student: the neutral `text` is what
    # leaves it (mail). Shaped by the domain that wrote it (the warning domain's notices).
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Listed first in the inbox while unread: a red warning, a deadline missed.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # A digest (`notify_digest`) gathers a day's repetitive chores of one unit into one note;
    # its key names the chore, unit and day, so a second sweep that day updates the same note.
    # A standing note (`notify_standing`) is raised again under its key while its matter stays
    # open, instead of a new note each time.
    digest_key: Mapped[str | None] = mapped_column(String(120))
    # When it last went out by mail and channels (where its user has them): a standing note is
    # sent again only `remind_every` after. Null for notes written before it was recorded.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class MailStatus:
    PENDING = "pending"
    SENDING = "sending"  # claimed by one deliverer until `claimed_until`
    SENT = "sent"
    FAILED = "failed"  # the server refused the address for good


class OutboxMail(Model):
    """One email, or with `channel_id` one channel message (`recipient` is then the SMS phone, if
    any, and `body` the text), to send; the deliverer claims it with a conditional update so it
    goes out once."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("notification_channel.id"))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(10), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


# A claim outlives any single SMTP conversation; a deliverer that died mid-send is retried after.
CLAIM_SECONDS = 300
MAX_BACKOFF_SECONDS = 3600
BATCH_SIZE = 50


def notify(
    session: Session,
    user_ids: Iterable[int],
    text: str,
    link: str | None = None,
    *,
    urgent: bool = False,
) -> None:
    """Queue an inbox note (and an email to users with an address) in the caller's transaction.

    `text` is an English source message marked with `N_`; it must not name the student or carry
    any level, score or note. An `urgent` note (a deadline missed, a red warning) heads the inbox
    until it is read. Nothing is committed here.
    """
    notify_many(session, [(user_ids, text, link, {}, urgent)])


Note = (
    tuple[Iterable[int], str, str | None]
    | tuple[Iterable[int], str, str | None, Mapping[int, dict[str, object]]]
    | tuple[Iterable[int], str, str | None, Mapping[int, dict[str, object]], bool]
)


def notify_many(session: Session, notes: Iterable[Note]) -> None:
    """`notify` for many notes at once, e.g. a sweep telling the owners of 500 escalations.

    Each `(user_ids, text, link)` gives every active user among `user_ids` one inbox note (and a
    mail when they have an address), exactly as `notify` would; the recipients are read in one
    query and the rows written in one flush, so the cost does not grow a round trip per person.
    A fourth item, user id -> detail, adds that in-app detail to those users' notes; a fifth,
    True, makes the note urgent.
    """
    _queue(session, [_spec(*note) for note in notes])


@dataclass(frozen=True)
class _Spec:
    user_ids: list[int]
    text: str
    link: str | None
    details: Mapping[int, dict[str, object]]
    urgent: bool = False
    digest_key: str | None = None


def _spec(
    ids: Iterable[int],
    text: str,
    link: str | None,
    details: Mapping[int, dict[str, object]] | None = None,
    urgent: bool = False,
) -> _Spec:
    return _Spec(sorted(set(ids)), text, link, details or {}, urgent)


def _queue(session: Session, wanted: list[_Spec]) -> None:
    """Write each spec's note for its active recipients, with their channel messages and mails."""
    everyone = {user_id for spec in wanted for user_id in spec.user_ids}
    if not everyone:
        return
    users = {
        user.id: user
        for user in session.scalars(
            select(User).where(User.id.in_(everyone), User.active.is_(True))
        )
    }
    now = clock.now()
    noted: list[tuple[User, Notification]] = []
    for spec in wanted:
        for user in (users[i] for i in spec.user_ids if i in users):
            note = Notification(
                user_id=user.id,
                text=spec.text,
                link=spec.link,
                detail=spec.details.get(user.id),
                urgent=spec.urgent,
                digest_key=spec.digest_key,
                created_at=now,
            )
            session.add(note)
            noted.append((user, note))
    _send(session, noted, now)


def _send(session: Session, noted: list[tuple[User, Notification]], now: datetime) -> None:
    """Queue the channel messages and mails of `noted` (user, note) in the caller's transaction."""
    for _user, note in noted:
        note.sent_at = now
    session.add_all(_channel_messages(session, noted, now))
    mailed = [(user, note) for user, note in noted if user.email]
    if not mailed:
        return
    session.flush()  # the mails point at their notes' ids
    render = _MailRenderer()
    session.add_all(render.mail(user, note, now) for user, note in mailed)


def notify_digest(
    session: Session,
    user_ids: Iterable[int],
    key: str,
    text: str,
    link: str | None,
    items: list[dict[str, object]],
) -> None:
    """Gather repetitive chores into one note per recipient and `key` (chore, unit, day).

    Each item is ``{"text": N_ message, "params": {...}}``, rendered in the reader's language
    (`digest_line`); ``"moments": {name: naive-UTC ISO time}`` adds values said in words when
    read (today 14:00); ``"names": {name: [Chinese, English or None]}`` a name entered in both
    languages (a campaign's), said in the reader's; ``"link"``, a path in the app, makes the
    item open its own page.
    The note's detail lists them (``{"digest": key, "items": [...]}``); the inbox shows it as
    one line with a count that opens to the list, and the mail only says `text`. A recipient who
    already has the key's note gets the new items added to it (and sees it unread again), with no
    second note and no second mail; items already listed change nothing. An item with a
    ``"same"`` key takes the place of a listed item with that key (a deadline moved again today:
    its latest date, not one line per move). Nothing is committed here.
    """
    ids = sorted(set(user_ids))
    existing = {
        note.user_id: note
        for note in session.scalars(
            select(Notification).where(
                Notification.digest_key == key, Notification.user_id.in_(ids)
            )
        )
    }
    for note in existing.values():
        previous = (note.detail or {}).get("items", [])
        listed: list[dict[str, object]] = list(previous) if isinstance(previous, list) else []
        added = [item for item in items if item not in listed]
        if added:
            replaced = {item["same"] for item in added if item.get("same") is not None}
            listed = [item for item in listed if item.get("same") not in replaced]
            note.detail = {"digest": key, "items": listed + added}
            note.read_at = None
    new = [i for i in ids if i not in existing]
    detail: dict[str, object] = {"digest": key, "items": list(items)}
    _queue(session, [_Spec(new, text, link, dict.fromkeys(new, detail), digest_key=key)])


def digest_line(item: Mapping[str, Any]) -> str:
    """One item of a digest in the reader's language: its message with its `params` (a day
    among them, stored ISO, in words: 12月7日 周一), its `names` in the reader's language, and
    its `moments` (naive-UTC ISO times) as
    a person plans by them (`local_time.due_words`: "today 14:00", 9月22日 周二 14:00), said
    when the note is read, so a note read the next day does not say "today" of yesterday."""
    moments = item.get("moments") or {}
    params = {k: shown(stored_day(v)) for k, v in (item.get("params") or {}).items()}
    params |= {k: due_words(v) for k, v in moments.items()}
    locale = viewer_locale()
    params |= {k: name_for(zh, en, locale) for k, (zh, en) in (item.get("names") or {}).items()}
    return gettext(str(item["text"]), **params)


@dataclass(frozen=True)
class Standing:
    """One matter that stays open, told to `user_ids` by one note each under `key`
    (`notify_standing`). `again` says it is still the same event (a deadline passed on again
    within the top tier), not a new one."""

    user_ids: list[int]
    key: str
    text: str
    link: str | None
    details: Mapping[int, dict[str, object]]
    urgent: bool = False
    again: bool = False


def notify_standing(
    session: Session, notes: Iterable[Standing], now: datetime, *, remind_every: timedelta
) -> None:
    """Tell people of a matter that stays open without burying them in identical notes.

    A new event (`again` false) is a new note and mail, as `notify_many` would write; it takes
    `key` over from the recipient's earlier note of the matter, which stays as it was. The same
    event again raises the recipient's note under `key` instead: its text and detail replaced,
    unread again (so it heads the inbox while urgent), and mailed again only once `remind_every`
    has passed since it last went out. A recipient with no such note gets a new one. Nothing is
    committed here.
    """
    notes = list(notes)
    wanted = {(user_id, note.key) for note in notes for user_id in note.user_ids}
    existing = {
        (row.user_id, row.digest_key): row
        for row in session.scalars(
            select(Notification).where(
                Notification.digest_key.in_({key for _, key in wanted}),
                Notification.user_id.in_({user_id for user_id, _ in wanted}),
            )
        )
        if (row.user_id, row.digest_key) in wanted
    }
    raised: list[Notification] = []
    new: list[_Spec] = []
    for note in notes:
        fresh = []
        for user_id in sorted(set(note.user_ids)):
            row = existing.get((user_id, note.key))
            if row is not None and not note.again:
                row.digest_key = None  # the earlier event's note stays, under no key
            if row is None or not note.again:
                fresh.append(user_id)
                continue
            row.text, row.detail, row.urgent = note.text, note.details.get(user_id), note.urgent
            row.read_at = None
            if now - (row.sent_at or row.created_at) >= remind_every:
                raised.append(row)
        new.append(_Spec(fresh, note.text, note.link, note.details, note.urgent, note.key))
    session.flush()  # a key given up above is free before a new note takes it
    _queue(session, new)
    users = {
        user.id: user
        for user in session.scalars(
            select(User).where(User.id.in_({row.user_id for row in raised}), User.active)
        )
    }
    _send(session, [(users[row.user_id], row) for row in raised if row.user_id in users], now)


def _channel_messages(
    session: Session, noted: list[tuple[User, Notification]], now: datetime
) -> list[OutboxMail]:
    """One outbox row per channel and distinct text: a group robot told about one note for ten
    of its members posts once. The text is the recipient's language's "something new" + link."""
    routes = channels.channels_by_user(session, {user.id for user, _note in noted})
    texts: dict[tuple[str, str | None], str] = {}
    rows: dict[tuple[int, str], OutboxMail] = {}
    for user, note in noted:
        for channel in routes.get(user.id, []):
            key = (_locale_of(user), note.link)
            if key not in texts:
                texts[key] = _channel_text(*key)
            body = texts[key]
            rows.setdefault((channel.id, body), _channel_row(channel, body, now))
    return list(rows.values())


def _channel_row(channel: NotificationChannel, body: str, now: datetime) -> OutboxMail:
    return OutboxMail(
        channel_id=channel.id,
        recipient=channel.phone or "",
        subject="",
        body=body,
        next_attempt_at=now,
        created_at=now,
    )


def _channel_text(locale: str, link: str | None) -> str:
    with force_locale(locale):
        return gettext(channels.CHANNEL_TEXT, link=_absolute(link))


def _locale_of(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


class _MailRenderer:
    """Subject and body per (locale, text, link), rendered once however many people get them."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str | None], tuple[str, str]] = {}

    def mail(self, user: User, note: Notification, now: datetime) -> OutboxMail:
        locale = _locale_of(user)
        key = (locale, note.text, note.link)
        if key not in self._cache:
            self._cache[key] = _render(locale, note.text, note.link)
        subject, body = self._cache[key]
        return OutboxMail(
            notification_id=note.id,
            recipient=user.email,
            subject=subject,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )


def _render(locale: str, text: str, link: str | None) -> tuple[str, str]:
    with force_locale(locale):
        subject = gettext("Xinqiao: you have a new notification")
        body = "\n\n".join(
            [
                gettext(text),
                gettext("Sign in to Xinqiao to see it: %(link)s", link=_absolute(link)),
            ]
        )
    return subject, body


def _absolute(link: str | None) -> str:
    base = (current_app.config.get("MAIL_LINK_BASE") or "").rstrip("/")
    return f"{base}{link or '/inbox'}"


Settled = Callable[[Session, Sequence["Notification"]], dict[int, str]]


def register_settled(app: Flask, reader: Settled) -> None:
    """Declare that `reader(session, notes)` knows, of some of `notes`, that what they asked for
    no longer waits (a deadline met, or passed on): note id -> what became of it, in words. The
    inbox shows those words instead of the urgent mark and files such a note by date, not at the
    top, so a counsellor who acted on eighteen reds sees what still waits first."""
    app.extensions.setdefault("xinqiao_settled_notes", []).append(reader)


def settled(app: Flask, session: Session, notes: Sequence[Notification]) -> dict[int, str]:
    """What every domain's registered reader knows to be settled among `notes`."""
    found: dict[int, str] = {}
    for reader in app.extensions.get("xinqiao_settled_notes", []):
        found.update(reader(session, notes))
    return found


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(session: Session, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, every) unread note of `user_id` read; commits. Returns how many."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    count = rows_changed(session, stmt.values(read_at=clock.now()))
    session.commit()
    return count


# --------------------------------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------------------------------

Sender = Callable[[OutboxMail], None]


class ChannelDisabled(Exception):
    """The row's channel was turned off after the row was queued: it is not sent."""


def deliver_outbox(
    session: Session, now: datetime, send: Sender | None = None, *, mail: bool = True
) -> int:
    """Send the messages that are due (with `mail` off, channel messages only); returns how many
    went out. Commits per message. `send` replaces SMTP for the mail rows.

    Each row is claimed with a conditional UPDATE before sending and marked sent right after, so
    two deliverers never send one message twice; a failure puts it back with exponential backoff.
    """
    send = send or smtp_sender()
    due = session.scalars(
        select(OutboxMail.id)
        .where(
            or_(
                (OutboxMail.status == MailStatus.PENDING) & (OutboxMail.next_attempt_at <= now),
                (OutboxMail.status == MailStatus.SENDING) & (OutboxMail.claimed_until < now),
            ),
            true() if mail else OutboxMail.channel_id.is_not(None),
        )
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(BATCH_SIZE)
    ).all()
    session.commit()
    return sum(_deliver_one(session, mail_id, now, send) for mail_id in due)


def _deliver_one(session: Session, mail_id: int, now: datetime, send: Sender) -> int:
    if not _claim(session, mail_id, now):
        return 0
    # The claim above just matched the row, and outbox rows are never deleted.
    mail = session.get_one(OutboxMail, mail_id, populate_existing=True)
    try:
        _sender_for(session, mail, send)(mail)
    except (smtplib.SMTPRecipientsRefused, ChannelDisabled) as error:
        _give_up(mail, error)
        session.commit()
        return 0
    except (OSError, smtplib.SMTPException, channels.DeliveryFailed) as error:
        _retry_later(mail, now, error)
        session.commit()
        return 0
    mail.status = MailStatus.SENT
    mail.sent_at = now
    mail.claimed_until = None
    session.commit()
    return 1


def _claim(session: Session, mail_id: int, now: datetime) -> bool:
    claimed = rows_changed(
        session,
        update(OutboxMail)
        .where(
            OutboxMail.id == mail_id,
            or_(
                OutboxMail.status == MailStatus.PENDING,
                (OutboxMail.status == MailStatus.SENDING) & (OutboxMail.claimed_until < now),
            ),
        )
        .values(status=MailStatus.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return claimed == 1


def _sender_for(session: Session, row: OutboxMail, send_mail: Sender) -> Sender:
    """The row's channel adapter's `send`, or `send_mail` for an email."""
    if row.channel_id is None:
        return send_mail
    channel = session.get_one(NotificationChannel, row.channel_id)  # a foreign key
    if not channel.enabled:
        raise ChannelDisabled(f"channel {channel.id} is disabled")
    return channels.adapter_for(channel, current_app.config).send


def _retry_later(mail: OutboxMail, now: datetime, error: Exception) -> None:
    if mail.channel_id is not None and mail.attempts + 1 >= _channel_max_attempts():
        _give_up(mail, error)  # a chat robot's message is stale long before mail would be
        return
    mail.attempts += 1
    mail.status = MailStatus.PENDING
    mail.claimed_until = None
    mail.next_attempt_at = now + timedelta(seconds=backoff_seconds(mail.attempts))
    mail.last_error = f"{type(error).__name__}: {error}"[:300]


def _give_up(mail: OutboxMail, error: Exception) -> None:
    mail.attempts += 1
    mail.status = MailStatus.FAILED
    mail.claimed_until = None
    mail.last_error = f"{type(error).__name__}: {error}"[:300]


def _channel_max_attempts() -> int:
    return int(current_app.config["CHANNEL_MAX_ATTEMPTS"])


def backoff_seconds(attempts: int) -> int:
    """1, 2, 4 … minutes after each failure, at most an hour: an outage is retried forever."""
    # `int ** int` is typed `Any` (a negative power is a float); `attempts` is at least 1.
    return min(60 * int(2 ** (attempts - 1)), MAX_BACKOFF_SECONDS)


def smtp_sender() -> Sender:
    """Send through the configured SMTP server (MAIL_* settings), one connection per mail."""
    config = current_app.config

    def send(mail: OutboxMail) -> None:
        message = EmailMessage()
        message["From"] = config["MAIL_SENDER"]
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"]
        ) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)

    return send


def deliver_sweep(session: Session, now: datetime) -> int:
    """The "notifications.deliver" sweep: channel messages always, mail while MAIL_ENABLED is on."""
    return deliver_outbox(session, now, mail=current_app.config["MAIL_ENABLED"])
