"""`flask appointments …`: operators' commands of the counselling appointments."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from appointments import availability
from campus import auth
from campus import clock
from campus.extensions import db
from campus.models import Institution

appointments_cli = AppGroup("appointments", help="Counselling appointments: slots and rosters.")


@appointments_cli.command("open-week")
@click.argument("institution_code")
@click.argument("monday", type=click.DateTime(formats=["%Y-%m-%d"]))
def open_week(institution_code: str, monday: datetime) -> None:
    """Make the bookable slots of the week beginning MONDAY (a local date) from the counsellors'
    weekly templates, e.g. after a late change or to open a week early. Running it again adds
    nothing; what the sweep would open anyway is not opened twice."""
    code = auth.normal_institution_code(institution_code)
    institution = db.session.scalar(select(Institution).where(Institution.code == code))
    if institution is None:
        raise click.ClickException(f"no institution {institution_code}")
    try:
        changed = availability.open_week(db.session, institution, monday.date(), clock.now())
    except availability.AvailabilityError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(
        f"{institution.code} week of {monday.date().isoformat()}: {changed.created} slots opened, "
        f"{changed.withdrawn} withdrawn, {len(changed.booked_under_cover)} booked in time away"
    )
