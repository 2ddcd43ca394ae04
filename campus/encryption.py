"""Field-level encryption of clinical free text (PIPL art. 51; GB/T 39725 on health data).

A counsellor's note, a hospital statement or a peer's description of a classmate is stored as a
Fernet token (AES-128-CBC with HMAC-SHA256, from `cryptography`): a copied database file, a backup
or a replica read by the wrong person holds no readable clinical text. The keys live outside the
database (`FIELD_ENCRYPTION_KEYS` or `FIELD_ENCRYPTION_KEY_FILE`), newest first; `MultiFernet`
reads with any of them and writes with the first, so a rotation adds the new key in front,
re-encrypts (`flask campus rotate-keys`, in batches, while the app serves) and then drops the old
one. Whoever loses every key loses these fields: docs/deploy.md says so.

Columns declared `EncryptedText` are encrypted on write and decrypted on read by the ORM; nothing
else changes for the code that uses them, except that a WHERE on such a column can never match
(each token has its own random IV) — nobody searches clinical notes by their text.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from flask import Flask
from sqlalchemy import Dialect
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

from campus.extensions import Model
from campus.extensions import db


class UnreadableField(RuntimeError):
    """The configured keys cannot read a stored token: the wrong key, or a damaged value. The app
    stops rather than show a counsellor garbage or an empty note."""


class _Keyring:
    """The keys of the running process (one per process: every app built in it shares them)."""

    fernet: MultiFernet | None = None


_keyring = _Keyring()


def keys_from_config(config: dict[str, Any]) -> list[str]:
    """The configured keys, newest first: the file's lines, else the comma-separated variable,
    else (development and tests only) one derived from SECRET_KEY."""
    path = config.get("FIELD_ENCRYPTION_KEY_FILE")
    if path:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    listed = config.get("FIELD_ENCRYPTION_KEYS") or ""
    keys = [key.strip() for key in listed.split(",") if key.strip()]
    if keys:
        return keys
    return [derived_key(str(config["SECRET_KEY"]))]


def derived_key(secret: str) -> str:
    """A Fernet key derived from `secret`: for development and tests, never production."""
    digest = hashlib.sha256(b"xinqiao-field-encryption:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configure(keys: Sequence[str]) -> None:
    """Use `keys` (newest first) from now on in this process; a malformed key stops start-up."""
    try:
        _keyring.fernet = MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise RuntimeError(
            "FIELD_ENCRYPTION_KEYS holds a malformed key: each must be 32 url-safe base64-encoded "
            "bytes, as `flask campus new-encryption-key` prints"
        ) from error


def new_key() -> str:
    return Fernet.generate_key().decode()


def _fernet() -> MultiFernet:
    if _keyring.fernet is None:
        raise RuntimeError("field encryption used before the app configured its keys")
    return _keyring.fernet


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str, ttl: int | None = None) -> str:
    """The text of `token`; with `ttl` (seconds), a token older than that is unreadable too."""
    try:
        return _fernet().decrypt(token.encode("ascii"), ttl=ttl).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as error:
        raise UnreadableField(
            "a stored clinical field cannot be read with the configured FIELD_ENCRYPTION_KEYS"
        ) from error


def rotated(token: str) -> str:
    """`token` re-encrypted with the newest key (unchanged in meaning)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise UnreadableField("a stored clinical field cannot be read for rotation") from error


