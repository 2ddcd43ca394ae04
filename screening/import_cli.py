"""`flask campaign …`: import paper or exported screening results, send due reminders.

Kept apart from `flask screening …` (the scoring commands, which need no database).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from campus import clock
from campus.extensions import db
from campus.spreadsheets import ImportFileError
from screening import campaigns
from screening import intake
from screening import results_import
from screening.models import Campaign
from screening.scoring import UnknownInstrument

campaign_cli = AppGroup("campaign", help="Screening campaigns: results import, reminders.")


@campaign_cli.command("import-results")
@click.argument("campaign_id", type=int)
@click.argument("instrument")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clean-rows-only", is_flag=True, help="Import the clean rows even if some are bad.")
def import_results_command(
    campaign_id: int, instrument: str, path: Path, clean_rows_only: bool
) -> None:
    """Import results for INSTRUMENT of campaign CAMPAIGN_ID from a CSV or XLSX file."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign {campaign_id}")
    try:
        inst = intake.instrument(instrument, Path(current_app.instance_path) / "instruments")
        frame = results_import.read_table(path.name, path.read_bytes())
        report = results_import.import_results(
            db.session,
            campaign,
            inst,
            frame,
            actor=None,
            now=clock.now(),
            clean_rows_only=clean_rows_only,
        )
    except (ImportFileError, UnknownInstrument) as exc:
        raise click.ClickException(str(exc)) from exc
    for error in report.errors:
        click.echo(f"{error.where()}: {error.reason}", err=True)
    if not report.imported:
        raise click.ClickException(f"{len(report.bad_lines)} bad row(s); nothing was imported")
    click.echo(f"imported {report.imported_count} of {report.rows} rows")


@campaign_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Remind students who still owe an open campaign (at most once per interval)."""
    click.echo(f"{campaigns.reminder_sweep(db.session, clock.now())} reminder(s) sent")
