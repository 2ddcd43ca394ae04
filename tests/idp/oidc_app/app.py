"""The OIDC test provider: Authlib's AuthorizationServer with its OpenID Connect extensions.

Read from the environment the fixture starts it with:
IDP_BASE_URL     the issuer (http://127.0.0.1:PORT), also the base of every endpoint
IDP_DATA_DIR     folder of its SQLite database
IDP_ADMIN_TOKEN  the token of the test-only admin endpoints (/_admin/users, /_admin/clients)

Endpoints: /.well-known/openid-configuration, /jwks, /authorize (login form), /token, /userinfo,
/logout (end_session_endpoint). Every client must use PKCE (S256) and send a nonce.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import time
from pathlib import Path

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.integrations.sqla_oauth2 import OAuth2AuthorizationCodeMixin
from authlib.integrations.sqla_oauth2 import OAuth2ClientMixin
from authlib.integrations.sqla_oauth2 import OAuth2TokenMixin
from authlib.integrations.sqla_oauth2 import create_bearer_token_validator
from authlib.integrations.sqla_oauth2 import create_query_client_func
from authlib.integrations.sqla_oauth2 import create_save_token_func
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask
from flask import abort
from flask import jsonify
from flask import render_template_string
from flask import request
from flask import session
from flask_sqlalchemy import SQLAlchemy
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

ISSUER = os.environ["IDP_BASE_URL"]
DATA_DIR = Path(os.environ["IDP_DATA_DIR"])
ADMIN_TOKEN = os.environ["IDP_ADMIN_TOKEN"]
SCOPES = ["openid", "profile", "email"]
# One signing key per run, made at start: clients fetch it from /jwks, as from a real provider.
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
# A throwaway provider: a cheap password hash keeps adding users fast.
PASSWORD_METHOD = "pbkdf2:sha256:1000"

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    sub = db.Column(db.String(200), unique=True, nullable=False)
    password_hash = db.Column(db.String(300), nullable=False)
    claims_json = db.Column(db.Text, nullable=False, default="{}")

    def get_user_id(self) -> int:
        return int(self.id)

    @property
    def claims(self) -> dict[str, object]:
        return dict(json.loads(self.claims_json))


class Client(db.Model, OAuth2ClientMixin):
    id = db.Column(db.Integer, primary_key=True)


class AuthorizationCode(db.Model, OAuth2AuthorizationCodeMixin):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)


class Token(db.Model, OAuth2TokenMixin):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    def get_user(self) -> User | None:
        return db.session.get(User, self.user_id)

    def get_client(self) -> Client | None:
        return db.session.scalar(db.select(Client).filter_by(client_id=self.client_id))


def user_info(user: User) -> UserInfo:
    """Every claim stored for the user, whatever the scope: a test IdP releases all it has."""
    return UserInfo(sub=user.sub, **user.claims)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request) -> AuthorizationCode:
        data = request.payload.data
        item = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user_id=request.user.id,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )
        db.session.add(item)
        db.session.commit()
        return item

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        item = db.session.scalar(
            db.select(AuthorizationCode).filter_by(code=code, client_id=client.client_id)
        )
        return item if item is not None and not item.is_expired() else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        db.session.delete(authorization_code)
        db.session.commit()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        return db.session.get(User, authorization_code.user_id)


class OpenIDCodeWithKey(OpenIDCode):
    """id_tokens signed RS256 with the run's key (its `kid` in the header), iss and aud set."""

    def exists_nonce(self, nonce: str, request) -> bool:
        used = db.select(AuthorizationCode).filter_by(
            client_id=request.payload.client_id, nonce=nonce
        )
        return db.session.scalar(used) is not None

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return SIGNING_KEY

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": SIGNING_KEY.kid or ""}

    def get_client_claims(self, client: Client) -> dict[str, object]:
        return {"iss": ISSUER, "aud": client.client_id, "exp": int(time.time()) + 3600}

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return user_info(user)


class RequiredS256(CodeChallenge):
    """PKCE with S256 for every client, confidential ones too (Authlib requires it only of public
    clients): a request without a code_challenge, or with "plain", is refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': this provider requires PKCE.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class UserInfoWithClaims(UserInfoEndpoint):
    def get_issuer(self) -> str:
        return ISSUER

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return user_info(user)

    def resolve_private_key(self) -> RSAKey:
        return SIGNING_KEY


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self) -> KeySet:
        return KeySet([SIGNING_KEY])

    def end_session(self, end_session_request) -> None:
        session.pop("user_id", None)


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test OpenID provider: sign in</title></head>
<body><h1>Sign in</h1>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
<label>Username <input name="username" value="{{ username }}" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>"""

LOGOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test OpenID provider: sign out</title></head>
<body>{% if confirm %}<h1>Sign out?</h1>
<form method="post" action="{{ action }}"><button type="submit">Sign out</button></form>
{% else %}<h1>You are signed out</h1>{% endif %}</body></html>"""


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{DATA_DIR / 'oidc.sqlite3'}",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 20}},
        SESSION_COOKIE_NAME="oidc_idp_session",
    )
    db.init_app(app)
    with app.app_context():
        db.create_all()

    server = AuthorizationServer(
        app,
        query_client=create_query_client_func(db.session, Client),
        save_token=create_save_token_func(db.session, Token),
    )
    server.register_grant(
        AuthorizationCodeGrant,
        [OpenIDCodeWithKey(require_nonce=True), RequiredS256(required=True)],
    )
    protector = ResourceProtector()
    protector.register_token_validator(create_bearer_token_validator(db.session, Token)())
    server.register_endpoint(UserInfoWithClaims(resource_protector=protector))
    server.register_endpoint(EndSession)

    def signed_in_user() -> User | None:
        user_id = session.get("user_id")
        return db.session.get(User, user_id) if user_id else None

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(
            issuer=ISSUER,
            authorization_endpoint=f"{ISSUER}/authorize",
            token_endpoint=f"{ISSUER}/token",
            userinfo_endpoint=f"{ISSUER}/userinfo",
            jwks_uri=f"{ISSUER}/jwks",
            end_session_endpoint=f"{ISSUER}/logout",
            scopes_supported=SCOPES,
            response_types_supported=["code"],
            response_modes_supported=["query"],
            grant_types_supported=["authorization_code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            token_endpoint_auth_methods_supported=AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS,
            code_challenge_methods_supported=["S256"],
            claims_supported=["sub", "iss", "aud", "exp", "iat", "nonce", "auth_time"],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(KeySet([SIGNING_KEY]).as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        user = signed_in_user()
        error = ""
        if request.method == "POST":
            user = db.session.scalar(db.select(User).filter_by(sub=request.form.get("username")))
            if user is None or not check_password_hash(
                user.password_hash, request.form.get("password", "")
            ):
                user, error = None, "The username or password is not correct."
            else:
                session["user_id"] = user.id
        try:
            grant = server.get_consent_grant(end_user=user)
        except OAuth2Error as exc:
            return server.handle_error_response(None, exc)
        if user is None or (request.method == "GET" and grant.prompt == "login"):
            page = render_template_string(
                LOGIN_PAGE,
                action=request.full_path,
                error=error,
                username=request.form.get("username", ""),
            )
            return page, 401 if error else 200
        return server.create_authorization_response(grant=grant, grant_user=user)

    @app.post("/token")
    def token():
        return server.create_token_response()

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        return server.create_endpoint_response("userinfo")

    @app.route("/logout", methods=["GET", "POST"])
    def logout():
        try:
            end = server.validate_endpoint_request("end_session")
        except OAuth2Error as exc:
            return server.handle_error_response(None, exc)
        if end.needs_confirmation and request.method == "GET":
            return render_template_string(LOGOUT_PAGE, confirm=True, action=request.full_path)
        return server.create_endpoint_response("end_session", end) or render_template_string(
            LOGOUT_PAGE, confirm=False
        )

    def require_admin() -> None:
        token = request.headers.get("X-Idp-Admin-Token", "")
        if not hmac.compare_digest(token, ADMIN_TOKEN):
            abort(403)

    @app.post("/_admin/users")
    def add_user():
        require_admin()
        body = request.get_json()
        user = db.session.scalar(db.select(User).filter_by(sub=body["sub"])) or User(
            sub=body["sub"]
        )
        user.password_hash = generate_password_hash(body["password"], method=PASSWORD_METHOD)
        user.claims_json = json.dumps(body.get("claims", {}))
        db.session.add(user)
        db.session.commit()
        return jsonify(sub=user.sub)

    @app.post("/_admin/clients")
    def add_client():
        require_admin()
        body = request.get_json()
        client = Client(
            client_id=secrets.token_urlsafe(12),
            client_secret=secrets.token_urlsafe(32),
            client_id_issued_at=int(time.time()),
        )
        client.set_client_metadata(
            {
                "client_name": body.get("client_name", "Xinqiao test client"),
                "redirect_uris": body["redirect_uris"],
                "post_logout_redirect_uris": body.get("post_logout_redirect_uris", []),
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "scope": " ".join(SCOPES),
                "token_endpoint_auth_method": body.get(
                    "token_endpoint_auth_method", "client_secret_basic"
                ),
            }
        )
        db.session.add(client)
        db.session.commit()
        return jsonify(client_id=client.client_id, client_secret=client.client_secret)

    @app.get("/_admin/ready")
    def ready():
        return "ok"

    return app


application = create_app()
