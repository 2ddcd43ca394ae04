"""Early warning pages: the counsellor's queue, the student timeline, reports, policy simulation."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("warning", __name__, url_prefix="/warnings")


def init_app(app: Flask) -> None:
    from warning import response_views

    app.register_blueprint(bp)
    response_views.init_app(app)
