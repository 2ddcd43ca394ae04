"""The audit trail page: an administrator reads who read or changed their institution's records."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campus import acting_for
from campus.extensions import db
from campus.forms import add_error
from campus.models import Role
from campus.permissions import require_roles
from oversight import audit_trail
from oversight.forms import AuditTrailForm

bp = Blueprint("audit_trail", __name__, url_prefix="/admin/audit")


@bp.route("")
@require_roles(Role.ADMIN)
def index() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    form = AuditTrailForm(request.args)
    form.action.choices = audit_trail.action_choices(form.action.data, _("All actions"))
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    if not form.validate():
        return _page(form, None, page), 400
    flt = audit_trail.TrailFilter(
        student_number=form.student_number.data or None,
        login=form.login.data or None,
        denied_only=bool(form.denied.data),
        action=form.action.data or None,
        day_from=form.day_from.data,
        day_to=form.day_to.data,
        page=page,
    )
    try:
        trail = audit_trail.read_trail(db.session, current_user, institution, flt)
    except audit_trail.UnknownPerson as unknown:
        add_error(getattr(form, unknown.field), unknown.message.shown())
        return _page(form, None, page), 400
    return _page(form, trail, page)


def _page(form: AuditTrailForm, trail: audit_trail.TrailPage | None, page: int) -> str:
    """The page, with each action and kind of record worded for the reader."""
    return render_template(
        "oversight/audit_trail.html",
        form=form,
        trail=trail,
        page=page,
        action_label=audit_trail.action_label,
        record_label=audit_trail.record_label,
        outcome_label=audit_trail.outcome_label,
    )
