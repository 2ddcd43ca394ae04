# Authlib's Flask OAuth client, as far as Xinqiao uses it (one client per institution).
from typing import Any

from authlib.common.errors import AuthlibBaseError
from werkzeug.wrappers import Response

class OAuthError(AuthlibBaseError): ...

class FlaskIntegration:
    def __init__(self, name: str, cache: object | None = None) -> None: ...

class FlaskOAuth2App:
    def __init__(
        self,
        framework: FlaskIntegration,
        name: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        server_metadata_url: str | None = None,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None: ...
    def load_server_metadata(self) -> dict[str, Any]: ...
    def authorize_redirect(self, redirect_uri: str | None = None, **kwargs: Any) -> Response: ...
    def authorize_access_token(self, **kwargs: Any) -> dict[str, Any]: ...
    def create_logout_url(
        self,
        post_logout_redirect_uri: str | None = None,
        id_token_hint: str | None = None,
        state: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]: ...
