"""`flask privacy purge [--dry-run] [--institution CODE]`: the retention sweep by hand."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from campus import clock
from campus.extensions import db
from campus.models import Institution
from privacy import purge


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what is due per record type; change nothing.")
@click.option("--institution", "code", default=None, help="Only this institution (its code).")
def purge_command(dry_run: bool, code: str | None) -> None:
    """Delete or anonymise what the retention schedule says is past its date (normally the
    scheduler does this once a day)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stmt = select(Institution).order_by(Institution.code)
    if code:
        stmt = stmt.where(Institution.code == code)
    institutions = db.session.scalars(stmt).all()
    if not institutions:
        raise click.ClickException(f"no institution {code!r}" if code else "no institution")
    now = clock.now()
    for institution in institutions:
        target = purge.sweep_target(app, institution, now)
        click.echo(f"{institution.code} (schedule {target.schedule.version})")
        if dry_run:
            counts = purge.due_counts(app, db.session, target)
            db.session.rollback()
            for key in target.types:
                rule = target.schedule.rules[key]
                figures = counts[key]
                click.echo(
                    f"  {key:<20} {rule.action:<10} due {figures['due']:>7}"
                    f"   held {figures['held']:>5}"
                )
            continue
        purge.note_departures(
            db.session, institution, clock.local_date(now, clock.institution_zone(institution))
        )
        done = purge.run(app, db.session, target)
        click.echo(f"  run {done.id}: {purge.summary(done.counts)}")
