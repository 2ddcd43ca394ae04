"""Route guards by role. Data scope is enforced separately, in the queries (`campus.scope`).

`require_roles` implies sign-in, so a view guarded by it needs no `login_required` as well.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import abort
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from campus.extensions import login_manager
from campus.models import Role
from campus.models import Student

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


def may_manage_account(user: object, institution_id: int) -> bool:
    """Whether `user` runs the accounts of institution `institution_id` (an administrator of it):
    who opens a student's account page, to reset a forgotten password."""
    held = getattr(user, "assignments", None)
    if held is None:  # anonymous
        return False
    return any(a.institution_id == institution_id for a in held(Role.ADMIN))


def may_open_account(student: Student) -> bool:
    """Whether the signed-in user may open `student`'s account page (the administrator of their
    institution), where a forgotten password is reset: the student list and the file link it."""
    return student.user_id is not None and may_manage_account(current_user, student.institution_id)


def account_url(student: Student) -> str:
    """The account page of `student`, for the institution the student belongs to (an
    administrator of several is not asked which)."""
    return url_for(
        "campus.user_detail", user_id=student.user_id, institution=student.institution_id
    )
