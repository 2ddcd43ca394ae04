"""The privacy domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the privacy domain's blueprints, navigation and sweeps."""
    _register_own_copy(app)


# --------------------------------------------------------------------------------------------------
# A student's own copy (issue #19)
# --------------------------------------------------------------------------------------------------


def _register_own_copy(app: Flask) -> None:
    from flask_babel import gettext as _
    from flask_login import current_user

    from campus import nav
    from campus.models import Role
    from privacy import own_copy_parts, own_copy_views
    from privacy.own_copy_permissions import may_answer_paper_request

    app.register_blueprint(own_copy_views.bp)
    own_copy_parts.register(app)
    nav.register(app, lambda: _("My data"), "own_copy.my_copy", {Role.STUDENT}, order=15)
    # The student file shows its "copy for a paper request" link to these roles only.
    app.jinja_env.globals["may_answer_copy_request"] = lambda: may_answer_paper_request(
        current_user
    )
