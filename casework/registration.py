"""The casework domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask
from flask import url_for
from flask_login import current_user

from casework import file_casework_sections


def register(app: Flask) -> None:
    """Register casework's blueprints, navigation and sweeps."""
    _register_student_file(app)
    _register_interviews(app)
    _register_crisis(app)
    file_casework_sections.register(app)


# --------------------------------------------------------------------------------------------------
# The student file, family contacts and printed documents (issue #17 sections 1, 4, 5)
# --------------------------------------------------------------------------------------------------


def _register_student_file(app: Flask) -> None:
    from campus import holdings
    from campus import scheduler
    from campus import workbench
    from casework import family_contacts
    from casework import family_handover
    from casework import file_sections
    from casework import file_views
    from casework import file_workbench
    from casework.file_forms import ENROLMENT_LABELS
    from casework.file_forms import GENDER_LABELS
    from casework.file_forms import agreement_words
    from casework.file_permissions import FAMILY_FIGURE_ROLES
    from casework.file_permissions import may_open_file
    from warning import actions

    for blueprint in (file_views.bp, file_views.family_bp, file_views.reports_bp):
        app.register_blueprint(blueprint)
    file_sections.register(app)
    # The warning's "guardian notified" step is done on this domain's family-contact form.
    actions.STEP_PAGES["guardian"] = lambda warning: url_for(
        "casework_file.new_family_contact", student_id=warning.student_id, back="warning"
    )
    app.jinja_env.globals.update(
        may_open_file=lambda student: may_open_file(current_user, student),
        guardian_step_form=file_views.guardian_step_form,
        # The guardian's name and number, for who must call them (`_guardian_phone.html`).
        guardian_to_call=lambda student: family_contacts.guardian_to_call(current_user, student),
        agreement_words=agreement_words,
        gender_labels=GENDER_LABELS,
        enrolment_labels=ENROLMENT_LABELS,
    )
    workbench.register(app, file_workbench.family_figure, set(FAMILY_FIGURE_ROLES), order=45)
    # A family follow-up whose author no longer answers for the student goes to who does.
    scheduler.register_sweep(
        app, "casework.family_follow_ups_handed", family_handover.handover_sweep
    )
    holdings.register(app, family_handover.holding, order=17)


# ==================================================================================================
# Post-screening interviews (筛查后约谈)
# ==================================================================================================


def _register_interviews(app: Flask) -> None:
    from flask_babel import gettext as _

    from campus import holdings
    from campus import nav
    from campus import scheduler
    from campus import workbench
    from campus.models import Role
    from casework import interview_permissions
    from casework import interview_rules
    from casework import interview_views
    from casework import interview_workbench
    from casework import interviews
    from casework import report_views
    from warning import actions

    # An institution's own rule set is checked at start-up: a bad file must not fail a
    # student's screening submission later.
    interview_rules.check_dir(app.config.get("INTERVIEW_RULES_DIR"))
    app.register_blueprint(interview_views.bp)
    app.register_blueprint(report_views.bp)
    app.add_template_global(report_views.batch_report_links, "batch_report_links")
    app.add_template_global(interview_views.campaign_coverage, "interview_coverage")
    app.add_template_global(interview_views.can_open_list, "can_open_interviews")
    app.jinja_env.globals["interview_conclusions"] = interviews.CONCLUSION_WORDS
    app.jinja_env.globals["interview_states"] = interviews.STATE_WORDS
    staff = set(interview_permissions.LIST_ROLES)
    nav.register(app, lambda: _("Interviews"), "interviews.index", staff, order=20)
    nav.register(app, lambda: _("My conversations"), "interviews.mine", {Role.STUDENT}, order=11)
    workbench.register(app, interview_workbench.staff_items, staff, order=20)
    workbench.register(app, interview_workbench.student_items, {Role.STUDENT}, order=11)
    scheduler.register_sweep(app, "casework.interview_reminders", interviews.reminder_sweep)
    scheduler.register_sweep(app, "casework.interview_escalation", interviews.escalation_sweep)
    scheduler.register_sweep(app, "casework.interviewer_gone", interviews.interviewer_gone_sweep)
    holdings.register(app, interviews.holding, order=20)
    # The red's professional assessment is the post-screening interview its result asked for.
    actions.ASSESSMENT_SERVES["post_screening_interview"] = interviews.hold_by_assessment
    scheduler.register_sweep(
        app, "casework.interview_case_counsellor", interviews.case_counsellor_sweep
    )


# ==================================================================================================
# Crisis records, hand-over documents and contagion follow-up (issue #17 §3)
# ==================================================================================================


def _register_crisis(app: Flask) -> None:
    from flask_babel import gettext as _

    from campus import nav
    from casework import crisis_views
    from casework.crisis_permissions import FOLLOW_UP_ROLES
    from casework.crisis_permissions import SETTINGS_ROLES

    app.register_blueprint(crisis_views.bp)
    app.jinja_env.globals.update(crisis_link=crisis_views.crisis_link)
    nav.register(
        app, lambda: _("Crisis follow-up"), "crisis.follow_ups", set(FOLLOW_UP_ROLES), order=45
    )
    nav.register(
        app,
        lambda: _("Crisis documents"),
        "crisis.settings",
        set(SETTINGS_ROLES),
        order=86,
        section="settings",
    )
