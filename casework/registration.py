"""The casework domain's pages, commands, navigation entries and sweeps, declared in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register casework's blueprints, navigation and sweeps."""
