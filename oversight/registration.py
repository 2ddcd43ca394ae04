"""The oversight domain's pages, navigation entries and sweep, declared in one place."""

from __future__ import annotations

from functools import partial

from flask import Flask
from flask_babel import gettext as _

from campus import nav
from campus import scheduler
from campus import workbench
from campus.models import Role
from campus.nav import NavEntry
from campus.replica import aggregate_session
from oversight import access_views
from oversight import audit_views
from oversight import snapshots
from oversight import views
from oversight import workbench as oversight_workbench

ADMIN = frozenset({Role.ADMIN})
DASHBOARD = frozenset(views.DASHBOARD_ROLES)
AUDITOR = frozenset({Role.PROVINCE_AUDITOR})

# The oversight menu: label, endpoint, who sees it, order, section (`campus.nav.SECTIONS`).
NAV_ENTRIES = (
    NavEntry(lambda: _("Oversight"), "oversight.dashboard", DASHBOARD, 80, "oversight"),
    NavEntry(lambda: _("Province view"), "oversight.province", AUDITOR, 80),
    NavEntry(lambda: _("Access review"), "access_review.index", ADMIN, 83, "oversight"),
    NavEntry(lambda: _("Audit trail"), "audit_trail.index", ADMIN, 84, "oversight"),
)


def register(app: Flask) -> None:
    """Register the dashboard and province view, their nav entries and the snapshot sweep."""
    app.register_blueprint(views.bp)
    app.register_blueprint(access_views.bp)
    app.register_blueprint(audit_views.bp)
    nav.register_entries(app, NAV_ENTRIES)
    workbench.register(app, oversight_workbench.access_review_items, ADMIN, order=70)
    glance = partial(oversight_workbench.dashboard_items, roles=views.DASHBOARD_ROLES)
    workbench.register(app, glance, DASHBOARD, order=80)
    workbench.register(app, oversight_workbench.province_items, AUDITOR, order=80)
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
