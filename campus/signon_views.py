"""Campus sign-on pages: the way out to the CAS server or OpenID provider and back, the CAS
server's single logout, and the administrator's settings.

Every way a sign-on can fail ends on one page in the reader's language, with an audit row and no
session: `_refused`.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
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
from flask_login import current_user

from campus import acting_for
from campus import auth
from campus import mfa
from campus import signon
from campus.account_limits import PER_ADDRESS
from campus.extensions import csrf
from campus.extensions import db
from campus.extensions import limiter
from campus.forms import SignOnForm
from campus.forms import filled
from campus.models import Institution
from campus.models import Role
from campus.models import SignOn
from campus.models import SignOnProtocol
from campus.models import User
from campus.permissions import require_roles
from campus.sign_in_steps import await_second_step
from campus.sign_in_steps import browser_signed_in
from campus.sign_in_steps import landing_page
from campus.sign_in_steps import session_replaced
from campus.signon import SignOnFailed

bp = Blueprint("signon", __name__, url_prefix="/login/campus")
# The administrator's settings, under the admin pages' addresses.
admin_bp = Blueprint("signon_admin", __name__, url_prefix="/admin/sign-on")


def _timeout() -> float:
    return float(current_app.config["SIGN_ON_TIMEOUT_SECONDS"])


def _configured(code: str, protocol: SignOnProtocol | None = None) -> tuple[Institution, SignOn]:
    """The institution of `code` and its switched-on sign-on; 404 for an unknown code, and for a
    callback's `protocol` when the institution's sign-on speaks the other one."""
    institution = signon.institution_by_code(db.session, code) or abort(404)
    config = signon.enabled_sign_on(db.session, institution)
    if config is None:
        abort(_refused(institution, "-", SignOnFailed("not_configured")))
    if protocol is not None and config.protocol is not protocol:
        abort(404)
    return institution, config


@bp.get("/<code>")
@limiter.limit(PER_ADDRESS)
def start(code: str) -> ResponseReturnValue:
    """Off to the campus service's own sign-in page."""
    institution, config = _configured(code)
    if config.protocol is SignOnProtocol.CAS:
        return redirect(signon.cas_login_url(config, _cas_service(institution)))
    try:
        with signon.protocol_errors("unreachable"):
            return signon.oidc_client(config, _timeout()).authorize_redirect(
                url_for("signon.oidc_callback", code=institution.code, _external=True)
            )
    except SignOnFailed as failure:
        return _refused(institution, "oidc", failure)


def _cas_service(institution: Institution) -> str:
    """The service URL the CAS server sends the ticket to, and validates it for."""
    return url_for("signon.cas_callback", code=institution.code, _external=True)


@bp.get("/<code>/cas")
@limiter.limit(PER_ADDRESS)
def cas_callback(code: str) -> ResponseReturnValue:
    institution, config = _configured(code, SignOnProtocol.CAS)
    ticket = request.args.get("ticket", "").strip()
    try:
        if not ticket or len(ticket) > 256:
            raise SignOnFailed("invalid_ticket")
        if auth.ticket_seen(db.session, ticket):
            raise SignOnFailed("replayed")
        identity = signon.cas_identity(config, _cas_service(institution), ticket, _timeout())
        user = _account(institution, identity)
    except SignOnFailed as failure:
        return _refused(institution, "cas", failure)
    return _signed_in(user, SignOnProtocol.CAS, ticket=ticket)


# The CAS server posts its single-logout request here from its own address, server to server:
# it cannot carry our CSRF token, and it needs none, since all it can do is end the session
# started with the ticket it names (a secret only the CAS server and that browser ever held).
# Only this POST is exempt; the callback's GET beside it is an ordinary view.
@bp.post("/<code>/cas")
@csrf.exempt
def cas_single_logout(code: str) -> ResponseReturnValue:
    institution = signon.institution_by_code(db.session, code) or abort(404)
    ticket = signon.cas_logged_out_ticket(request.form.get("logoutRequest", ""))
    if ticket is None:
        abort(400)
    auth.end_ticket_sessions(db.session, institution, ticket)
    return "", 200


@bp.get("/<code>/oidc")
@limiter.limit(PER_ADDRESS)
def oidc_callback(code: str) -> ResponseReturnValue:
    institution, config = _configured(code, SignOnProtocol.OIDC)
    try:
        if request.args.get("error"):
            raise SignOnFailed("refused", request.args.get("error", "")[:100])
        client = signon.oidc_client(config, _timeout())
        with signon.protocol_errors("invalid_token"):
            token = client.authorize_access_token()
        user = _account(institution, signon.oidc_identity(config, token))
    except SignOnFailed as failure:
        return _refused(institution, "oidc", failure)
    id_token = token.get("id_token")
    return _signed_in(
        user, SignOnProtocol.OIDC, id_token=id_token if isinstance(id_token, str) else None
    )


