"""Intervention pages: acting on a warning, task lists, the inbox."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("response", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
