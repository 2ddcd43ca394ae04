"""The screening domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from campus import nav
from campus import roster
from campus import roster_corrections
from campus import scheduler
from campus import structure
from campus import workbench
from campus.first_week import FirstStep
from campus.first_week import register_step
from campus.models import Role
from screening import campaigns
from screening import views
from screening import vocabulary
from screening import workbench as screening_workbench
from screening.cli import screening_cli
from screening.import_cli import campaign_cli
from screening.models import Campaign
from screening.safety import sweep_unsignalled_safety


def register(app: Flask) -> None:
    """Register the student's screenings, the campaign pages, CLI groups and sweeps."""
    app.register_blueprint(views.bp)
    app.add_template_global(vocabulary.instrument_names, "instrument_names")
    app.add_template_global(vocabulary.student_title, "student_title")
    app.add_template_global(vocabulary.instrument_short_name, "instrument_short_name")
    app.add_template_global(vocabulary.band_label, "band_label")
    app.cli.add_command(screening_cli)
    app.cli.add_command(campaign_cli)
    campaigners = set(views.CAMPAIGN_ROLES)
    nav.register(app, lambda: _("My screenings"), "screening.mine", {Role.STUDENT}, order=10)
    nav.register(
        app,
        lambda: _("Campaigns"),
        "screening.campaign_list",
        campaigners,
        order=30,
        section="screening",
    )
    workbench.register(app, screening_workbench.student_items, {Role.STUDENT}, order=10)
    workbench.register(app, screening_workbench.campaign_items, campaigners, order=30)
    # The counsellor chases the students to screen; the leader reads the same figure on the
    # department's overview card (once, not again as a line of the workbench).
    workbench.register(app, screening_workbench.department_items, {Role.DEPT_COUNSELLOR}, order=30)
    workbench.register_overview(
        app, screening_workbench.department_overview, {Role.DEPT_LEADER}, order=30
    )
    register_step(
        app,
        FirstStep(
            70,
            lambda: _("Start the first screening"),
            lambda: _(
                "For example the freshmen's intake screening: its questionnaires, its students "
                "and its window."
            ),
            "screening.campaign_new",
            lambda institution: (
                select(Campaign.id).where(Campaign.institution_id == institution.id).exists()
            ),
        ),
    )
    structure.register_use(app, campaigns.naming_unit)
    roster_corrections.register_leaves_with(app, campaigns.not_started_by)
    roster.register_joining(app, campaigns.joined_on_import)
    scheduler.register_sweep(app, "screening.reminders", campaigns.reminder_sweep)
    scheduler.register_sweep(app, "screening.late_students", campaigns.late_students_sweep)
    scheduler.register_sweep(app, "screening.unsignalled_safety", sweep_unsignalled_safety)
