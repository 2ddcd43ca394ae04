"""The appointments domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask

from appointments import models  # noqa: F401  (the tables join the metadata)
from appointments.booking_registration import register_booking


def register(app: Flask) -> None:
    """Register the appointments domain's blueprints, navigation and sweeps."""
    register_booking(app)
    _register_changes(app)


# ==================================================================================================
# Changes after booking: cancel, move, reminders, the no-show policy and the waitlist
# ==================================================================================================


def _register_changes(app: Flask) -> None:
    from flask_babel import gettext as _

    from appointments import change_views, reminders, waitlist
    from appointments.change_forms import KIND_LABELS
    from appointments.change_permissions import LIFT_ROLES
    from campus import nav, scheduler

    app.register_blueprint(change_views.bp)
    app.jinja_env.globals["session_kind_labels"] = KIND_LABELS
    app.add_template_global(change_views.current_student_panel, "appointment_changes_panel")
    nav.register(
        app, lambda: _("Booking by the centre"), "appointment_changes.barred", set(LIFT_ROLES), 47
    )
    scheduler.register_sweep(app, "appointments.reminders", reminders.reminder_sweep)
    scheduler.register_sweep(app, "appointments.waitlist_offers", waitlist.expiry_sweep)
