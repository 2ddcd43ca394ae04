# Flask-Login 0.6: only the names Xinqiao uses.
from collections.abc import Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar

from flask.typing import ResponseReturnValue

from campus.models import User

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Loader = TypeVar("_Loader", bound=Callable[[str], User | None])

class UserMixin:
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    # Flask-Login stores whatever this gives; Xinqiao's `User` gives its session token, unset
    # until the session loader or sign-in names one.
    def get_id(self) -> str | None: ...

class AnonymousUserMixin:
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> None: ...

class LoginManager:
    login_view: str | None
    login_message: str
    login_message_category: str
    localize_callback: Callable[[str], str] | None
    session_protection: str | None
    anonymous_user: type[AnonymousUserMixin]
    def __init__(self, app: object = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: object, add_context_processor: bool = True) -> None: ...
    def unauthorized(self) -> ResponseReturnValue: ...
    def user_loader(self, callback: _Loader) -> _Loader: ...
    def unauthorized_handler(
        self, callback: Callable[[], ResponseReturnValue]
    ) -> Callable[[], ResponseReturnValue]: ...

class _CurrentUser(User):
    def _get_current_object(self) -> User: ...

# The request's user, as `campus.models.User` (the class `user_loader` returns). Before sign-in
# the proxy stands for Flask-Login's anonymous user instead; the code reads nothing of it but
# `is_authenticated`, and every view reaching further sits behind `require_roles` or
# `login_required`. Flask types its own proxies (`request`, `g`) as their object the same way.
current_user: _CurrentUser

def login_user(
    user: User,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...
def login_required(func: Callable[_P, _R]) -> Callable[_P, _R | ResponseReturnValue]: ...
