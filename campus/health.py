"""`/healthz` for load balancers and the deploy checks: is this worker up and can it reach the
database? No sign-in and nothing about anyone, so it is safe to expose to the balancer."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from sqlalchemy import text

from campus.extensions import db
from campus.extensions import limiter

bp = Blueprint("health", __name__, url_prefix="/healthz")


@bp.route("")
@limiter.exempt
def healthz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.remove()
    return jsonify(status="ok")