class EncryptedText(TypeDecorator[str]):
    """Free text stored encrypted (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


class KeyCheck(Model):
    """One known value encrypted with the keys the data was written with: start-up decrypts it
    and refuses to serve if it cannot (a wrong or missing key), instead of failing note by note."""

    __tablename__ = "encryption_key_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(500))


KNOWN_VALUE = "xinqiao"


ROTATING_SQL = "EXISTS (SELECT 1 FROM key_rotation_marker)"
# How a trigger says "unchanged" on each database (NULL-safe).
SAME_SQL = {"postgresql": "IS NOT DISTINCT FROM", "sqlite": "IS"}


def unchanged_sql(columns: Sequence[str], same: str) -> str:
    """A trigger condition: every one of `columns` (fixed names, never input) is unchanged."""
    return " AND ".join(f"NEW.{c} {same} OLD.{c}" for c in columns)


def rotation_only_sql(columns: Sequence[str], same: str) -> str:
    """A trigger condition admitting an UPDATE of an append-only row only inside a rotation batch
    (`KeyRotationMarker`) and only when `columns` — all but the encrypted ones — are unchanged."""
    return f"{ROTATING_SQL} AND {unchanged_sql(columns, same)}"


class KeyRotationMarker(Model):
    """Present only inside a rotation batch's own transaction (inserted before its UPDATEs,
    deleted before its commit): the append-only triggers of signed records (signed session notes,
    their addenda) let a ciphertext-only rewrite through while they see it. No other transaction
    ever sees the row, so a killed rotation leaves no window open."""

    __tablename__ = "key_rotation_marker"

    id: Mapped[int] = mapped_column(primary_key=True)


def check_keys(session: Session) -> None:
    """Verify the keys against the database (or record the check value on first start).

    Skipped while the table does not exist yet (`flask db upgrade` on an empty database).
    """
    if not inspect(session.get_bind()).has_table(KeyCheck.__tablename__):
        return
    check = session.scalars(select(KeyCheck)).first()
    if check is None:
        session.add(KeyCheck(token=encrypt(KNOWN_VALUE)))
        session.commit()
        return
    try:
        readable = decrypt(check.token) == KNOWN_VALUE
    except UnreadableField:
        readable = False
    session.rollback()
    if not readable:
        raise RuntimeError(
            "FIELD_ENCRYPTION_KEYS cannot read this database's clinical fields: the key it was "
            "written with is missing (add it after the new one) or the wrong key file is set. "
            "Refusing to start rather than show unreadable notes."
        )


def init_app(app: Flask) -> None:
    """Configure the keys from the app's config and check them against its database."""
    configure(keys_from_config(app.config))
    if app.config.get("FIELD_ENCRYPTION_CHECK_ON_START", True):
        with app.app_context():
            check_keys(db.session)
            db.session.remove()


def encrypted_columns() -> Iterator[tuple[type[Any], str]]:
    """(model, attribute name) of every `EncryptedText` column of every mapped model.

    In table order: the registry is a set, and a rotation that runs and reports in the same order
    on every host is one an operator can compare between runs.
    """
    found = [
        (mapper.class_, column.key)
        for mapper in Model.registry.mappers
        for column in mapper.columns
        if isinstance(column.type, EncryptedText) and column.table is mapper.local_table
    ]
    yield from sorted(found, key=lambda pair: (pair[0].__table__.name, pair[1]))


def rotate_all(session: Session, batch: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted field with the newest key, `batch` rows per commit.

    Safe to interrupt and run again: rotating a token already under the newest key gives a token
    under the same key, so a second run after a kill finishes the job and loses nothing. Reads and
    writes the raw tokens (`type_coerce` to plain text), never the decrypted notes. Each batch
    holds a `KeyRotationMarker` row inside its own transaction, which is what lets the append-only
    triggers of signed records (session notes and their addenda) pass a ciphertext rewrite.
    """
    counts: dict[str, int] = {}
    for model, name in encrypted_columns():
        table = model.__table__
        column = table.c[name]
        (key,) = table.primary_key.columns
        raw = type_coerce(column, Text)
        write = (
            update(table)
            .where(key == bindparam("_row"))
            .values({column.name: bindparam("_token", type_=Text)})
        )
        done, last = 0, None
        while True:
            query = select(key, raw).where(column.is_not(None)).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            rows = session.execute(query).all()
            if not rows:
                break
            session.execute(insert(KeyRotationMarker).values(id=1))
            session.execute(write, [{"_row": row, "_token": rotated(token)} for row, token in rows])
            session.execute(delete(KeyRotationMarker))
            session.commit()
            done += len(rows)
            last = rows[-1][0]
        counts[f"{table.name}.{name}"] = done
    for check in session.scalars(select(KeyCheck)):
        check.token = rotated(check.token)
    session.commit()
    return counts
