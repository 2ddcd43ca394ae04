# Flask-Talisman 1.1: only what `campus` uses.
from collections.abc import Mapping
from collections.abc import Sequence

from flask import Flask

class Talisman:
    def __init__(self, app: Flask | None = None) -> None: ...
    def init_app(
        self,
        app: Flask,
        *,
        force_https: bool = True,
        content_security_policy: Mapping[str, str | Sequence[str]] = ...,
        session_cookie_secure: bool = True,
        strict_transport_security: bool = True,
        referrer_policy: str = ...,
    ) -> None: ...
