"""Two-factor sign-in pages: sign-in's second step and first set-up (`/login/...`), a person's
own app and recovery codes (`/account/two-factor`), and the administrator's settings and reset
(`/admin/two-factor`). The rules are in `campus.mfa`."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from campus import acting_for
from campus import admin
from campus import auth
from campus import clock
from campus import mfa
from campus.extensions import db
from campus.extensions import limiter
from campus.forms import ROLE_LABELS
from campus.forms import AppCodeForm
from campus.forms import MfaPolicyForm
from campus.forms import RecoveryCodesSavedForm
from campus.forms import SecondFactorForm
from campus.forms import add_error
from campus.forms import filled
from campus.models import Role
from campus.models import User
from campus.permissions import require_roles
from campus.sign_in_steps import PENDING
from campus.sign_in_steps import browser_signed_in
from campus.sign_in_steps import landing_page
from campus.sign_in_steps import takes_guesses

second_step = Blueprint("second_step", __name__, url_prefix="/login")
two_factor = Blueprint("two_factor", __name__, url_prefix="/account/two-factor")
two_factor_admin = Blueprint("two_factor_admin", __name__, url_prefix="/admin/two-factor")

# Flask session keys: the secret of an app being set up (encrypted until it is confirmed), and
# new recovery codes (encrypted) until their owner says they have saved them.
_NEW_SECRET = "mfa_new_secret"  # noqa: S105 - a session key, not a secret
_UNSAVED_CODES = "mfa_unsaved_codes"
_STEP_ENDPOINTS = {
    mfa.SecondStep.VERIFY: "second_step.code",
    mfa.SecondStep.ENROL: "second_step.enrol",
}


# --- sign-in's second step --------------------------------------------------------------------


def _pending_sign_in(step: mfa.SecondStep) -> User:
    """The account whose sign-in waits for `step`. Without one, back to sign-in; one that waited
    too long is ended with a page that says so (and an audit row); the other step's page is sent
    to its own."""
    pending = mfa.read_pending(session.get(PENDING))
    if pending is None:
        abort(redirect(url_for("campus.login")))
    user = db.session.get(User, pending.user_id)
    if mfa.is_expired(pending, clock.now(), current_app.config["MFA_PENDING_MINUTES"]):
        _forget_pending()
        mfa.audit_refusal(db.session, user, "sign-in waited too long", pending.user_id)
        page = render_template(
            "campus/mfa/expired.html", minutes=current_app.config["MFA_PENDING_MINUTES"]
        )
        abort(make_response(page, 401))
    if user is None or not user.active:
        _forget_pending()
        abort(redirect(url_for("campus.login")))
    if pending.step is not step:
        abort(redirect(url_for(_STEP_ENDPOINTS[pending.step])))
    return user


def _forget_pending() -> None:
    session.pop(PENDING, None)
    session.pop(_NEW_SECRET, None)


def _refused(user: User, form: SecondFactorForm | AppCodeForm, refused: mfa.CodeRefused) -> None:
    """A code refused at sign-in's second step: nothing it began is kept, the refusal is
    audited, and the form says why."""
    db.session.rollback()
    mfa.audit_refusal(db.session, user, refused.problem)
    add_error(form.code, refused.message.shown())


def _signed_in(user: User, detail: str) -> None:
    """The second step is done: the real session starts now, in a fresh browser session."""
    auth.start_session(db.session, user, request.remote_addr, detail=detail)
    browser_signed_in(user)


@second_step.route("/code", methods=["GET", "POST"])
@takes_guesses
def code() -> ResponseReturnValue:
    user = _pending_sign_in(mfa.SecondStep.VERIFY)
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            left = mfa.verify_sign_in(db.session, user, filled(form.code), clock.now())
        except mfa.CodeRefused as refused:
            _refused(user, form, refused)
            return render_template("campus/mfa/code.html", form=form, signing_in=True), 401
        how = "app code" if left is None else f"recovery code, {left} left"
        _signed_in(user, f"second factor: {how}")
        if left is not None:
            flash(
                _(
                    "You signed in with a recovery code; %(left)s are left. Make new ones "
                    "under My account when you have your phone again.",
                    left=left,
                ),
                "warning",
            )
        return redirect(landing_page())
    return render_template("campus/mfa/code.html", form=form, signing_in=True)


def _secret_being_set_up() -> str:
    """The secret shown on the set-up page, the same across reloads until it is confirmed."""
    stored = session.get(_NEW_SECRET)
    secret = mfa.decrypt(stored) if isinstance(stored, str) else None
    if secret is None:
        secret = mfa.new_secret()
        session[_NEW_SECRET] = mfa.encrypt(secret)
    return secret


def _set_up_page(user: User, secret: str, form: AppCodeForm, action: str) -> str:
    return render_template(
        "campus/mfa/set_up.html",
        form=form,
        action=action,
        # At sign-in's second step nobody is signed in yet: the header's "Sign out" forgets the
        # waiting sign-in instead of ending a session.
        signing_in=not current_user.is_authenticated,
        qr=mfa.qr_data_uri(secret, user.login, user.institution),
        secret=mfa.grouped(secret),
        issuer=user.institution.name,
        account=user.login,
    )


def _show_new_codes(codes: list[str]) -> ResponseReturnValue:
    """New recovery codes go to their page, which shows them until their owner has saved them."""
    session[_UNSAVED_CODES] = mfa.encrypt("\n".join(codes))
    return redirect(url_for("two_factor.recovery_codes"))


def _set_up_app(user: User, endpoint: str, *, signing_in: bool) -> ResponseReturnValue:
    """The set-up page of an authenticator app and its confirming code, at sign-in's second
    step (nobody signed in yet: a refused code is audited and the code confirmed starts the
    session) or on a person's own account."""
    secret = _secret_being_set_up()
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa.enrol(db.session, user, secret, filled(form.code), clock.now())
        except mfa.CodeRefused as refused:
            if signing_in:
                _refused(user, form, refused)
            else:
                add_error(form.code, refused.message.shown())
            return _set_up_page(user, secret, form, url_for(endpoint)), (401 if signing_in else 422)
        if signing_in:
            _signed_in(user, "second factor: app set up")
        else:
            session.pop(_NEW_SECRET, None)
        return _show_new_codes(codes)
    return _set_up_page(user, secret, form, url_for(endpoint))


