"""Heavy aggregate reads on a read replica, when one is configured.

Why: the oversight KPIs scan months of warnings, deadlines and referrals. On a streaming replica
they do not compete with the screening intake and the escalation sweep for the primary, and they
tolerate its lag (seconds). Anything a person has just written and expects to see (a warning page,
a referral, the audit trail) stays on the primary, and so does every write: only code that asks
for `aggregate_session()` reads from the replica.

Without `DATABASE_REPLICA_URL` the aggregate session is the primary's `db.session`.
"""

from __future__ import annotations

from flask import Flask
from flask import g
from sqlalchemy.orm import Session

from campus.extensions import db

REPLICA = "replica"


def configure(app: Flask) -> None:
    """Declare the replica as a Flask-SQLAlchemy bind (before the extension starts)."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if url:
        app.config.setdefault("SQLALCHEMY_BINDS", {})
        app.config["SQLALCHEMY_BINDS"] = {**app.config["SQLALCHEMY_BINDS"], REPLICA: url}

    @app.teardown_appcontext
    def close_replica_session(_error: BaseException | None) -> None:
        session = g.pop("replica_session", None)
        if session is not None:
            session.close()


def aggregate_session() -> Session:
    """The session aggregate reads use: one per app context on the replica, else db.session."""
    if REPLICA not in db.engines:
        return db.session
    if "replica_session" not in g:
        g.replica_session = Session(db.engines[REPLICA])
    session: Session = g.replica_session
    return session
