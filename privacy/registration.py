"""The privacy domain: its pages, commands, navigation entries and sweeps, in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the privacy domain's blueprints, navigation and sweeps."""
