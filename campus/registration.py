"""Everything the kernel adds to the app, declared in one place: blueprints, CLI, nav, sweeps."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from campus import account_views
from campus import activation
from campus import activation_views
from campus import admin
from campus import channel_views
from campus import documents
from campus import export_rights
from campus import first_week
from campus import forms
from campus import health
from campus import holdings
from campus import i18n
from campus import inbox_views
from campus import mfa_views
from campus import nav
from campus import network
from campus import network_views
from campus import notifications
from campus import password_reset_views
from campus import permissions
from campus import roster_correction_views
from campus import scheduler
from campus import settings_views
from campus import signon_views
from campus import staffing_views
from campus import views
from campus import workbench
from campus.cli import campus_cli
from campus.first_week import FirstStep
from campus.forms import ROLE_LABELS
from campus.models import Role
from campus.nav import NavEntry

ROSTER_VIEWERS = frozenset(Role) - {Role.STUDENT, Role.HOSPITAL_LIAISON, Role.PROVINCE_AUDITOR}
ADMIN = frozenset({Role.ADMIN})
SETTINGS_ROLES = frozenset(settings_views.SETTINGS_ROLES)
APPOINTERS = frozenset(network.APPOINTERS)

# The kernel's menu: label, endpoint, who sees it, order, section (`campus.nav.SECTIONS`).
NAV_ENTRIES = (
    NavEntry(views.roster_title, "campus.students", ROSTER_VIEWERS, 20),
    NavEntry(
        lambda: _("Institution settings"),
        "institution_settings.index",
        SETTINGS_ROLES,
        79,
        "settings",
    ),
    NavEntry(lambda: _("Structure"), "campus.structure", ADMIN, 80, "people"),
    NavEntry(lambda: _("Response network"), "network.index", APPOINTERS, 80, "response"),
    NavEntry(lambda: _("Staff accounts"), "campus.users", ADMIN, 81, "people"),
    NavEntry(lambda: _("Roster import"), "campus.roster_import", ADMIN, 82, "people"),
    NavEntry(
        lambda: _("Activation slips"), "activation.index", activation.ISSUER_ROLES, 83, "people"
    ),
    NavEntry(lambda: _("Notification channels"), "channels.index", ADMIN, 84, "settings"),
    NavEntry(lambda: _("Staffing register"), "staffing.index", ADMIN, 85, "people"),
    NavEntry(lambda: _("Campus sign-on"), "signon_admin.settings", ADMIN, 86, "settings"),
    NavEntry(lambda: _("Two-factor sign-in"), "two_factor_admin.settings", ADMIN, 87, "settings"),
    NavEntry(inbox_views.nav_label, "inbox.index", frozenset(Role), 90),
)


def register(app: Flask) -> None:
    """Register the kernel's pages, commands, navigation entries and sweep on `app`."""
    app.register_blueprint(views.bp)
    app.register_blueprint(settings_views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(inbox_views.bp)
    app.register_blueprint(channel_views.bp)
    app.register_blueprint(staffing_views.bp)
    app.register_blueprint(network_views.bp)
    app.register_blueprint(roster_correction_views.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(signon_views.bp)
    app.register_blueprint(signon_views.admin_bp)
    app.register_blueprint(activation_views.bp)
    app.register_blueprint(activation_views.first_sign_in_bp)
    app.register_blueprint(password_reset_views.bp)
    app.register_blueprint(mfa_views.second_step)
    app.register_blueprint(mfa_views.two_factor)
    app.register_blueprint(mfa_views.two_factor_admin)
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
    app.jinja_env.globals["role_holdings"] = holdings.summary_of
    app.jinja_env.globals["least_length"] = forms.least_length
    app.jinja_env.globals["may_open_account"] = permissions.may_open_account
    app.jinja_env.globals["account_url"] = permissions.account_url
    app.jinja_env.globals["channel_kind_labels"] = channel_views.KIND_LABELS
    app.jinja_env.filters["shown_name"] = i18n.shown_name
    app.jinja_env.globals["digest_line"] = notifications.digest_line
    app.jinja_env.globals["export_notice"] = export_rights.tier_notice
    app.jinja_env.globals["may_export_rows"] = export_rights.may_export_rows
    app.jinja_env.globals["print_languages"] = documents.PRINT_LANGUAGES
    app.jinja_env.globals["other_print_languages"] = documents.other_print_languages
    app.jinja_env.globals["institution_language_words"] = documents.institution_language_words
    app.cli.add_command(campus_cli)
    app.cli.add_command(scheduler.scheduler_cli)
    nav.register_entries(app, NAV_ENTRIES)
    workbench.register(app, network_views.workbench_items, APPOINTERS, order=60)
    # First of all: a student in crisis at a campus without it is given no number at its centre.
    workbench.register(app, settings_views.workbench_items, SETTINGS_ROLES, order=1)
    workbench.register(app, staffing_views.workbench_items, ADMIN, order=65)
    _first_steps(app)
    scheduler.register_sweep(app, "notifications.deliver", notifications.deliver_sweep)
    scheduler.register_sweep(
        app,
        "notifications.roles_ending",
        lambda session, now: admin.notify_roles_ending(
            session, now, app.config["ROLE_END_NOTICE_DAYS"]
        ),
    )


def _first_steps(app: Flask) -> None:
    """The kernel's steps of a new campus's first week (`campus.first_week`); the hospitals and
    the first screening are the referrals' and screening's own."""
    steps = (
        FirstStep(
            10,
            lambda: _("Give the counselling centre's on-duty phone"),
            lambda: _(
                "Students in crisis and guardians are given it; until then, only the 24-hour "
                "hotline and 120/110."
            ),
            "institution_settings.index",
            first_week.phone_set,
        ),
        FirstStep(
            20,
            lambda: _("Add the departments and classes"),
            lambda: _(
                "Students, warnings and the response network are organised by them; a roster "
                "import can add them too."
            ),
            "campus.structure",
            first_week.structure_built,
        ),
        FirstStep(
            30,
            lambda: _("Import the student roster"),
            lambda: _("Students are screened, and looked after, once they are on it."),
            "campus.roster_import",
            first_week.roster_imported,
        ),
        FirstStep(
            40,
            lambda: _("Add the staff and give them their roles"),
            lambda: _(
                "At least one school counsellor, and a counsellor and a leader for each "
                "department: warnings go to them."
            ),
            "campus.users",
            network.staffed,
        ),
        FirstStep(
            60,
            lambda: _("Print the students' activation slips"),
            lambda: _(
                "Each student sets a password with the code on their slip; not needed where the "
                "campus sign-on is on or students already have passwords."
            ),
            "activation.index",
            first_week.students_can_sign_in,
        ),
    )
    for step in steps:
        first_week.register_step(app, step)
