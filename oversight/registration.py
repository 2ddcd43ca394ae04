"""The oversight domain's pages, navigation entries and sweep, declared in one place."""

from __future__ import annotations

from functools import partial

from flask import Flask
from flask_babel import gettext as _

from campus import nav
from campus import scheduler
from campus import workbench
from campus.models import Role
from campus.replica import aggregate_session
from oversight import access_views
from oversight import audit_views
from oversight import snapshots
from oversight import views
from oversight import workbench as oversight_workbench


def register(app: Flask) -> None:
    """Register the dashboard and province view, their nav entries and the snapshot sweep."""
    app.register_blueprint(views.bp)
    app.register_blueprint(access_views.bp)
    app.register_blueprint(audit_views.bp)
    nav.register(
        app,
        lambda: _("Access review"),
        "access_review.index",
        {Role.ADMIN},
        order=83,
        section="oversight",
    )
    nav.register(
        app,
        lambda: _("Audit trail"),
        "audit_trail.index",
        {Role.ADMIN},
        order=84,
        section="oversight",
    )
    workbench.register(app, oversight_workbench.access_review_items, {Role.ADMIN}, order=70)
    dashboard = set(views.DASHBOARD_ROLES)
    nav.register(
        app, lambda: _("Oversight"), "oversight.dashboard", dashboard, order=80, section="oversight"
    )
    nav.register(
        app, lambda: _("Province view"), "oversight.province", {Role.PROVINCE_AUDITOR}, order=80
    )
    glance = partial(oversight_workbench.dashboard_items, roles=views.DASHBOARD_ROLES)
    workbench.register(app, glance, dashboard, order=80)
    auditor = {Role.PROVINCE_AUDITOR}
    workbench.register(app, oversight_workbench.province_items, auditor, order=80)
    scheduler.register_sweep(
        app,
        "oversight.province_snapshots",
        lambda session, now: snapshots.refresh_sweep(
            session,
            now,
            snapshots.SnapshotSettings.from_config(app.config),
            reader=aggregate_session(),
        ),
    )
