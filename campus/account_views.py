"""A person's own account page: who they are signed in as, and a staff member's work phone."""

from __future__ import annotations

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from campus import profile
from campus.extensions import db
from campus.forms import PhoneForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = PhoneForm(data={"phone": user.phone})
    if profile.has_work_phone(user) and form.validate_on_submit():
        try:
            profile.set_phone(db.session, user, user, form.phone.data)
        except profile.ProfileError as error:
            form.phone.errors = [*form.phone.errors, error.message.shown()]
        else:
            flash(_("Your work phone has been saved."), "success")
            return redirect(url_for("account.index"))
    return render_template(
        "campus/account.html", form=form, has_work_phone=profile.has_work_phone(user)
    )
