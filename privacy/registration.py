"""The privacy domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask

from privacy import models  # noqa: F401  (the tables join the metadata)


def register(app: Flask) -> None:
    """Register the privacy domain's blueprints, navigation and sweeps."""
    register_consent(app)


# --------------------------------------------------------------------------------------------------
# Consent that can be withdrawn, and the records of processing (issue #19)
# --------------------------------------------------------------------------------------------------


def register_consent(app: Flask) -> None:
    """The student's "my data and consent" pages, the consent section of the student file and
    the director's records of processing."""
    from flask_babel import gettext as _

    from campus import nav
    from campus.models import Role
    from campus.scope import Capability
    from casework.student_file import Section, register_section
    from privacy import consent_views, file_section

    app.register_blueprint(consent_views.bp)
    app.register_blueprint(consent_views.records_bp)
    nav.register(app, lambda: _("My data and consent"), "my_data.index", {Role.STUDENT}, 15)
    nav.register(
        app,
        lambda: _("Records of processing"),
        "privacy_records.index_records",
        {Role.DIRECTOR},
        88,
    )
    register_section(
        app,
        Section(
            "consent",
            lambda: _("Consent"),
            5,
            Capability.WARNING,
            file_section.load_consent,
            "privacy/_file_section.html",
        ),
    )
    app.jinja_env.globals.update(consent_scope_labels=file_section.scope_labels)
