"""Self-service password reset by mail, where the institution has mail configured.

Only an address the administrator entered on the account counts (a person cannot type their own
address anywhere in Xinqiao, so every address on record is one the institution vouches for);
students, who have none, are reset by staff (`campus.auth.issue_one_time_password`).

The link carries a token signed with the app's secret (itsdangerous) that names the account and
a fingerprint of its current password hash, and expires after `PASSWORD_RESET_MINUTES`. Nothing
secret is stored: setting the new password changes the hash, so the link works once, and so does
any other change of the password in the meantime. Asking never tells whether an account exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC

from flask_babel import force_locale
from flask_babel import gettext
from itsdangerous import BadSignature
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from campus import audit
from campus import auth
from campus import clock
from campus.models import User
from campus.notifications import OutboxMail

_SALT = "xinqiao-password-reset"


class _ClockSigner(TimestampSigner):
    """Dates the link by `campus.clock`, the one "now" every rule (and test) uses."""

    def get_timestamp(self) -> int:
        return int(clock.now().replace(tzinfo=UTC).timestamp())


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT, signer=_ClockSigner)


def _fingerprint(user: User) -> str:
    """Changes whenever the password does (a fresh salt each time), so a used link is dead."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:24]


def token_for(user: User, secret_key: str) -> str:
    return _serializer(secret_key).dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_token(session: Session, token: str, secret_key: str, max_minutes: int) -> User | None:
    """The active account a link is for, while the link is fresh and unused; None otherwise."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_minutes * 60)
    except BadSignature:  # tampered, or (SignatureExpired is one) too old
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        return None
    return user


def request_reset(
    session: Session,
    institution_code: str,
    login: str,
    *,
    secret_key: str,
    max_minutes: int,
    link_for: Callable[[str], str],
) -> None:
    """Queue the reset mail if the account exists, is active and has an address; audit the
    request either way and commit. The caller answers the same whatever happened."""
    user = auth.find_account(session, institution_code, login)
    sent = user is not None and user.active and bool(user.email)
    if user is not None and sent:
        assert user.email is not None  # `sent` requires it
        with force_locale(user.locale or "zh_CN"):
            subject = gettext("Xinqiao: reset your password")
            body = gettext(
                "Someone, hopefully you, asked to reset the password of the Xinqiao account "
                "%(login)s. Open this link within %(minutes)s minutes to choose a new password; "
                "it works once:\n\n%(link)s\n\nIf it was not you, ignore this mail: your "
                "password stays as it is.",
                login=user.login,
                minutes=max_minutes,
                link=link_for(token_for(user, secret_key)),
            )
        now = clock.now()
        session.add(
            OutboxMail(
                recipient=user.email,
                subject=subject,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    auth.record_own(
        session,
        user,
        "request_password_reset",
        outcome="ok" if sent else "denied",
        detail=None if sent else ("no address on record" if user else "unknown account"),
    )
    session.commit()


def refuse_link(session: Session) -> None:
    """Audit a reset link that did not work (expired, used, forged)."""
    audit.record(
        session,
        actor=None,
        action="use_password_reset",
        record_type="user",
        outcome="denied",
        detail="link expired, used or forged",
    )
    session.commit()


def reset_password(session: Session, user: User, new_password: str, ip: str | None) -> None:
    """Set the password chosen through a reset link and end every other session of the user
    (`auth.change_password`, which commits), audited as a reset by mail."""
    auth.record_own(session, user, "use_password_reset")
    auth.change_password(session, user, new_password, ip)
