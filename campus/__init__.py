"""The campus kernel: structure, people, roles and scopes, sign-in, audit, and the app factory."""

from __future__ import annotations

import importlib
import os

from flask import Flask
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from campus import clean_input
from campus import clock
from campus import encryption
from campus import export_rights
from campus import i18n
from campus import local_time as clock_display
from campus import redirects
from campus import replica
from campus.extensions import babel
from campus.extensions import csrf
from campus.extensions import db
from campus.extensions import limiter
from campus.extensions import login_manager
from campus.extensions import talisman
from campus.i18n import N_
from config import BASE_DIR
from config import CONFIGS

# Domain packages in the order of the chain; each declares what it adds to the app in
# `<domain>/registration.py`, whose `register(app)` is called here and nowhere else.
DOMAINS: tuple[str, ...] = (
    "campus",
    "screening",
    "warning",
    "referrals",
    "casework",
    "appointments",
    "oversight",
    "privacy",
)

CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
}


def create_app(config_name: str | None = None, **overrides: object) -> Flask:
    """Build the application; `config_name` defaults to $XINQIAO_CONFIG, else production.

    Production is the default so a server started without the variable fails closed (it refuses to
    run without SECRET_KEY and DATABASE_URL) instead of running with the development secret.
    """
    config_name = config_name or os.environ.get("XINQIAO_CONFIG", "production")
    config_class = CONFIGS[config_name]
    if hasattr(config_class, "validate"):
        config_class.validate()
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    clean_input.init_app(app)
    app.config.from_object(config_class)
    app.config.update(overrides)
    export_rights.check_config(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        # Werkzeug's documented way to add middleware; the checker takes `wsgi_app` for a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    os.makedirs(app.instance_path, exist_ok=True)
    _init_extensions(app)
    _init_templates(app)
    _init_errors(app)
    for domain in DOMAINS:
        importlib.import_module(f"{domain}.registration").register(app)
    encryption.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    replica.configure(app)
    db.init_app(app)
    Migrate(
        app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "campus.login"
    # Flask-Login's sentence, translated when it is flashed (its default was English only).
    login_manager.login_message = N_("Please sign in to see this page.")
    login_manager.localize_callback = gettext
    login_manager.session_protection = None  # our server-side sessions do this job
    login_manager.unauthorized_handler(_sign_in_first)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["TALISMAN_FORCE_HTTPS"],
        content_security_policy=CSP,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        strict_transport_security=app.config["TALISMAN_FORCE_HTTPS"],
        referrer_policy="same-origin",
    )


def _sign_in_first() -> Response:
    """Flask-Login's redirect to the sign-in page, with its sentence, remembering the page to
    come back to (`redirects.return_after_sign_in`): a form sent after the session went idle
    comes back to the page the form was on, not to the form's own address."""
    flash(gettext(login_manager.login_message), login_manager.login_message_category)
    target = redirects.return_after_sign_in(
        request.method,
        request.path,
        request.query_string.decode("utf-8", "replace"),
        request.referrer,
        request.host,
    )
    return redirect(url_for("campus.login", next=target))


def _select_locale() -> str:
    chosen: str | None = session.get("lang")
    if chosen in ("zh_CN", "en"):
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    # Nobody chose yet: the browser's languages say, Chinese when they name neither (a walk with
    # an English browser met Chinese on every page until it found the switch).
    wanted = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return "en" if wanted == "en" else "zh_CN"


def _select_timezone() -> str:
    """Flask-Babel's zone for the request: the reader's institution's (see `clock.viewer_zone`)."""
    return clock.viewer_zone().key


def _init_templates(app: Flask) -> None:
    from campus import nav

    app.before_request(clock.remember_viewer_zone)
    app.add_template_filter(clock_display.local_time, "localtime")
    app.add_template_filter(clock_display.local_date, "local_date")
    app.add_template_filter(clock_display.moment_words, "with_weekday")
    app.add_template_filter(clock_display.day_words, "day_words")
    app.add_template_filter(clock_display.due_words, "due_words")
    app.add_template_filter(clock_display.due_words_start, "due_words_start")
    app.add_template_filter(clock_display.timed, "timed")
    app.add_template_filter(clock_display.written_day, "written_day")
    app.add_template_filter(clock_display.written_time, "written_time")
    app.add_template_global(clock_display.span_words, "span_words")
    app.add_template_filter(i18n.aside, "aside")
    app.add_template_test(clock_display.is_moment, "moment")

    @app.context_processor
    def inject_navigation() -> dict[str, object]:
        entries = nav.menu_for(app, current_user) if current_user.is_authenticated else []
        return {
            "nav_entries": entries,
            "nav_current": nav.current_endpoint(entries, request.path),
            "current_locale": _select_locale(),
            "page_of_refused_form": redirects.page_of_refused_form(),
        }


# Werkzeug's own English descriptions: a page shows ours instead, and shows a description only
# where the code gave one (e.g. why an export was refused).
_DEFAULTS = {403: Forbidden.description}


def _init_errors(app: Flask) -> None:
    from campus import nav

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors.html", code=400, error=error), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        # Flask returns a code-less exception (routing's internal redirects) before any handler.
        assert error.code is not None
        if error.code >= 500:
            _as_signed_out()
        page = render_template(
            "errors.html",
            code=error.code,
            error=error,
            default_descriptions=_DEFAULTS,
            to_staff=nav.addressed_as_staff(current_user),
        )
        return page, error.code

    # Registered after Flask-SQLAlchemy's own teardown, so it runs first and the dropped
    # connection of a restarted database cannot turn a finished response into a bare 500.
    app.teardown_appcontext(lambda exc: _end_session(app, exc))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int]:
        # A database outage must give a clean page, never a traceback; the pool recovers on its own.
        _discard_session(app)
        _as_signed_out()
        app.logger.error("database unavailable: %s", error)
        return render_template("errors.html", code=503, error=None), 503


def _end_session(app: Flask, exc: BaseException | None) -> None:
    """End the request's session: what it left unflushed or uncommitted is discarded."""
    if exc is None:
        _commit_if_nothing_written()
    _discard_session(app)


def _commit_if_nothing_written() -> None:
    """On PostgreSQL, end a transaction that wrote nothing with COMMIT, not ROLLBACK.

    Both leave the database as it was, but psycopg forgets its prepared statements at every
    rollback, so PostgreSQL would plan each statement of every page afresh (most of its CPU on a
    screening day). A transaction with changes still pending or written is left to be rolled back;
    one without a transaction id has written nothing.
    """
    session = db.session()
    if db.engine.dialect.name != "postgresql" or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        return
    try:
        if session.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NULL")):
            session.commit()
    except DBAPIError:
        pass  # a lost connection: `_discard_session` copes with it


def _discard_session(app: Flask) -> None:
    """End the request's session even when its connection is already gone (a database restart)."""
    try:
        db.session.remove()
    except DBAPIError:
        db.session.registry.clear()
        app.logger.warning("database connection lost; session discarded")


def _as_signed_out() -> None:
    """Render a server-error page as to a signed-out visitor: the user's expired attributes
    would need the database, which may be what failed (the page would then be a bare 500)."""
    g._login_user = login_manager.anonymous_user()
