"""Sign-in rules: password hashing, server-side sessions, idle timeout.

The session cookie carries only a random token naming a `UserSession` row. Logging out or going idle
ends that row, so a copied cookie stops working too; signing in always issues a fresh token.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload

from campus import audit
from campus import clock
from campus.models import Institution
from campus.models import User
from campus.models import UserSession

# Verifies a hash made with any parameters: each hash carries its own.
_verifier = PasswordHasher()
# Writing last_seen_at on every request would make every page a write; a minute is precise enough.
_TOUCH_EVERY = timedelta(minutes=1)


@cache
def _hasher_of(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    """The hasher at the cost the deployment set (config PASSWORD_HASH_COST)."""
    return _hasher_of(**current_app.config["PASSWORD_HASH_COST"])


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verifying against this keeps the time of a failed sign-in the same whether the account
    exists: it is made at the cost of real ones."""
    return hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user and user.password_hash else _dummy_hash(_hasher())
    return matches_hash(stored, password) and user is not None and user.password_hash is not None


def normal_institution_code(code: str) -> str:
    """An institution code as it is stored and looked up: trimmed, upper case."""
    return code.strip().upper()


def account_key(code: str, login: str) -> tuple[str, str]:
    """The (institution code, login) an account is stored and looked up by. Sign-in and its
    per-account throttle both go through it, so every spelling that reaches an account counts
    against it."""
    return normal_institution_code(code), login.strip()


def find_account(session: Session, institution_code: str, login: str) -> User | None:
    """The account with its roles, which the sign-in's audit row names, in one statement."""
    code, login = account_key(institution_code, login)
    return session.scalar(
        select(User)
        .join(Institution, Institution.id == User.institution_id)
        .where(Institution.code == code, User.login == login)
        .options(joinedload(User.roles), joinedload(User.institution))
    )


def authenticate(session: Session, institution_code: str, login: str, password: str) -> User | None:
    """The account if the credentials match an active one. A refusal is audited and committed
    here; a success is not audited yet: what it leads to (a session, or the second step of a
    two-factor sign-in) is written by `start_session` or by `campus.mfa`. An institution that
    has switched local passwords off (it signs its people in through the campus sign-on) accepts
    none, right or wrong."""
    user = find_account(session, institution_code, login)
    ok = verify_password(user, password) and user is not None and user.active
    detail = None if user else f"unknown account {institution_code}/{login}"[:500]
    if user is not None and not user.institution.local_passwords:
        ok, detail = False, "local passwords are off"
    if user is None or not ok:
        record_own(session, user, "sign_in", outcome="denied", detail=detail)
        session.commit()
        return None
    assert user.password_hash is not None  # `verify_password` admits no account without one
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_own(
    session: Session,
    user: User | None,
    action: str,
    *,
    outcome: str = "ok",
    detail: str | None = None,
    user_id: int | None = None,
) -> None:
    """Audit what a person tried with their own account (sign in, activate it, reset its
    password, give a second-step code), filed under that account; `user` is None for an account
    nobody has, or one not loaded (`user_id` then names it), whose attempt is audited all the
    same. Every sign-in's row, refused, pending or started, is one."""
    audit.record(
        session,
        actor=user,
        action=action,
        record_type="user",
        record_id=user.id if user else user_id,
        outcome=outcome,
        detail=detail,
    )


def start_session(
    session: Session,
    user: User,
    ip: str | None,
    replacing: str | None = None,
    detail: str | None = None,
    signed_in_with: str = "password",
    ticket: str | None = None,
) -> None:
    """Sign `user` in to a fresh server-side session (`user.session_token`) that ends the
    browser's earlier one (token `replacing`), so a copy of the old cookie stops working. The
    audit row of the sign-in (`detail`: how the second factor was given, if one was) and the
    session changes commit together. `signed_in_with` and `ticket` say how the session began
    (`sign_in_from_campus`)."""
    record_own(session, user, "sign_in", detail=detail)
    if replacing:
        _end_sessions(session, UserSession.token == replacing)
    token = _start_session(session, user, ip, signed_in_with, ticket)
    session.commit()
    user.session_token = token


def matches_hash(stored: str, secret: str) -> bool:
    """Whether `secret` is the one `stored` (an argon2 hash: a password's, a recovery code's or
    an activation code's) was made from. The hash carries its own parameters, so one verifier
    serves hashes made with any of them."""
    try:
        return _verifier.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def end_all_sessions(session: Session, user: User) -> None:
    """End every live session of `user` in the unit of work (an administrator's reset)."""
    _end_sessions(session, UserSession.user_id == user.id)


