"""Route guards by role. Data scope is enforced separately, in the queries (`campus.scope`).

`require_roles` implies sign-in, so a view guarded by it needs no `login_required` as well.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campus.extensions import login_manager
from campus.models import Role

_P = ParamSpec("_P")
View = Callable[_P, ResponseReturnValue]


def require_roles(*roles: Role) -> Callable[[View[_P]], View[_P]]:
    """Deny (403) unless the signed-in user holds one of `roles`; anonymous users go to sign-in."""

    def decorator(view: View[_P]) -> View[_P]:
        @wraps(view)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> ResponseReturnValue:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
