"""The casework domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register casework's blueprints, navigation and sweeps."""
    _register_interviews(app)


# ==================================================================================================
# Post-screening interviews (筛查后约谈)
# ==================================================================================================


def _register_interviews(app: Flask) -> None:
    from flask_babel import gettext as _

    from campus import nav, scheduler, workbench
    from campus.models import Role
    from casework import (
        interview_permissions,
        interview_rules,
        interview_views,
        interview_workbench,
        interviews,
    )

    # An institution's own rule set is checked at start-up: a bad file must not fail a
    # student's screening submission later.
    interview_rules.check_dir(app.config.get("INTERVIEW_RULES_DIR"))
    app.register_blueprint(interview_views.bp)
    app.add_template_global(interview_views.campaign_coverage, "interview_coverage")
    app.add_template_global(interview_views.can_open_list, "can_open_interviews")
    app.jinja_env.globals["interview_conclusions"] = interviews.CONCLUSION_WORDS
    staff = set(interview_permissions.LIST_ROLES)
    nav.register(app, lambda: _("Interviews"), "interviews.index", staff, order=20)
    nav.register(app, lambda: _("My conversations"), "interviews.mine", {Role.STUDENT}, order=11)
    workbench.register(app, interview_workbench.staff_items, staff, order=20)
    workbench.register(app, interview_workbench.student_items, {Role.STUDENT}, order=11)
    scheduler.register_sweep(app, "casework.interview_reminders", interviews.reminder_sweep)
    scheduler.register_sweep(app, "casework.interview_escalation", interviews.escalation_sweep)
