"""`flask warning …`: batch re-triage of an institution or all of them."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Institution
from warning import retriage

warning_cli = AppGroup("warning", help="Early warning: re-triage.")


@warning_cli.command("retriage")
@click.option("--institution", "code", default=None, help="Institution code (default: all).")
def retriage_command(code: str | None) -> None:
    """Re-level every open warning with the active policy (after a policy change or an import)."""
    institution_id = None
    if code:
        institution_id = db.session.scalar(
            select(Institution.id).where(Institution.code == code.upper())
        )
        if institution_id is None:
            raise click.ClickException(f"no institution {code}")
    changed = retriage.retriage(db.session, clock.now(), institution_id)
    db.session.commit()
    click.echo(f"re-triage done: {changed} warning(s) opened or changed level")
