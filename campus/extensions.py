"""Flask extensions, created unbound so every domain can import them without the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import CursorResult
from sqlalchemy import MetaData
from sqlalchemy import update
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session
from sqlalchemy.orm import scoped_session
from sqlalchemy.sql.dml import UpdateBase

# Stable constraint names so Alembic migrations are reproducible on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


if TYPE_CHECKING:

    class RequestSession(scoped_session[Session], Session):
        """`db.session` as the type checker sees it: the request's registry (`remove()`) that
        proxies every `Session` method, so it is passed to services that take a `Session`."""

    class _Database(SQLAlchemy):
        # Flask-SQLAlchemy declares the bare registry, which no `Session` parameter accepts.
        session: RequestSession  # type: ignore[assignment]

    # `db.Model` is made at runtime from `Base`'s bases and body (same metadata and registry), so
    # models declared on it type-check as `Base` subclasses.
    Model = Base


db: _Database = cast("_Database", SQLAlchemy(model_class=Base))
if not TYPE_CHECKING:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()


def rows_changed(session: Session, statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE and return how many rows it matched.

    `Session.execute` is typed to return a `Result`; a statement without RETURNING gives a
    `CursorResult`, the one that counts rows, so every conditional claim reads the count here.
    """
    result = session.execute(statement)
    assert isinstance(result, CursorResult)  # an UPDATE or DELETE without RETURNING
    return result.rowcount


def set_once(
    session: Session, marker: InstrumentedAttribute[Any], row_id: int, **values: Any
) -> bool:
    """Write `values` on row `row_id` of `marker`'s table only while `marker` is still empty;
    True when this request wrote them.

    The one way a thing done once is claimed (a code used, a task done, a reminder sent, a copy
    signed): two requests at once both see the row empty, the database lets one UPDATE match.
    Objects already loaded are left as they are (their view may be stale); refresh what you read.
    """
    model = marker.class_
    statement = (
        update(model)
        .where(model.id == row_id, marker.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(session, statement) == 1
