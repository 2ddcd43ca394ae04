# python-cas: the CAS client (one module, `cas`), as far as Xinqiao uses it.
from typing import Any

import requests

class CASError(ValueError): ...

class SingleLogoutMixin:
    @classmethod
    def get_saml_slos(cls, logout_request: str | bytes) -> list[Any] | None: ...

class CASClientBase:
    service_url: str | None
    server_url: str | None
    def get_login_url(self) -> str: ...
    def get_logout_url(self, redirect_url: str | None = None) -> str: ...
    def verify_ticket(
        self, ticket: str
    ) -> tuple[str | None, dict[str, Any] | None, str | None]: ...

class CASClientV2(CASClientBase): ...
class CASClientV3(CASClientV2, SingleLogoutMixin): ...

def CASClient(  # noqa: N802 -- the library's factory is a class whose __new__ picks the version
    *,
    version: int | str,
    service_url: str | None = None,
    server_url: str | None = None,
    session: requests.Session | None = None,
    verify_ssl_certificate: bool = True,
) -> CASClientV2: ...