@second_step.route("/enrol", methods=["GET", "POST"])
@takes_guesses
def enrol() -> ResponseReturnValue:
    return _set_up_app(_pending_sign_in(mfa.SecondStep.ENROL), "second_step.enrol", signing_in=True)


@second_step.route("/cancel", methods=["POST"])
def cancel() -> ResponseReturnValue:
    """Sign out from sign-in's second step: the waiting sign-in and an app half set up are
    forgotten (no session had started), and the next person at this device starts again."""
    _forget_pending()
    flash(_("You have signed out."), "info")
    return redirect(url_for("campus.login"))


# --- a person's own app and recovery codes ----------------------------------------------------


@two_factor.before_app_request
def _recovery_codes_first() -> ResponseReturnValue | None:
    """New recovery codes are shown until their owner says they have saved them: they are
    never shown again."""
    allowed = {"two_factor.recovery_codes", "campus.logout", "campus.set_language", "static"}
    if (
        _UNSAVED_CODES in session
        and current_user.is_authenticated
        and request.endpoint not in allowed
    ):
        return redirect(url_for("two_factor.recovery_codes"))
    return None


@two_factor.route("/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes() -> ResponseReturnValue:
    stored = session.get(_UNSAVED_CODES)
    text = mfa.decrypt(stored) if isinstance(stored, str) else None
    if text is None:
        session.pop(_UNSAVED_CODES, None)
        return redirect(url_for("two_factor.index"))
    form = RecoveryCodesSavedForm()
    if form.validate_on_submit():
        session.pop(_UNSAVED_CODES, None)
        flash(_("Two-factor sign-in is on for your account."), "success")
        return redirect(landing_page())
    codes = text.split("\n")
    download = "\n".join(
        [
            _("Xinqiao recovery codes for %(login)s", login=current_user.login),
            _("Each code works once, when you cannot use your authenticator app."),
            "",
            *codes,
            "",
        ]
    )
    return render_template(
        "campus/mfa/recovery_codes.html",
        codes=codes,
        form=form,
        download="data:text/plain;charset=utf-8," + quote(download),
    ), (422 if form.errors else 200)


@two_factor.route("", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    user = current_user._get_current_object()
    enrolment = mfa.enrolment_of(db.session, user)
    if enrolment is not None:
        return render_template(
            "campus/mfa/account.html",
            enrolment=enrolment,
            codes_left=mfa.recovery_codes_left(db.session, user),
            form=AppCodeForm(formdata=None),
        )
    return _set_up_app(user, "two_factor.index", signing_in=False)


def _own_code_key() -> str:
    return f"mfa-code:{getattr(current_user, 'id', None)}"


@two_factor.route("/recovery-codes/new", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_own_code_key, methods=["POST"]
)
@login_required
def regenerate() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = AppCodeForm()
    if not form.validate_on_submit():
        flash(_("Type the six-digit code your app shows now."), "error")
        return redirect(url_for("two_factor.index"))
    try:
        codes = mfa.regenerate_recovery_codes(db.session, user, filled(form.code), clock.now())
    except mfa.CodeRefused as refused:
        db.session.rollback()
        mfa.audit_refusal(db.session, user, refused.problem, action="mfa_recovery_codes")
        flash(refused.message.shown(), "error")
        return redirect(url_for("two_factor.index"))
    return _show_new_codes(codes)


# --- the administrator's settings and reset ---------------------------------------------------


@two_factor_admin.route("", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def settings() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    required = mfa.required_roles(db.session, institution.id)
    form = MfaPolicyForm(data={"roles": sorted(role.value for role in required)})
    if form.validate_on_submit():
        roles = {Role(value) for value in form.roles.data or []}
        mfa.set_required_roles(db.session, current_user, institution, roles, clock.now())
        flash(_("Saved. It applies from each person's next sign-in."), "success")
        return redirect(url_for("two_factor_admin.settings"))
    return render_template(
        "campus/mfa/settings.html",
        form=form,
        required=required,
        recommended=pgettext("list separator", ", ").join(
            str(label) for role, label in ROLE_LABELS.items() if role in mfa.default_roles()
        ),
    ), (422 if form.errors else 200)


@two_factor_admin.route("/users/<int:user_id>/reset", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def reset(user_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    user = admin.find_user(db.session, institution, user_id) or abort(404)
    back = url_for("campus.user_detail", user_id=user.id)
    if mfa.enrolment_of(db.session, user) is None:
        flash(
            _(
                "%(name)s has no authenticator app set up; there is nothing to reset.",
                name=user.name,
            ),
            "info",
        )
        return redirect(back)
    if FlaskForm().validate_on_submit():
        mfa.reset(db.session, current_user, user)
        flash(
            _(
                "Two-factor sign-in of %(name)s was reset and their sessions ended.",
                name=user.name,
            ),
            "success",
        )
        return redirect(back)
    return render_template("campus/mfa/reset.html", user=user)
