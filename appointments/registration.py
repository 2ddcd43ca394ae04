"""The appointments domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask

from appointments import models  # noqa: F401  (the tables join the metadata)
from appointments.booking_registration import register_booking


def register(app: Flask) -> None:
    """Register the appointments domain's blueprints, navigation and sweeps."""
    _register_calendar(app)
    _register_sessions(app)
    register_booking(app)
    _register_changes(app)


# ==================================================================================================
# Counsellors' time and the duty roster (值班表)
# ==================================================================================================


def _register_calendar(app: Flask) -> None:
    from flask_babel import gettext as _

    from appointments import availability
    from appointments import availability_views
    from appointments import duty_views
    from appointments import handover
    from appointments import rearrange
    from appointments.cli import appointments_cli
    from appointments.permissions import CALENDAR_KEEPERS
    from appointments.permissions import CENTRE_MANAGERS
    from appointments.permissions import COUNSELLOR_ROLES
    from appointments.permissions import ON_DUTY_VIEWERS
    from campus import holdings
    from campus import nav
    from campus import scheduler
    from campus import workbench
    from campus.models import Role

    app.register_blueprint(availability_views.bp)
    app.register_blueprint(duty_views.bp)
    app.cli.add_command(appointments_cli)
    app.add_template_global(duty_views.on_duty_now, "on_duty_now")
    nav.register(app, lambda: _("My availability"), "availability.mine", set(COUNSELLOR_ROLES), 30)
    nav.register(
        app,
        lambda: _("Counsellors' availability"),
        "availability.counsellors",
        set(CENTRE_MANAGERS),
        31,
        section="centre",
    )
    nav.register(
        app,
        lambda: _("Duty roster"),
        "duty.index",
        set(ON_DUTY_VIEWERS),
        order=46,
        section="centre",
    )
    nav.register(
        app,
        lambda: _("Academic calendar"),
        "availability.academic_calendar",
        set(CALENDAR_KEEPERS),
        88,
        section="settings",
    )
    workbench.register(app, duty_views.workbench_items, set(ON_DUTY_VIEWERS), order=5)
    workbench.register(app, availability_views.workbench_items, set(COUNSELLOR_ROLES), order=6)
    holdings.register(app, handover.holding, order=40)
    workbench.register(app, rearrange.director_items, {Role.DIRECTOR}, order=6)
    scheduler.register_sweep(
        app,
        "appointments.open_weeks",
        lambda session, now: availability.open_weeks_ahead(
            session, now, int(app.config["BOOKING_OPENS_WEEKS_AHEAD"])
        ),
    )


# --------------------------------------------------------------------------------------------------
# Sessions, notes and figures (issue #18, the sessions part)
# --------------------------------------------------------------------------------------------------


def _register_sessions(app: Flask) -> None:
    from flask_babel import gettext as _

    from appointments import file_section
    from appointments import session_views
    from appointments.session_permissions import SESSION_ROLES
    from campus import nav
    from campus import workbench

    app.register_blueprint(session_views.bp)
    nav.register(app, lambda: _("My sessions"), "counselling_sessions.day", set(SESSION_ROLES), 25)
    workbench.register(app, session_views.workbench_items, set(SESSION_ROLES), order=6)
    file_section.register(app)


# ==================================================================================================
# Changes after booking: cancel, move, reminders, the no-show policy and the waitlist
# ==================================================================================================


def _register_changes(app: Flask) -> None:
    from flask_babel import gettext as _

    from appointments import change_views
    from appointments import reminders
    from appointments import waitlist
    from appointments.change_permissions import LIFT_ROLES
    from appointments.change_permissions import STUDENT_ROLES
    from campus import nav
    from campus import scheduler
    from campus import workbench

    app.register_blueprint(change_views.bp)
    app.add_template_global(change_views.current_student_panel, "appointment_changes_panel")
    app.add_template_global(change_views.session_kind_label, "session_kind_label")
    nav.register(
        app,
        lambda: _("Booking by the centre"),
        "appointment_changes.barred",
        set(LIFT_ROLES),
        47,
        section="centre",
    )
    workbench.register(app, change_views.student_workbench_items, set(STUDENT_ROLES), order=5)
    scheduler.register_sweep(app, "appointments.reminders", reminders.reminder_sweep)
    scheduler.register_sweep(app, "appointments.waitlist_offers", waitlist.expiry_sweep)