def sign_in_from_campus(
    session: Session,
    user: User,
    protocol: str,
    ip: str | None,
    ticket: str | None = None,
    replacing: str | None = None,
) -> User:
    """Sign `user` in as the campus sign-on (`protocol`, "cas" or "oidc") vouched for them: the
    same fresh server-side session, rotation and audit row as a password sign-in. `ticket` is the
    CAS service ticket a single-logout request will name."""
    detail = f"campus sign-on ({protocol})"
    start_session(session, user, ip, replacing, detail, signed_in_with=protocol, ticket=ticket)
    return user


def ticket_seen(session: Session, ticket: str) -> bool:
    """Whether a session was ever started with this CAS ticket: a ticket is good for one."""
    started = select(UserSession.id).where(UserSession.sign_on_ticket == ticket)
    return session.scalar(started) is not None


def end_ticket_sessions(session: Session, institution: Institution, ticket: str) -> int:
    """End the live session a CAS single logout names by its ticket (only one of `institution`'s
    people), audited; how many ended."""
    of_institution = select(User.id).where(User.institution_id == institution.id)
    rows = session.scalars(
        select(UserSession).where(
            UserSession.sign_on_ticket == ticket,
            UserSession.ended_at.is_(None),
            UserSession.user_id.in_(of_institution),
        )
    ).all()
    for row in rows:
        row.ended_at = clock.now()
        audit.record(
            session,
            actor=None,
            action="single_logout",
            record_type="user",
            record_id=row.user_id,
            institution_id=institution.id,
            detail="ended by the CAS server",
        )
    session.commit()
    return len(rows)


def _start_session(
    session: Session,
    user: User,
    ip: str | None,
    signed_in_with: str = "password",
    ticket: str | None = None,
) -> str:
    """Add a fresh server-side session for `user` to the unit of work; returns its token."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        UserSession(
            token=token,
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=ip,
            signed_in_with=signed_in_with,
            sign_on_ticket=ticket,
        )
    )
    return token


def _end_sessions(session: Session, which: ColumnElement[bool]) -> None:
    """End the live sessions `which` selects in the unit of work, e.g. every one of a user
    whose password changed: a cookie copied before must not outlive the change."""
    session.execute(
        update(UserSession)
        .where(which, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def load_session_user(session: Session, token: str, idle_minutes: int) -> User | None:
    """The user behind a live session token; ends the session once it has been idle for more
    than `idle_minutes` since its last recorded visit (visits are recorded once a minute)."""
    found = _live_session(session, token)
    if found is None:
        return None
    user, row = found
    now = clock.now()
    if now - row.last_seen_at > timedelta(minutes=idle_minutes):
        row.ended_at = now
        session.commit()
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
        found = _live_session(session, token)  # the commit expired both: read them again
        if found is None:  # signed out elsewhere in the meantime
            return None
        user, row = found
    if not user.active:
        return None
    user.session_token = row.token
    return user


def _live_session(session: Session, token: str) -> tuple[User, UserSession] | None:
    """The session row of `token` unless it has ended, with its user, the user's roles and
    institution (whose zone every time on the page is shown in): every page needs them all, so
    they come in one statement."""
    return (
        session.execute(
            select(User, UserSession)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token == token, UserSession.ended_at.is_(None))
            .options(joinedload(User.roles), joinedload(User.institution))
            # Roles read afresh on every request: one that ended a minute ago no longer works.
            .execution_options(populate_existing=True)
        )
        .unique()
        .tuples()  # the typed view of the same rows
        .first()
    )


def end_session(session: Session, token: str | None) -> None:
    if not token:
        return
    row = session.scalar(select(UserSession).where(UserSession.token == token))
    if row is not None and row.ended_at is None:
        row.ended_at = clock.now()
        session.commit()


def change_password(session: Session, user: User, new_password: str, ip: str | None) -> None:
    """Set the user's own new password and end every session of theirs, the current one replaced
    by a fresh one (`user.session_token`): whoever held another session, or a copy of this one's
    cookie, must sign in again with the new password."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    _end_sessions(session, UserSession.user_id == user.id)
    token = _start_session(session, user, ip)
    record_own(session, user, "change_password")
    session.commit()
    user.session_token = token


def issue_one_time_password(session: Session, admin: User, user: User) -> str:
    """A random first-login password the administrator hands over; it must be changed at once.
    Every session of the user ends: a reset is what an administrator does when an account may
    be in someone else's hands."""
    password = secrets.token_urlsafe(9)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    _end_sessions(session, UserSession.user_id == user.id)
    audit.record(
        session, actor=admin, action="reset_password", record_type="user", record_id=user.id
    )
    session.commit()
    return password
