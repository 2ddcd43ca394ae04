"""Forgotten password: a reset link by mail where mail is configured, else whom to ask."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campus import password_reset
from campus.account_limits import PER_ADDRESS
from campus.account_limits import per_account
from campus.extensions import db
from campus.extensions import limiter
from campus.forms import FirstPasswordForm
from campus.forms import ResetRequestForm
from campus.forms import filled
from campus.sign_in_steps import browser_signed_in

bp = Blueprint("password_reset", __name__, url_prefix="/password/reset")


def _link_for(token: str) -> str:
    base = (current_app.config["MAIL_LINK_BASE"] or request.host_url).rstrip("/")
    return base + url_for("password_reset.choose", token=token)


@bp.route("", methods=["GET", "POST"])
# Per account, as at sign-in, so nobody fills a mailbox with reset mails.
@per_account("reset", _l("Too many attempts. Wait a minute."))
@limiter.limit(PER_ADDRESS, methods=["POST"])
def index() -> ResponseReturnValue:
    by_mail = current_app.config["MAIL_ENABLED"]
    form = ResetRequestForm()
    if by_mail and form.validate_on_submit():
        password_reset.request_reset(
            db.session,
            filled(form.institution),
            filled(form.login),
            secret_key=current_app.config["SECRET_KEY"],
            max_minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            link_for=_link_for,
        )
        return render_template("campus/password_reset.html", form=None, by_mail=True, sent=True)
    return render_template("campus/password_reset.html", form=form, by_mail=by_mail, sent=False), (
        422 if form.errors else 200
    )


@bp.route("/<token>", methods=["GET", "POST"])
def choose(token: str) -> ResponseReturnValue:
    user = password_reset.user_for_token(
        db.session,
        token[:500],
        current_app.config["SECRET_KEY"],
        current_app.config["PASSWORD_RESET_MINUTES"],
    )
    if user is None:
        password_reset.refuse_link(db.session)
        return render_template("campus/password_reset_link.html", form=None), 400
    form = FirstPasswordForm()
    if form.validate_on_submit():
        password_reset.reset_password(db.session, user, filled(form.new), request.remote_addr)
        browser_signed_in(user)
        flash(_("Your new password is set; every other session of yours has ended."), "success")
        return redirect(url_for("campus.home"))
    return render_template("campus/password_reset_link.html", form=form)
