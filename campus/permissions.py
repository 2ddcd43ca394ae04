"""Route guards by role. Data scope is enforced separately, in the queries (`campus.scope`).

`require_roles` implies sign-in, so a view guarded by it needs no `login_required` as well.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app
from flask_login import current_user

from campus.models import Role


def require_roles(*roles: Role) -> Callable:
    """Deny (403) unless the signed-in user holds one of `roles`; anonymous users go to sign-in."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)
        return wrapper

    return decorator
