"""The test identity providers behave as real ones do, seen by the clients the application uses.

CAS tickets are validated with python-cas, OpenID Connect is spoken with Authlib's client and
its JOSE, exactly as the sign-on code will; each test goes through the provider's own HTML
login form with `requests`, no browser.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cas import CASClient, CASClientV3

from tests.idp.servers import CasServer, LoginFailed, ServerFailed, ServerProcess

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