def _account(institution: Institution, identity: str) -> User:
    user = signon.account_for(db.session, institution, identity)
    if user is None:
        raise SignOnFailed("unknown_user", f"no active account {identity[:100]}")
    return user


def _signed_in(
    user: User, protocol: SignOnProtocol, ticket: str | None = None, id_token: str | None = None
) -> ResponseReturnValue:
    """Start the session as a password sign-in does; remember which protocol started it (the
    sign-out ends the campus session too) and, for OpenID, the ID token the sign-out hints with.

    Where the user must give a second factor and the institution has not declared that its
    identity provider asks for one, the second step comes first; the session it then starts is
    Xinqiao's alone (a sign-out does not end the campus one)."""
    config = signon.enabled_sign_on(db.session, user.institution)
    enforced = config is not None and config.idp_enforces_mfa
    step = mfa.second_step(db.session, user, idp_enforces_mfa=enforced)
    if step is not None:
        return await_second_step(user, step, user.institution.code)
    auth.sign_in_from_campus(
        db.session,
        user,
        protocol.value,
        request.remote_addr,
        ticket=ticket,
        replacing=session_replaced(),
    )
    browser_signed_in(user)
    session["signed_in_with"] = protocol.value
    if id_token:
        session["id_token"] = id_token
    return redirect(landing_page())


_STATUS = {"unknown_user": 403, "unreachable": 502, "certificate": 502, "not_configured": 404}


def _refused(institution: Institution, protocol: str, failure: SignOnFailed) -> Response:
    """The page of a sign-on that started no session, after its audit row."""
    signon.record_failure(db.session, institution, protocol, failure)
    page = render_template(
        "campus/sign_on_refused.html",
        institution=institution,
        message=failure.message.shown(),
        retry=failure.reason not in ("unknown_user", "not_configured", "certificate"),
    )
    return make_response(page, _STATUS.get(failure.reason, 400))


# --- the administrator's settings ------------------------------------------------------------


@admin_bp.route("", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def settings() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    config = signon.sign_on_of(db.session, institution)
    form = SignOnForm(data=_form_data(institution, config))
    status = 200
    if form.validate_on_submit():
        try:
            signon.save_settings(db.session, current_user, institution, _settings_of(form))
        except signon.SignOnConfigError as error:
            flash(error.message.shown(), "error")
            status = 422
        else:
            flash(_("Sign-on settings saved."), "success")
            return redirect(url_for("signon_admin.settings"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "campus/sign_on.html",
        form=form,
        config=config,
        institution=institution,
        cas_service=_cas_service(institution),
        oidc_redirect=url_for("signon.oidc_callback", code=institution.code, _external=True),
        after_logout=url_for("campus.login", institution=institution.code, _external=True),
    ), status


def _form_data(institution: Institution, config: SignOn | None) -> dict[str, object]:
    if config is None:
        return {"enabled": True, "cas_version": 3, "local_passwords": institution.local_passwords}
    return {
        "protocol": config.protocol,
        "enabled": config.enabled,
        "server_url": config.server_url,
        "cas_version": config.cas_version or 3,
        "identity_attribute": config.identity_attribute,
        "client_id": config.client_id,
        "client_secret_env": config.client_secret_env,
        "idp_enforces_mfa": config.idp_enforces_mfa,
        "local_passwords": institution.local_passwords,
    }


def _settings_of(form: SignOnForm) -> signon.Settings:
    return signon.Settings(
        protocol=filled(form.protocol),
        enabled=bool(form.enabled.data),
        server_url=filled(form.server_url).strip(),
        cas_version=form.cas_version.data,
        identity_attribute=(form.identity_attribute.data or "").strip() or None,
        client_id=(form.client_id.data or "").strip() or None,
        client_secret_env=(form.client_secret_env.data or "").strip() or None,
        idp_enforces_mfa=bool(form.idp_enforces_mfa.data),
        local_passwords=bool(form.local_passwords.data),
    )


@admin_bp.post("/test")
@require_roles(Role.ADMIN)
def test_connection() -> ResponseReturnValue:
    """Ask the saved campus service whether it answers, and say so in plain words."""
    institution = acting_for.admin_institution()
    config = signon.sign_on_of(db.session, institution)
    if config is None:
        flash(_("Save the settings first, then test them."), "error")
        return redirect(url_for("signon_admin.settings"))
    answered, message = signon.connection_report(config, _timeout())
    signon.record_connection_test(db.session, current_user, config, answered)
    flash(message.shown(), "success" if answered else "error")
    return redirect(url_for("signon_admin.settings"))
