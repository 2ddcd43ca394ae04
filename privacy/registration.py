"""The privacy domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask

from privacy import models  # noqa: F401  (the tables join the metadata)


def register(app: Flask) -> None:
    """Register the privacy domain's blueprints, navigation and sweeps."""
    _register_own_copy(app)
    _register_retention(app)
    register_consent(app)


# --------------------------------------------------------------------------------------------------
# A student's own copy (issue #19)
# --------------------------------------------------------------------------------------------------


def _register_own_copy(app: Flask) -> None:
    from flask_login import current_user

    from privacy import own_copy_parts
    from privacy import own_copy_views
    from privacy.own_copy_permissions import may_answer_paper_request

    app.register_blueprint(own_copy_views.bp)
    own_copy_parts.register(app)
    # The student file shows its "copy for a paper request" link to these roles only.
    app.jinja_env.globals["may_answer_copy_request"] = lambda: may_answer_paper_request(
        current_user
    )


def _register_retention(app: Flask) -> None:
    """Retention schedule, purge sweep, legal holds and erasure requests (issue #19)."""
    from flask.cli import AppGroup
    from flask_babel import gettext as _

    from campus import nav
    from campus import scheduler
    from privacy import purge
    from privacy import record_types
    from privacy import retention_cli
    from privacy import retention_models  # noqa: F401  (the tables join the metadata)
    from privacy import retention_views
    from privacy import schedule
    from privacy.retention_permissions import REVIEW_ROLES

    for record_type in record_types.builtin():
        record_types.register(app, record_type)
    # A bad schedule file stops the start, never a purge that deletes by a schedule nobody meant.
    schedule.check_dir(app.config.get("RETENTION_DIR"), record_types.allowed(app))
    app.register_blueprint(retention_views.bp)
    app.register_blueprint(retention_views.holds_bp)
    # `flask privacy …` may be shared with the other privacy features: join the group if it exists.
    group = app.cli.commands.get("privacy")
    if not isinstance(group, AppGroup):
        group = AppGroup("privacy", help="The data's life cycle: retention, erasure, consent.")
        app.cli.add_command(group)
    group.add_command(retention_cli.purge_command)
    nav.register(
        app,
        lambda: _("Erasure requests"),
        "erasure.index",
        set(REVIEW_ROLES),
        order=80,
        section="oversight",
    )
    scheduler.register_sweep(app, "privacy.retention", purge.sweep)


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
    from casework.student_file import Section
    from casework.student_file import register_section
    from privacy import consent_views
    from privacy import file_section

    app.register_blueprint(consent_views.bp)
    app.register_blueprint(consent_views.records_bp)
    nav.register(app, lambda: _("My data and consent"), "my_data.index", {Role.STUDENT}, 15)
    nav.register(
        app,
        lambda: _("Records of processing"),
        "privacy_records.index_records",
        {Role.DIRECTOR},
        88,
        section="oversight",
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
