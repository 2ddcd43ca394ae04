"""The appointments domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask

from appointments import models  # noqa: F401  (the tables join the metadata)
from appointments.booking_registration import register_booking


def register(app: Flask) -> None:
    """Register the appointments domain's blueprints, navigation and sweeps."""
    register_booking(app)
