"""The test identity providers behave as real ones do, seen by the clients the application uses.

CAS tickets are validated with python-cas, OpenID Connect is spoken with Authlib's client and
its JOSE, exactly as the sign-on code will; each test goes through the provider's own HTML
login form with `requests`, no browser.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import lxml.html
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from cas import CASClient
from cas import CASClientV3
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey

from tests.idp.servers import CasServer
from tests.idp.servers import LoginFailed
from tests.idp.servers import OidcProvider
from tests.idp.servers import ServerFailed
from tests.idp.servers import ServerProcess

SERVICE = "http://127.0.0.1:5999/login/cas?next=%2Fstudents"


def _ticket(redirect_url: str) -> str:
    return parse_qs(urlsplit(redirect_url).query)["ticket"][0]


@pytest.fixture
def new_session() -> Iterator[Callable[[], requests.Session]]:
    """Makes `requests` sessions (a browser's cookies, an application's back channel), closed after
    the test: an open one would leave its sockets to the collector (a ResourceWarning, an error)."""
    sessions: list[requests.Session] = []

    def make() -> requests.Session:
        sessions.append(requests.Session())
        return sessions[-1]

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def cas_client(
    cas_server: CasServer, new_session: Callable[[], requests.Session]
) -> Callable[..., CASClient]:
    """python-cas clients of `cas_server`, as the application builds them, with a closed session."""

    def make(version: int, service: str = SERVICE) -> CASClient:
        return CASClient(
            version=version, service_url=service, server_url=cas_server.url, session=new_session()
        )

    return make


def test_cas_login_form_redirects_to_the_service_with_a_ticket(
    cas_server: CasServer, new_session: Callable[[], requests.Session]
) -> None:
    cas_server.add_user("zhangsan", "pw-zhangsan")

    redirect = cas_server.login(new_session(), SERVICE, "zhangsan", "pw-zhangsan")

    assert redirect.startswith("http://127.0.0.1:5999/login/cas?next=%2Fstudents&ticket=ST-")


def _off_machine_links(page: requests.Response) -> list[str]:
    document = lxml.html.fromstring(page.text, base_url=page.url)
    return [
        link
        for _, _, link, _ in document.iterlinks()
        if urlsplit(link).hostname not in ("127.0.0.1", "localhost")
    ]


def test_cas_login_page_loads_nothing_from_off_the_machine(cas_server: CasServer) -> None:
    """A browser journey through the CAS page must not reach for a CDN (mama-cas's own does)."""
    page = requests.get(cas_server.url + "login", params={"service": SERVICE}, timeout=10)

    assert page.status_code == 200
    assert "password" in page.text
    assert _off_machine_links(page) == []


def test_cas_wrong_password_is_refused_on_the_login_form(
    cas_server: CasServer, new_session: Callable[[], requests.Session]
) -> None:
    cas_server.add_user("lisi", "pw-lisi")

    with pytest.raises(LoginFailed, match="username or password is not correct"):
        cas_server.login(new_session(), SERVICE, "lisi", "not-the-password")


def test_cas_v3_service_validate_releases_the_users_attributes(
    cas_server: CasServer,
    new_session: Callable[[], requests.Session],
    cas_client: Callable[..., CASClient],
) -> None:
    cas_server.add_user(
        "20260001",
        "pw-1",
        name="李晓雨",
        student_number="20260001",
        memberOf=["students", "computing"],
    )
    ticket = _ticket(cas_server.login(new_session(), SERVICE, "20260001", "pw-1"))

    user, attributes, _ = cas_client(3).verify_ticket(ticket)

    assert user == "20260001"
    assert attributes["name"] == "李晓雨"
    assert attributes["student_number"] == "20260001"
    assert attributes["memberOf"] == ["students", "computing"]


def test_cas_v2_service_validate_releases_the_attributes_too(
    cas_server: CasServer,
    new_session: Callable[[], requests.Session],
    cas_client: Callable[..., CASClient],
) -> None:
    cas_server.add_user("wangwu", "pw-wangwu", name="王五", employee_number="T0042")
    ticket = _ticket(cas_server.login(new_session(), SERVICE, "wangwu", "pw-wangwu"))

    user, attributes, _ = cas_client(2).verify_ticket(ticket)

    assert user == "wangwu"
    assert attributes == {"name": "王五", "employee_number": "T0042"}


def test_cas_ticket_cannot_be_validated_twice(
    cas_server: CasServer,
    new_session: Callable[[], requests.Session],
    cas_client: Callable[..., CASClient],
) -> None:
    cas_server.add_user("zhaoliu", "pw-zhaoliu")
    ticket = _ticket(cas_server.login(new_session(), SERVICE, "zhaoliu", "pw-zhaoliu"))
    client = cas_client(3)

    assert client.verify_ticket(ticket)[0] == "zhaoliu"
    assert client.verify_ticket(ticket)[0] is None
    answer = requests.get(
        cas_server.url + "p3/serviceValidate",
        params={"service": SERVICE, "ticket": ticket},
        timeout=10,
    )
    assert 'code="INVALID_TICKET"' in answer.text
    assert "has already been used" in answer.text


def test_cas_ticket_is_only_valid_for_the_service_it_was_issued_for(
    cas_server: CasServer,
    new_session: Callable[[], requests.Session],
    cas_client: Callable[..., CASClient],
) -> None:
    cas_server.add_user("sunqi", "pw-sunqi")
    ticket = _ticket(cas_server.login(new_session(), SERVICE, "sunqi", "pw-sunqi"))

    other = cas_client(3, service="http://127.0.0.1:5999/elsewhere")

    assert other.verify_ticket(ticket)[0] is None


def test_cas_refuses_a_service_off_loopback(
    cas_server: CasServer, new_session: Callable[[], requests.Session]
) -> None:
    cas_server.add_user("liuyi", "pw-liuyi")

    with pytest.raises(LoginFailed, match="403 Forbidden"):
        cas_server.login(new_session(), "http://portal.example.edu/login", "liuyi", "pw-liuyi")


def test_cas_single_sign_on_session_gives_a_second_ticket_without_the_form(
    cas_server: CasServer,
    new_session: Callable[[], requests.Session],
    cas_client: Callable[..., CASClient],
) -> None:
    cas_server.add_user("zhouba", "pw-zhouba")
    browser = new_session()
    first = _ticket(cas_server.login(browser, SERVICE, "zhouba", "pw-zhouba"))

    second = _ticket(cas_server.login(browser, SERVICE, "zhouba", "wrong-but-not-asked"))

    assert second != first
    assert cas_client(3).verify_ticket(second)[0] == "zhouba"


class _LogoutReceiver(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, list[str]]]

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        length = int(self.headers["Content-Length"])
        self.received.append(parse_qs(self.rfile.read(length).decode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def logout_receiver() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A service URL on loopback that records the single-logout POSTs it is sent."""
    received: list[dict[str, list[str]]] = []
    handler = type("Receiver", (_LogoutReceiver,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/login/cas", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_cas_logout_posts_a_saml_logout_request_to_the_service(
    cas_server: CasServer,
    logout_receiver: tuple[str, list[dict[str, list[str]]]],
    new_session: Callable[[], requests.Session],
    cas_client: Callable[..., CASClient],
) -> None:
    service, received = logout_receiver
    cas_server.add_user("wujiu", "pw-wujiu")
    browser = new_session()
    ticket = _ticket(cas_server.login(browser, service, "wujiu", "pw-wujiu"))
    assert cas_client(3, service).verify_ticket(ticket)[0] == "wujiu"

    cas_server.logout(browser)

    assert len(received) == 1
    logout_request = received[0]["logoutRequest"][0]
    assert "samlp:LogoutRequest" in logout_request
    assert CASClientV3.get_saml_slos(logout_request)[0].text == ticket


def test_cas_server_behind_a_self_signed_certificate_is_refused_by_default(
    cas_server_tls: CasServer, new_session: Callable[[], requests.Session]
) -> None:
    assert cas_server_tls.url.startswith("https://127.0.0.1:")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(cas_server_tls.url + "login", timeout=10)

    # Trusting its certificate, a client signs in and validates as with any CAS server.
    cas_server_tls.add_user("zhengshi", "pw-zhengshi", name="郑十")
    ticket = _ticket(cas_server_tls.login(new_session(), SERVICE, "zhengshi", "pw-zhengshi"))
    client = CASClient(
        version=3,
        service_url=SERVICE,
        server_url=cas_server_tls.url,
        verify_ssl_certificate=cas_server_tls.ca_file,
        session=new_session(),
    )
    assert client.verify_ticket(ticket)[:2] == ("zhengshi", {"name": "郑十"})


def test_oidc_provider_behind_a_self_signed_certificate_is_refused_by_default(
    oidc_provider_tls: OidcProvider, new_session: Callable[[], requests.Session]
) -> None:
    assert oidc_provider_tls.issuer.startswith("https://127.0.0.1:")
    app = Flask("relying_party_tls")
    oauth = OAuth(app)
    oauth.register(
        "campus_idp",
        client_id="unused",
        client_secret="unused",
        server_metadata_url=oidc_provider_tls.discovery_url,
    )
    with app.app_context(), pytest.raises(requests.exceptions.SSLError):
        oauth.campus_idp.load_server_metadata()

    # Trusting its certificate, a client reads it and signs in as with any provider.
    # (verify= on the call: requests lets REQUESTS_CA_BUNDLE override a session's .verify)
    trusting = new_session()
    metadata = trusting.get(
        oidc_provider_tls.discovery_url, timeout=10, verify=oidc_provider_tls.ca_file
    ).json()
    assert metadata["issuer"] == oidc_provider_tls.issuer
    client_id, _ = oidc_provider_tls.register_client([REDIRECT])
    oidc_provider_tls.add_user("tlsuser", "pw-tlsuser")
    with OAuth2Session(
        client_id, scope="openid", redirect_uri=REDIRECT, code_challenge_method="S256"
    ) as rp:
        url, _ = rp.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=generate_token(48), nonce="n-tls"
        )
    callback = oidc_provider_tls.login(trusting, url, "tlsuser", "pw-tlsuser")
    assert callback.startswith(REDIRECT + "?code=")


def test_idp_down_refuses_connections(idp_down_url: str) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(idp_down_url + "cas/login", timeout=5)


def test_idp_silent_never_answers(idp_silent_url: str) -> None:
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(idp_silent_url, timeout=0.5)


def test_a_server_that_cannot_start_fails_loudly_with_its_log(tmp_path: Path) -> None:
    broken = ServerProcess("broken", "no_such_module:application", tmp_path)

    with pytest.raises(ServerFailed, match="(?s)broken exited with .*no_such_module"):
        broken.start("/")


REDIRECT = "http://127.0.0.1:5998/login/oidc/callback"
AFTER_LOGOUT = "http://127.0.0.1:5998/login"


@dataclass
class RelyingParty:
    """A throwaway Flask app signing people in with Authlib's Flask client, as the app will."""

    client: FlaskClient
    oauth: Any
    client_id: str

    def start_login(self) -> str:
        """The authorization URL the app redirects the browser to."""
        return self.client.get("/login").headers["Location"]

    def finish_login(self, callback_url: str) -> dict[str, Any]:
        """What the app's callback got: Authlib's token, with the verified id_token's claims."""
        parts = urlsplit(callback_url)
        answer = self.client.get(f"{parts.path}?{parts.query}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        result: dict[str, Any] = answer.get_json()
        return result


@pytest.fixture
def relying_party(oidc_provider: OidcProvider) -> RelyingParty:
    client_id, client_secret = oidc_provider.register_client([REDIRECT], [AFTER_LOGOUT])
    app = Flask("relying_party")
    app.secret_key = "relying-party-test-key"
    oauth = OAuth(app)
    oauth.register(
        "campus_idp",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=oidc_provider.discovery_url,
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
    )

    @app.get("/login")
    def login():
        return oauth.campus_idp.authorize_redirect(REDIRECT)

    @app.get("/login/oidc/callback")
    def callback():
        try:
            token = oauth.campus_idp.authorize_access_token()
        except OAuthError as error:
            return {"error": error.error, "description": error.description}, 400
        return {"token": token, "fetched_userinfo": oauth.campus_idp.userinfo(token=token)}

    return RelyingParty(app.test_client(), oauth.campus_idp, client_id)


def test_oidc_discovery_names_the_endpoints_and_what_the_provider_requires(
    oidc_provider: OidcProvider,
) -> None:
    metadata = requests.get(oidc_provider.discovery_url, timeout=10).json()

    assert metadata["issuer"] == oidc_provider.issuer
    assert metadata["end_session_endpoint"] == oidc_provider.issuer + "/logout"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = requests.get(metadata["jwks_uri"], timeout=10).json()["keys"]
    assert [(key["kty"], key["alg"]) for key in keys] == [("RSA", "RS256")]
    assert "d" not in keys[0]  # the public half only


def test_oidc_code_flow_with_pkce_signs_in_with_a_verified_id_token(
    oidc_provider: OidcProvider,
    relying_party: RelyingParty,
    new_session: Callable[[], requests.Session],
) -> None:
    oidc_provider.add_user(
        "20260002", "pw-2", preferred_username="20260002", name="王明", student_number="20260002"
    )
    authorize_url = relying_party.start_login()
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert "nonce" in query

    callback = oidc_provider.login(new_session(), authorize_url, "20260002", "pw-2")
    result = relying_party.finish_login(callback)

    # Authlib verified the signature against /jwks, iss, aud, exp, the nonce and at_hash.
    claims = result["token"]["userinfo"]
    assert claims["iss"] == oidc_provider.issuer
    assert claims["aud"] == relying_party.client_id
    assert claims["nonce"] == query["nonce"][0]
    assert (claims["sub"], claims["name"], claims["student_number"]) == (
        "20260002",
        "王明",
        "20260002",
    )
    assert result["fetched_userinfo"] == {
        "sub": "20260002",
        "preferred_username": "20260002",
        "name": "王明",
        "student_number": "20260002",
    }


def test_oidc_id_token_signed_by_another_key_is_refused(
    oidc_provider: OidcProvider,
    relying_party: RelyingParty,
    new_session: Callable[[], requests.Session],
) -> None:
    oidc_provider.add_user("forged", "pw-forged", name="Forged")
    authorize_url = relying_party.start_login()
    nonce = parse_qs(urlsplit(authorize_url).query)["nonce"][0]
    token = relying_party.finish_login(
        oidc_provider.login(new_session(), authorize_url, "forged", "pw-forged")
    )["token"]
    genuine = jwt.decode(token["id_token"], KeySet.import_key_set(_jwks(oidc_provider)))
    assert genuine.claims["sub"] == "forged"

    impostor = RSAKey.generate_key(2048, parameters={"kid": genuine.header["kid"]})
    forged = jwt.encode({"alg": "RS256", "kid": impostor.kid}, genuine.claims, impostor)

    with (
        relying_party.client.application.test_request_context(),
        pytest.raises(BadSignatureError),
    ):
        relying_party.oauth.parse_id_token({**token, "id_token": forged}, nonce)


def _jwks(oidc_provider: OidcProvider) -> dict[str, Any]:
    metadata = requests.get(oidc_provider.discovery_url, timeout=10).json()
    keys: dict[str, Any] = requests.get(metadata["jwks_uri"], timeout=10).json()
    return keys


def test_oidc_wrong_password_is_refused_on_the_login_form(
    oidc_provider: OidcProvider,
    relying_party: RelyingParty,
    new_session: Callable[[], requests.Session],
) -> None:
    oidc_provider.add_user("chenjing", "pw-chenjing")

    with pytest.raises(LoginFailed, match="username or password is not correct"):
        oidc_provider.login(new_session(), relying_party.start_login(), "chenjing", "nope")


def test_oidc_authorization_without_pkce_or_nonce_is_refused(
    oidc_provider: OidcProvider, new_session: Callable[[], requests.Session]
) -> None:
    client_id, client_secret = oidc_provider.register_client([REDIRECT])
    oidc_provider.add_user("nopkce", "pw-nopkce")
    authorize = oidc_provider.issuer + "/authorize"
    with OAuth2Session(client_id, client_secret, scope="openid", redirect_uri=REDIRECT) as rp:
        no_pkce, _ = rp.create_authorization_url(authorize, nonce="n-0001")
        plain, _ = rp.create_authorization_url(
            authorize, nonce="n-0002", code_challenge="a" * 43, code_challenge_method="plain"
        )
    with OAuth2Session(
        client_id,
        client_secret,
        scope="openid",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    ) as rp:
        no_nonce, _ = rp.create_authorization_url(authorize, code_verifier=generate_token(48))

    refusals = ((no_pkce, "code_challenge"), (plain, "S256"), (no_nonce, "nonce"))
    for url, missing in refusals:
        callback = oidc_provider.login(new_session(), url, "nopkce", "pw-nopkce")
        error = parse_qs(urlsplit(callback).query)
        assert error["error"] == ["invalid_request"]
        assert missing in error["error_description"][0]


def test_oidc_code_needs_the_right_verifier_and_is_used_once(
    oidc_provider: OidcProvider, new_session: Callable[[], requests.Session]
) -> None:
    client_id, client_secret = oidc_provider.register_client([REDIRECT])
    oidc_provider.add_user("onceonly", "pw-onceonly")
    verifier = generate_token(48)
    token_url = oidc_provider.issuer + "/token"
    with OAuth2Session(
        client_id,
        client_secret,
        scope="openid",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    ) as rp:
        url, _ = rp.create_authorization_url(
            oidc_provider.issuer + "/authorize", code_verifier=verifier, nonce="n-0002"
        )
        callback = oidc_provider.login(new_session(), url, "onceonly", "pw-onceonly")

        with pytest.raises(OAuthError, match="invalid_grant"):
            rp.fetch_token(
                token_url, authorization_response=callback, code_verifier=generate_token(48)
            )
        token = rp.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)
        assert "id_token" in token
        with pytest.raises(OAuthError, match="invalid_grant"):
            rp.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)


def test_oidc_unregistered_redirect_uri_is_not_redirected_to(
    oidc_provider: OidcProvider, new_session: Callable[[], requests.Session]
) -> None:
    client_id, client_secret = oidc_provider.register_client([REDIRECT])
    with OAuth2Session(
        client_id, client_secret, scope="openid", redirect_uri="http://127.0.0.1:5998/evil"
    ) as rp:
        url, _ = rp.create_authorization_url(
            oidc_provider.issuer + "/authorize", code_verifier=generate_token(48), nonce="n-3"
        )

    answer = new_session().get(url, allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_oidc_rp_initiated_logout_ends_the_provider_session(
    oidc_provider: OidcProvider,
    relying_party: RelyingParty,
    new_session: Callable[[], requests.Session],
) -> None:
    oidc_provider.add_user("logoutuser", "pw-logout")
    browser = new_session()
    token = relying_party.finish_login(
        oidc_provider.login(browser, relying_party.start_login(), "logoutuser", "pw-logout")
    )["token"]
    # Signed in at the provider: the next sign-in needs no form.
    assert "code=" in oidc_provider.login(browser, relying_party.start_login(), "x", "x")

    with relying_party.client.application.test_request_context():
        logout = relying_party.oauth.create_logout_url(
            post_logout_redirect_uri=AFTER_LOGOUT, id_token_hint=token["id_token"]
        )
    assert logout["url"].startswith(oidc_provider.end_session_endpoint + "?")
    answer = oidc_provider.logout(browser, logout["url"])

    assert answer.headers["Location"] == f"{AFTER_LOGOUT}?state={logout['state']}"
    with pytest.raises(LoginFailed):
        oidc_provider.login(browser, relying_party.start_login(), "logoutuser", "wrong")
