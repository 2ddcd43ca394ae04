"""The warning domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from campus import holdings
from campus import nav
from campus import notifications
from campus import scheduler
from campus import workbench
from campus.models import Role
from screening import vocabulary
from warning import escalation
from warning import handover
from warning import help_views
from warning import labels
from warning import overview
from warning import permissions
from warning import policy_words
from warning import response_views
from warning import retriage
from warning import review
from warning import task_texts
from warning import views
from warning import workbench as warning_workbench
from warning.cli import warning_cli


def register(app: Flask) -> None:
    """Register the queue, the student page, actions and tasks, the policy pages and sweeps."""
    app.register_blueprint(views.bp)
    app.register_blueprint(help_views.bp)
    app.register_blueprint(response_views.bp)
    app.register_blueprint(response_views.actions_bp)
    app.cli.add_command(warning_cli)
    _register_template_globals(app)
    _register_nav(app)
    _register_workbench(app)
    notifications.register_settled(app, response_views.settled_notices)
    scheduler.register_sweep(app, "warning.expiry", retriage.expiry_sweep)
    scheduler.register_sweep(app, "warning.escalation", escalation.sweep_deadlines)
    scheduler.register_sweep(app, "warning.follow_ups", escalation.sweep_follow_ups)
    scheduler.register_sweep(app, "warning.missing_reports", escalation.sweep_missing_reports)
    # Before the reminders: a review handed to the centre is told to its directors that morning.
    scheduler.register_sweep(app, "warning.reviews_returned", handover.return_reviews_sweep)
    scheduler.register_sweep(app, "warning.reviews", review.sweep_reviews)
    scheduler.register_sweep(app, "warning.cases_returned", handover.return_cases_sweep)
    scheduler.register_sweep(app, "warning.caseloads_ended", handover.end_caseloads_sweep)
    holdings.register(app, handover.holding, order=10)
    holdings.register(app, handover.review_holding, order=12)
    holdings.register(app, handover.caseload_holding, order=15)


def _register_template_globals(app: Flask) -> None:
    # Reasons and signal labels are stored as message ids: every template shows them through this.
    app.add_template_global(labels.labelled, "labelled")
    app.add_template_filter(labels.without_level, "without_level")
    app.add_template_global(labels.policy_name, "policy_name")
    app.add_template_global(labels.flag_names, "flag_names")
    app.add_template_global(vocabulary.instrument_abbreviation, "instrument_abbreviation")
    app.jinja_env.globals["warning_action_forms"] = response_views.warning_action_forms
    app.jinja_env.globals["escalation_target"] = response_views.escalation_target
    app.jinja_env.globals["task_text"] = response_views.task_text
    app.jinja_env.globals["task_when"] = task_texts.task_when
    app.jinja_env.globals["peer_request"] = task_texts.is_peer_request
    app.jinja_env.globals["open_new_tasks"] = response_views.open_new_tasks
    app.jinja_env.globals["tier_label"] = labels.tier_label
    app.jinja_env.globals["deadline_label"] = response_views.deadline_label
    app.jinja_env.globals["deadline_link"] = response_views.deadline_link
    app.jinja_env.globals["chore_label"] = response_views.chore_label
    app.jinja_env.globals["escalation_reason"] = response_views.escalation_reason
    app.jinja_env.globals["notice_missed"] = response_views.notice_missed
    app.jinja_env.globals["notice_owed"] = response_views.notice_owed
    app.jinja_env.globals["warning_timeline_words"] = views.timeline_words
    # The policy pages say what the policy in force (or a draft) does, in the reader's words.
    app.jinja_env.globals["window_words"] = policy_words.window_words
    app.jinja_env.globals["condition_words"] = policy_words.condition_words
    app.jinja_env.globals["concern_rule_words"] = policy_words.concern_rule_words
    app.jinja_env.globals["key_group_words"] = policy_words.key_group_words
    app.jinja_env.globals["expiry_words"] = policy_words.expiry_words
    app.jinja_env.globals["setting_name"] = policy_words.setting_name
    app.jinja_env.globals["setting_words"] = policy_words.setting_words


def _register_nav(app: Flask) -> None:
    admin = {Role.ADMIN}
    nav.register(app, lambda: _("Warnings"), "warning.queue", set(views.QUEUE_ROLES), order=10)
    nav.register(app, lambda: _("My class"), "warning.my_class", {Role.CLASS_COMMITTEE}, order=11)
    nav.register(app, lambda: _("My dorm"), "warning.my_dorm", {Role.DORM_INFORMANT}, order=12)
    nav.register(
        app,
        lambda: _("Class and dorm reports"),
        "warning.weekly_reports",
        set(permissions.WEEKLY_REPORT_READERS),
        order=13,
    )
    nav.register(app, lambda: _("Tasks"), "response.tasks", set(permissions.TASK_ROLES), order=15)
    nav.register(app, lambda: _("Ask for help"), "help.index", {Role.STUDENT}, order=9)
    nav.register_help(app, lambda: _("Ask a teacher to contact me"), "help.index")
    nav.register(
        app, lambda: _("Triage policy"), "warning.policy", admin, order=83, section="response"
    )
    nav.register(
        app,
        lambda: _("Response policy"),
        "warning.response_policy",
        admin,
        order=83,
        section="response",
    )
    nav.register(
        app,
        lambda: _("Academic data import"),
        "warning.academic_import",
        admin,
        84,
        section="response",
    )


def _register_workbench(app: Flask) -> None:
    reporters = {Role.CLASS_COMMITTEE, Role.DORM_INFORMANT}
    workbench.register(app, warning_workbench.staff_items, set(views.QUEUE_ROLES), order=10)
    workbench.register(app, warning_workbench.task_items, set(permissions.TASK_ROLES), order=15)
    workbench.register(app, warning_workbench.reporter_items, reporters, order=12)
    workbench.register_overview(app, overview.overview_groups, {Role.DEPT_LEADER}, order=10)
