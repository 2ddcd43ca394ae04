"""What the steps of sign-in share: one throttle for every guess at an account's secrets
(passwords at sign-in and codes at its second step count together, per account, so alternating
between them gives no fresh tries), and the rotation of the browser's session at each step."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_user
from werkzeug.wrappers import Response

from campus import auth
from campus import clock
from campus import mfa
from campus.account_limits import PER_ADDRESS
from campus.extensions import db
from campus.extensions import limiter
from campus.models import User
from campus.redirects import safe_next

# The Flask session key of a sign-in waiting for its second factor (`campus.mfa.Pending`).
PENDING = "mfa_pending"
# The Flask session key of the page a finished sign-in goes back to (`remember_return_to`).
RETURN_TO = "return_to"

P = ParamSpec("P")
R = TypeVar("R")


def account_key() -> str:
    """The account a request guesses at: the one named on the sign-in form, or the one whose
    sign-in waits for its code (never a name the code form sends: that would be a fresh key).
    The account is named as sign-in finds it, so padding or recasing gives no fresh tries."""
    if request.endpoint == "campus.login":
        code, login = auth.account_key(
            request.form.get("institution", ""), request.form.get("login", "")
        )
        return f"login:{code}:{login}"
    pending = mfa.read_pending(session.get(PENDING))
    if pending is None:
        return "login:-:-"
    return f"login:{pending.institution_code}:{pending.login}"


def wrong_guess(response: Response) -> bool:
    """Whether a sign-in step refused the password or code it was sent: each step answers a wrong
    one 401. Only those use up an account's tries. When every POST counted, a counsellor who
    signed in and out a few times at a shared terminal locked herself out for a minute."""
    return response.status_code == 401


account_guesses = limiter.shared_limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    scope="sign-in",
    key_func=account_key,
    methods=["POST"],
    error_message=_l("Too many sign-in attempts. Wait a minute."),
    deduct_when=wrong_guess,
)


def takes_guesses(view: Callable[P, R]) -> Callable[P, R]:
    """A page a guess at an account's secret is sent to (a password, a code): each wrong guess
    counts against the account's throttle (`account_guesses`), which, once spent, refuses the
    right one too until the minute is out; every POST counts against the address's ceiling
    (`PER_ADDRESS`), which stops one address trying many accounts (and bounds what parallel
    guesses, each checked before any is counted, can add to an account's)."""
    return account_guesses(limiter.limit(PER_ADDRESS, methods=["POST"])(view))


def fresh_browser_session() -> None:
    """Rotate the browser's session at each step of sign-in: nothing from before survives it
    but the chosen language and the page to go back to."""
    kept = {key: session[key] for key in ("lang", RETURN_TO) if session.get(key)}
    session.clear()
    session.update(kept)


def remember_return_to(target: str | None) -> None:
    """Keep the page a visitor was sent to sign in from (`?next=` on the sign-in page: a link
    in a notice, or a page open when the session went idle), so every way of signing in (a
    password, a second step, the campus sign-on) ends there. Only a path on this site; the
    sign-in page opened without one forgets an older one."""
    path = safe_next(target)
    if path:
        session[RETURN_TO] = path
    else:
        session.pop(RETURN_TO, None)


def landing_page() -> str:
    """Where a finished sign-in goes: the remembered page (once), else home."""
    return session.pop(RETURN_TO, None) or url_for("campus.home")


def browser_signed_in(user: User) -> None:
    """The browser is `user`'s from now on (their server-side session has begun): a fresh
    cookie session, then Flask-Login's."""
    fresh_browser_session()
    login_user(user)


def session_replaced() -> str | None:
    """The token of the server-side session this browser had, which a new sign-in ends."""
    return current_user.session_token if current_user.is_authenticated else None


def await_second_step(user: User, step: mfa.SecondStep, institution_code: str) -> Response:
    """A sign-in whose first factor (a password, or the campus sign-on) was right and which now
    waits for `step`: no session yet; whoever was signed in in this browser is signed out."""
    pending = mfa.begin(db.session, user, step, institution_code, clock.now())
    if current_user.is_authenticated:
        auth.end_session(db.session, current_user.session_token)
    fresh_browser_session()
    session[PENDING] = pending.as_cookie()
    endpoint = "second_step.code" if step is mfa.SecondStep.VERIFY else "second_step.enrol"
    return redirect(url_for(endpoint))
