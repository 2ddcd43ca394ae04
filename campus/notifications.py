"""Notifications: an in-app inbox for every user.

Content is minimum necessary ("a warning in your department needs attention"), never scores.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from campus import clock
from campus.extensions import db


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


def notify(session: Session, user_ids: Iterable[int], text: str, link: str | None = None) -> None:
    """Queue a notification for each user in the caller's transaction (no commit)."""
    for user_id in sorted(set(user_ids)):
        session.add(Notification(user_id=user_id, text=text, link=link, created_at=clock.now()))
