"""The casework domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register casework's blueprints, navigation and sweeps."""
    _register_crisis(app)


# ==================================================================================================
# Crisis records, hand-over documents and contagion follow-up (issue #17 §3)
# ==================================================================================================


def _register_crisis(app: Flask) -> None:
    from flask_babel import gettext as _

    from campus import nav
    from casework import crisis_views
    from casework.crisis_permissions import FOLLOW_UP_ROLES, SETTINGS_ROLES

    app.register_blueprint(crisis_views.bp)
    app.jinja_env.globals.update(crisis_link=crisis_views.crisis_link)
    nav.register(
        app, lambda: _("Crisis follow-up"), "crisis.follow_ups", set(FOLLOW_UP_ROLES), order=45
    )
    nav.register(
        app, lambda: _("Crisis documents"), "crisis.settings", set(SETTINGS_ROLES), order=86
    )
