"""The student's "ask for help" page: crisis numbers first, then booking a session, then asking a
teacher to get in touch (a self-referral, `warning.help`)."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from campus import clock
from campus.access import own_student_or_404
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.forms import filled
from campus.models import Role
from campus.permissions import require_roles
from warning import help as help_rules
from warning.forms import HelpRequestForm

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.route("", methods=["GET", "POST"], endpoint="index")
@require_roles(Role.STUDENT)
def ask() -> ResponseReturnValue:
    student = own_student_or_404()
    form = HelpRequestForm()
    if form.validate_on_submit():
        help_rules.ask_for_help(
            db.session,
            student,
            contact_by=filled(form.contact_by),
            good_time=form.good_time.data or "",
            submission=filled(form.submission),
            now=clock.now(),
        )
        flash(
            _(
                "Your request has reached us. Your department counsellor or a counsellor of the "
                "mental health centre will get in touch with you soon."
            ),
            "success",
        )
        return redirect(url_for("help.index"))
    if not form.is_submitted():
        form.issued()
    return render_template(
        "warning/help.html",
        form=form,
        asked_at=help_rules.last_request(db.session, student),
        on_duty=on_duty_phone(student.institution),
    ), (422 if form.errors else 200)
