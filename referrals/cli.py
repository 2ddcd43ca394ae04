"""Commands of the recovery stage."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from campus import clock
from campus.extensions import db
from referrals.services import ReferralSettings
from referrals.services import sweep_green_channel

referrals_cli = AppGroup("referrals", help="Hospital referrals and return-to-school plans.")


@referrals_cli.command("sweep-green-channel")
def sweep_green_channel_command() -> None:
    """Escalate green-channel referrals not booked in time (normally the scheduler does this)."""
    count = sweep_green_channel(
        db.session, clock.now(), ReferralSettings.from_config(current_app.config)
    )
    click.echo(f"escalated {count} referral(s)")
