"""The referrals domain's pages, commands, navigation entries and sweep, declared in one place."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from campus import holdings
from campus import nav
from campus import scheduler
from campus import workbench
from campus.first_week import FirstStep
from campus.first_week import register_step
from campus.models import Hospital
from campus.models import Role
from referrals import closure_views
from referrals import document_views
from referrals import leave
from referrals import leave_views
from referrals import services
from referrals import views
from referrals import workbench as referrals_workbench
from referrals.cli import referrals_cli
from referrals.forms import CONSENT_LABELS
from referrals.forms import CONSENT_METHODS
from referrals.forms import OUTCOME_LABELS
from referrals.forms import STATUS_LABELS
from referrals.forms import URGENCY_LABELS
from referrals.permissions import CLINICAL_READERS
from referrals.services import ReferralSettings


def register(app: Flask) -> None:
    """Register referrals, the liaison's and hospitals' pages, leave, closure, CLI and sweep."""
    for blueprint in (
        views.bp,
        views.liaison_bp,
        views.hospitals_bp,
        leave_views.bp,
        closure_views.bp,
        document_views.bp,
        document_views.liaison_bp,
    ):
        app.register_blueprint(blueprint)
    app.cli.add_command(referrals_cli)
    app.jinja_env.globals.update(
        referral_status_labels=STATUS_LABELS,
        urgency_labels=URGENCY_LABELS,
        outcome_labels=OUTCOME_LABELS,
        consent_labels=CONSENT_LABELS,
        consent_method_labels=dict(CONSENT_METHODS),
        referral_panel=views.referral_panel,
    )
    _register_nav(app)
    workbench.register(app, referrals_workbench.centre_items, set(CLINICAL_READERS), order=40)
    liaison = {Role.HOSPITAL_LIAISON}
    workbench.register_overview(
        app, referrals_workbench.department_overview, {Role.DEPT_LEADER}, order=40
    )
    workbench.register(app, referrals_workbench.liaison_items, liaison, order=40)
    scheduler.register_sweep(app, "referrals.plan_owner_gone", leave.owner_gone_sweep)
    holdings.register(app, leave.holding, order=30)
    scheduler.register_sweep(
        app,
        "referrals.green_channel",
        lambda session, now: services.sweep_green_channel(
            session, now, ReferralSettings.from_config(app.config)
        ),
    )


def _register_nav(app: Flask) -> None:
    readers = set(CLINICAL_READERS)
    liaison = {Role.HOSPITAL_LIAISON}
    nav.register(app, lambda: _("Referrals"), "referrals.index", readers, order=40)
    nav.register(app, lambda: _("Leave and return"), "leave.index", readers, order=41)
    nav.register(app, lambda: _("Hospital referrals"), "liaison.index", liaison, order=40)
    auditors = set(closure_views.AUDITORS)
    nav.register(
        app, lambda: _("Referral closure"), "closure.index", auditors, order=82, section="oversight"
    )
    nav.register(
        app, lambda: _("Hospitals"), "hospitals.index", {Role.ADMIN}, order=85, section="response"
    )
    register_step(
        app,
        FirstStep(
            50,
            lambda: _("Add the hospitals students are referred to"),
            lambda: _("A referral, and the green channel for an urgent one, names one of them."),
            "hospitals.index",
            lambda institution: (
                select(Hospital.id).where(Hospital.institution_id == institution.id).exists()
            ),
        ),
    )
