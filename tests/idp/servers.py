"""Real identity providers for the sign-on tests, each run as a gunicorn subprocess on loopback.

`CasServer` is django-mama-cas in the throwaway Django project `cas_project/`; `OidcProvider` is
Authlib's authorization server in the small Flask app `oidc_app/`. Both listen on a socket this
process binds (127.0.0.1, a free port) and hands to gunicorn, so the port is known before the
server starts and nothing can take it in between. Start them through the fixtures in
`tests/idp/fixtures.py`; see `tests/idp/README.md` for the contract.
"""

from __future__ import annotations

import ctypes
import datetime
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import lxml.html
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
STARTUP_SECONDS = 60
ADMIN_HEADER = "X-Idp-Admin-Token"


class ServerFailed(RuntimeError):
    """A test server did not come up, or a request to its admin endpoint failed (with its log)."""


class LoginFailed(AssertionError):
    """The provider's login form did not sign the person in (wrong password, unknown user)."""


# prctl from the C library, looked up here: the child may only make the call, not load anything.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM the server if the test process dies without stopping
    it (killed by a timeout, say), so no test IdP outlives the run."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 (not yet listening)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class ServerProcess:
    """One gunicorn process serving `wsgi_app` (a "module:callable" under `tests/idp/`).

    One worker with threads: the OIDC provider keeps its signing key in the worker, and a CAS
    single-logout call from the server to an application must not block other requests.
    """

    def __init__(
        self,
        name: str,
        wsgi_app: str,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.name = name
        self.wsgi_app = wsgi_app
        self.data_dir = data_dir
        self.tls = tls
        self.admin_token = secrets.token_urlsafe(24)
        self.log_path = data_dir / f"{name}.log"
        self._sock = loopback_socket()
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if tls else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "IDP_DATA_DIR": str(data_dir),
            "IDP_ADMIN_TOKEN": self.admin_token,
            "IDP_BASE_URL": self.base_url,
            "PYTHONPATH": str(HERE),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def verify(self) -> str | bool:
        """What `requests` needs to trust this server: its own certificate, if it has one."""
        return str(self.tls[0]) if self.tls else True

    def run_once(self, *args: str) -> None:
        """Run a setup command (e.g. Django's migrate) in the server's environment, or fail."""
        with self.log_path.open("ab") as log:
            try:
                done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
                    [sys.executable, *args],
                    cwd=HERE,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=STARTUP_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise ServerFailed(
                    f"{self.name}: {' '.join(args)} timed out\n{self.log()}"
                ) from None
        if done.returncode != 0:
            raise ServerFailed(f"{self.name}: {' '.join(args)} failed\n{self.log()}")

    def start(self, ready_path: str) -> None:
        """Start gunicorn and wait until `ready_path` answers 200; fail with the log if not."""
        self._sock.listen(64)
        fd = self._sock.fileno()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"fd://{fd}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--graceful-timeout",
            "3",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "--chdir",
            str(HERE),
        ]
        if self.tls:
            command += ["--certfile", str(self.tls[0]), "--keyfile", str(self.tls[1])]
        command.append(self.wsgi_app)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                command,
                cwd=HERE,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(fd,),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        # gunicorn has its own copy of the listening socket; once it is gone, the port is closed.
        self._sock.close()
        self._wait_until_ready(self.base_url + ready_path)

    def _wait_until_ready(self, url: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        error: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise ServerFailed(
                    f"{self.name} exited with {self._process.returncode}\n{self.log()}"
                )
            try:
                if requests.get(url, timeout=2, verify=self.verify).status_code == 200:
                    return
            except requests.RequestException as exc:
                error = exc
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer {url}: {error}\n{self.log()}")

    def stop(self) -> None:
        """Stop gunicorn (and its worker), then kill them if they linger."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20_000:]
        except FileNotFoundError:
            return "(no log)"

    def admin_post(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST to the server's test-only admin endpoint; fail with the log on an error."""
        response = requests.post(
            self.base_url + path,
            json=payload,
            headers={ADMIN_HEADER: self.admin_token},
            timeout=10,
            verify=self.verify,
        )
        if response.status_code != 200:
            raise ServerFailed(
                f"{self.name} {path}: {response.status_code} {response.text[:500]}\n{self.log()}"
            )
        result: dict[str, Any] = response.json()
        return result


def submit_login_form(
    session: requests.Session,
    page: requests.Response,
    fields: Mapping[str, str],
    verify: str | bool = True,
) -> requests.Response:
    """Fill the page's form that has a password field, as a browser would, and POST it.

    Hidden fields (CSRF tokens, the request's parameters) are kept; redirects are not followed, so
    the caller reads where the provider sends the browser.
    """
    document = lxml.html.fromstring(page.text, base_url=page.url)
    forms = [form for form in document.forms if form.xpath(".//input[@type='password']")]
    if not forms:
        raise LoginFailed(f"no login form at {page.url}: {page.status_code} {page.text[:500]}")
    form = forms[0]
    values = dict(form.form_values())
    values.update(fields)
    action = urljoin(page.url, form.get("action") or page.url)
    return session.post(
        action,
        data=values,
        allow_redirects=False,
        headers={"Referer": page.url},
        timeout=10,
        verify=verify,
    )


def login_page_errors(response: requests.Response) -> str:
    """The text of a login page the provider showed again (its error message among it)."""
    document = lxml.html.fromstring(response.text)
    for element in document.xpath("//style | //script | //head"):
        element.drop_tree()
    alerts = document.xpath(
        "//*[contains(@class, 'error') or contains(@class, 'alert') or @role='alert']"
    )
    text = " ".join(element.text_content() for element in alerts) or document.text_content()
    return " ".join(text.split())[:500]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and localhost, signed by its own key.

    No client trusts it unless told to (its path is the trust anchor), which is what the
    application's "wrong certificate" path needs.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Xinqiao test IdP")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "idp-cert.pem", folder / "idp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class CasServer:
    """django-mama-cas (CAS 1/2/3) at `.url`, e.g. http://127.0.0.1:PORT/cas/.

    Any service URL on 127.0.0.1 or localhost may ask for tickets; users' attributes are released
    by /serviceValidate and /p3/serviceValidate; signing out at `.url + "logout"` POSTs a SAML
    LogoutRequest (form field `logoutRequest`) to every service the user got a ticket for.
    """

    def __init__(self, data_dir: Path, tls: tuple[Path, Path] | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ServerProcess(
            "cas",
            "cas_project.wsgi:application",
            data_dir,
            tls=tls,
            env={"DJANGO_SETTINGS_MODULE": "cas_project.settings"},
        )
        self.url = self.process.base_url + "/cas/"
        self.ca_file: str | None = str(tls[0]) if tls else None

    def start(self) -> CasServer:
        self.process.run_once("-m", "django", "migrate", "--run-syncdb", "--verbosity", "0")
        self.process.start("/_admin/ready")
        return self

    def stop(self) -> None:
        self.process.stop()

    def add_user(self, username: str, password: str, **attributes: Any) -> None:
        """Create (or replace) a user; `attributes` are released to services (a list: repeated)."""
        self.process.admin_post(
            "/_admin/users",
            {"username": username, "password": password, "attributes": attributes},
        )

    def login(
        self, session: requests.Session, service_url: str, username: str, password: str
    ) -> str:
        """Sign in through the CAS login form; return the service URL with `?ticket=ST-…`.

        If `session` already has a CAS single sign-on session, no form is shown and the ticket
        comes at once.
        """
        page = session.get(
            self.url + "login",
            params={"service": service_url},
            allow_redirects=False,
            timeout=10,
            verify=self.process.verify,
        )
        if page.is_redirect:
            return page.headers["Location"]
        answer = submit_login_form(
            session, page, {"username": username, "password": password}, self.process.verify
        )
        if not answer.is_redirect:
            raise LoginFailed(f"CAS did not sign {username} in: {login_page_errors(answer)}")
        return answer.headers["Location"]

    def logout(self, session: requests.Session, service_url: str | None = None) -> None:
        """End the CAS session; the server sends single-logout requests before answering."""
        session.get(
            self.url + "logout",
            params={"service": service_url} if service_url else None,
            allow_redirects=False,
            timeout=30,
            verify=self.process.verify,
        )


class OidcProvider:
    """Authlib's OpenID Connect provider with `.issuer` = http://127.0.0.1:PORT.

    Discovery at `.issuer + "/.well-known/openid-configuration"`; authorization code flow only,
    PKCE (S256) and a nonce required, id_tokens signed RS256 (key in /jwks, `kid` in the header),
    /userinfo, and RP-initiated logout at the `end_session_endpoint` (/logout).
    """

    def __init__(self, data_dir: Path, tls: tuple[Path, Path] | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = ServerProcess(
            "oidc",
            "oidc_app.app:application",
            data_dir,
            tls=tls,
            # Authlib refuses plain http unless told; this provider listens on loopback only.
            env={} if tls else {"AUTHLIB_INSECURE_TRANSPORT": "1"},
        )
        self.ca_file: str | None = str(tls[0]) if tls else None
        self.issuer = self.process.base_url
        self.discovery_url = self.issuer + "/.well-known/openid-configuration"
        self.end_session_endpoint = self.issuer + "/logout"

    def start(self) -> OidcProvider:
        self.process.start("/_admin/ready")
        return self

    def stop(self) -> None:
        self.process.stop()

    def register_client(
        self,
        redirect_uris: list[str] | tuple[str, ...],
        post_logout_redirect_uris: list[str] | tuple[str, ...] = (),
        token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - a method name
    ) -> tuple[str, str]:
        """A new confidential client; returns (client_id, client_secret)."""
        answer = self.process.admin_post(
            "/_admin/clients",
            {
                "redirect_uris": list(redirect_uris),
                "post_logout_redirect_uris": list(post_logout_redirect_uris),
                "token_endpoint_auth_method": token_endpoint_auth_method,
            },
        )
        return answer["client_id"], answer["client_secret"]

    def add_user(self, sub: str, password: str, **claims: Any) -> None:
        """Create (or replace) a user who signs in as `sub`; `claims` go into the id_token and
        /userinfo whatever the scope (e.g. preferred_username, name, student_number)."""
        self.process.admin_post(
            "/_admin/users", {"sub": sub, "password": password, "claims": claims}
        )

    def login(
        self, session: requests.Session, authorize_url: str, username: str, password: str
    ) -> str:
        """Follow `authorize_url` (the application's redirect), post the provider's login form;
        return the callback URL the browser is sent to (`redirect_uri?code=…&state=…`, or
        `?error=…` when the provider refuses the request). A session already signed in at the
        provider gets the callback without the form.
        """
        page = session.get(
            authorize_url, allow_redirects=False, timeout=10, verify=self.process.verify
        )
        if page.is_redirect:
            return page.headers["Location"]
        answer = submit_login_form(
            session, page, {"username": username, "password": password}, self.process.verify
        )
        if not answer.is_redirect:
            raise LoginFailed(f"OIDC did not sign {username} in: {login_page_errors(answer)}")
        return answer.headers["Location"]

    def logout(self, session: requests.Session, end_session_url: str) -> requests.Response:
        """Follow an RP-initiated logout URL (the application's redirect to `/logout?…`).

        With a valid `id_token_hint` the provider signs out at once and redirects to the
        registered `post_logout_redirect_uri` (the returned response is that 302); without one it
        asks for confirmation, which this helper gives by posting the form.
        """
        verify = self.process.verify
        answer = session.get(end_session_url, allow_redirects=False, timeout=10, verify=verify)
        if answer.status_code == 200 and "<form" in answer.text:
            document = lxml.html.fromstring(answer.text, base_url=answer.url)
            action = urljoin(answer.url, document.forms[0].get("action") or answer.url)
            answer = session.post(action, allow_redirects=False, timeout=10, verify=verify)
        return answer
