"""The appointments domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask

from appointments import models  # noqa: F401  (the tables join the metadata)


def register(app: Flask) -> None:
    """Register the appointments domain's blueprints, navigation and sweeps."""
    _register_sessions(app)


# --------------------------------------------------------------------------------------------------
# Sessions, notes and figures (issue #18, the sessions part)
# --------------------------------------------------------------------------------------------------


def _register_sessions(app: Flask) -> None:
    from flask_babel import gettext as _

    from appointments import file_section, session_views
    from appointments.session_permissions import SESSION_ROLES
    from campus import nav

    app.register_blueprint(session_views.bp)
    nav.register(app, lambda: _("My sessions"), "counselling_sessions.day", set(SESSION_ROLES), 25)
    file_section.register(app)
