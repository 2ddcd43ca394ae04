"""The ceilings of a public form. Per account, for one that names an account by institution code
and login (the first sign-in with a code, the password reset request): as at sign-in, every
spelling that reaches one account counts against it (`auth.account_key`), so padding or recasing
gives no fresh tries. Per address, `PER_ADDRESS`."""

from __future__ import annotations

from flask import current_app
from flask import request
from flask_limiter.extension import LimitDecorator

from campus import auth
from campus.extensions import limiter

# Each sign-in form (a password, a code, a reset request) and each sign-on callback takes at most
# this many requests a minute from one address, whichever accounts they name: a callback costs a
# call to the campus service, which must not become a way to flood it through us.
PER_ADDRESS = "30 per minute"


def per_account(prefix: str, error_message: str) -> LimitDecorator:
    """`LOGIN_RATE_LIMIT` POSTs per account named on the form; `prefix` keeps each form's count
    apart (a reset request does not use up sign-in tries)."""

    def key() -> str:
        form = request.form
        code, login = auth.account_key(form.get("institution", ""), form.get("login", ""))
        return f"{prefix}:{code}:{login}"

    return limiter.limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT"],
        key_func=key,
        methods=["POST"],
        error_message=error_message,
    )
