"""Campus sign-on (统一身份认证): a campus's CAS server or OpenID provider signs its people in.

The protocols are the libraries' — python-cas validates CAS tickets and reads single-logout
requests, Authlib's Flask client runs the OpenID Connect code flow (PKCE, state, nonce, the ID
token's signature and claims). This module decides what an institution has configured, which
account an identity the campus service returns belongs to, and what each failure is called.
Nothing here creates an account: a person the campus knows but Xinqiao does not is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskIntegration
from authlib.integrations.flask_client import FlaskOAuth2App
from cas import CASClient
from cas import CASClientV2
from cas import CASError
from cas import SingleLogoutMixin
from joserfc.errors import JoseError
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.i18n import N_
from campus.i18n import Message
from campus.models import Institution
from campus.models import SignOn
from campus.models import SignOnProtocol
from campus.models import Student
from campus.models import User
from campus.outcomes import Refused

CAS_VERSIONS = (2, 3)
# An environment variable's name as a shell accepts it.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SignOnFailed(Exception):
    """A sign-on that did not end in a session: `reason` (a key of `FAILURES`) is the audit row's
    word for it, `message` what the person is told, `detail` what only the audit row keeps."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    @property
    def message(self) -> Message:
        return Message(FAILURES[self.reason])


class SignOnConfigError(Refused):
    """A sign-on setting the administrator cannot save; `message` says why."""


FAILURES = {
    "not_configured": N_("Campus sign-on is not set up for this institution."),
    "unreachable": N_(
        "The campus sign-on service did not answer. Try again in a few minutes; if it keeps "
        "happening, tell your institution's IT office."
    ),
    "certificate": N_(
        "The campus sign-on service's security certificate could not be verified, so its answer "
        "was not trusted. Please tell your institution's IT office."
    ),
    "invalid_ticket": N_(
        "The campus sign-on did not confirm this sign-in: the link has been used already or has "
        "expired. Please sign in again."
    ),
    "state": N_(
        "This sign-in was not started on this page or has expired. Please start again from the "
        "sign-in page."
    ),
    "invalid_token": N_(
        "The campus sign-on's answer could not be verified. Please sign in again; if it keeps "
        "happening, tell your institution's IT office."
    ),
    "refused": N_("The campus sign-on did not sign you in."),
    "no_identity": N_(
        "The campus sign-on did not say which account you hold. Please tell your institution's "
        "IT office."
    ),
    "unknown_user": N_(
        "You are signed in at the campus service, but no active Xinqiao account at your "
        "institution has that number. Accounts are not created at sign-in: please ask your "
        "counsellor or the mental health centre to add yours."
    ),
}
# A ticket that has already started a session is refused before the CAS server is asked.
FAILURES["replayed"] = FAILURES["invalid_ticket"]


# --- the configuration -----------------------------------------------------------------------


def sign_on_of(session: Session, institution: Institution) -> SignOn | None:
    return session.scalar(select(SignOn).where(SignOn.institution_id == institution.id))


def enabled_sign_on(session: Session, institution: Institution) -> SignOn | None:
    """The institution's sign-on when it is switched on."""
    config = sign_on_of(session, institution)
    return config if config is not None and config.enabled else None


def institution_by_code(session: Session, code: str) -> Institution | None:
    return session.scalar(select(Institution).where(Institution.code == code.strip().upper()))


def only_university(session: Session) -> Institution | None:
    """The one university this server serves, when there is exactly one (a campus's own
    deployment): its sign-in page needs no institution code to offer the campus sign-on."""
    found = session.scalars(select(Institution).where(Institution.kind == "university").limit(2))
    rows = list(found)
    return rows[0] if len(rows) == 1 else None


@dataclass(frozen=True)
class Settings:
    """What the administrator's form sends, already checked field by field."""

    protocol: SignOnProtocol
    enabled: bool
    server_url: str
    cas_version: int | None
    identity_attribute: str | None
    client_id: str | None
    client_secret_env: str | None
    idp_enforces_mfa: bool
    local_passwords: bool


def check_settings(settings: Settings) -> None:
    """Raise `SignOnConfigError` unless `settings` can sign anyone in: a web address, the fields
    its protocol needs, and a way in for everyone if local passwords go off."""
    parts = urlsplit(settings.server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise SignOnConfigError(
            Message(N_("The server address must be a web address starting with https://."))
        )
    if settings.protocol is SignOnProtocol.CAS and settings.cas_version not in CAS_VERSIONS:
        raise SignOnConfigError(Message(N_("Choose the CAS version the server speaks (2 or 3).")))
    needs_client = not settings.client_id or not settings.client_secret_env
    if settings.protocol is SignOnProtocol.OIDC and needs_client:
        raise SignOnConfigError(
            Message(
                N_(
                    "OpenID Connect needs the client ID and the name of the environment "
                    "variable that holds the client secret."
                )
            )
        )
    if settings.client_secret_env and not _ENV_NAME.match(settings.client_secret_env):
        raise SignOnConfigError(
            Message(
                N_(
                    "The secret's environment variable is named with letters, digits and "
                    "underscores only, e.g. XINQIAO_OIDC_SECRET (the secret itself is never "
                    "entered here)."
                )
            )
        )
    if not settings.local_passwords and not settings.enabled:
        raise SignOnConfigError(
            Message(
                N_(
                    "Local passwords can only be switched off while the campus sign-on is on: "
                    "otherwise nobody could sign in."
                )
            )
        )


def save_settings(
    session: Session, admin: User, institution: Institution, settings: Settings
) -> SignOn:
    """Check and store the institution's sign-on and its local-password switch, audited."""
    check_settings(settings)
    config = sign_on_of(session, institution) or SignOn(institution_id=institution.id)
    config.protocol = settings.protocol
    config.enabled = settings.enabled
    config.server_url = _with_slash(settings.server_url.strip(), settings.protocol)
    is_cas = settings.protocol is SignOnProtocol.CAS
    config.cas_version = settings.cas_version if is_cas else None
    config.identity_attribute = settings.identity_attribute or None
    config.client_id = None if is_cas else settings.client_id
    config.client_secret_env = None if is_cas else settings.client_secret_env
    config.idp_enforces_mfa = settings.idp_enforces_mfa
    config.updated_at = clock.now()
    institution.local_passwords = settings.local_passwords
    session.add(config)
    session.flush()
    audit.record_on(
        session,
        config,
        actor=admin,
        action="configure_sign_on",
        record_type="sign_on",
        detail=(
            f"{config.protocol.value} {config.server_url} enabled={config.enabled} "
            f"local_passwords={settings.local_passwords}"
        )[:500],
    )
    session.commit()
    return config


def _with_slash(url: str, protocol: SignOnProtocol) -> str:
    """A CAS base URL ends in a slash (python-cas joins `login`, `serviceValidate` to it); an
    issuer is compared character for character with the provider's, so it is kept as entered."""
    if protocol is SignOnProtocol.CAS and not url.endswith("/"):
        return url + "/"
    return url


def client_secret(config: SignOn) -> str | None:
    """The OpenID client secret from the server's environment, never from the database."""
    return os.environ.get(config.client_secret_env) if config.client_secret_env else None


# --- the protocols ---------------------------------------------------------------------------


class _TimedSession(requests.Session):
    """A requests session whose every call gives up after `timeout` seconds: python-cas sets no
    timeout, and a campus server that hangs must not hang a sign-in with it."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def cas_client(config: SignOn, service_url: str, http: requests.Session) -> CASClientV2:
    """python-cas's client for the institution's server, calling it through `http` (which the
    caller closes)."""
    return CASClient(
        version=config.cas_version or 3,
        service_url=service_url,
        server_url=config.server_url,
        session=http,
    )


def cas_login_url(config: SignOn, service_url: str) -> str:
    with requests.Session() as unused:  # building the address calls nobody
        return cas_client(config, service_url, unused).get_login_url()


def cas_identity(config: SignOn, service_url: str, ticket: str, timeout: float) -> str:
    """The login the CAS server confirms `ticket` for (the user, or the configured attribute)."""
    with _TimedSession(timeout) as http, protocol_errors("invalid_ticket"):
        user, attributes, _pgtiou = cas_client(config, service_url, http).verify_ticket(ticket)
    if not user:
        raise SignOnFailed("invalid_ticket")
    if config.identity_attribute:
        return _identity_in(attributes or {}, config.identity_attribute)
    return user


def cas_logged_out_ticket(logout_request: str) -> str | None:
    """The service ticket a CAS single-logout request (a SAML LogoutRequest) names."""
    # As bytes: lxml refuses a str that declares its own encoding, as a CAS server's may.
    found = SingleLogoutMixin.get_saml_slos(logout_request.encode())
    if not found:
        return None
    text = found[0].text
    return text.strip() if isinstance(text, str) and text.strip() else None


def oidc_client(config: SignOn, timeout: float) -> FlaskOAuth2App:
    """Authlib's client for the institution's provider: the code flow with PKCE (S256), state and
    nonce kept in the signed session cookie, every call given up after `timeout` seconds."""
    name = f"signon{config.institution_id}"
    return FlaskOAuth2App(
        FlaskIntegration(name),
        name,
        client_id=config.client_id,
        client_secret=client_secret(config),
        server_metadata_url=config.server_url.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "default_timeout": timeout,
        },
    )


def oidc_identity(config: SignOn, token: dict[str, Any]) -> str:
    """The login in the verified ID token's claims (`preferred_username` unless configured)."""
    claims = token.get("userinfo")
    if not isinstance(claims, dict):
        raise SignOnFailed("invalid_token")
    return _identity_in(claims, config.identity_attribute or "preferred_username")


def _identity_in(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str | int) or not str(value).strip():
        raise SignOnFailed("no_identity")
    return str(value).strip()


@contextmanager
def protocol_errors(otherwise: str) -> Iterator[None]:
    """Turn what the libraries raise on a bad answer into the `SignOnFailed` it means: an
    unreachable or timed-out server, a certificate that does not verify, or `otherwise` (a
    refused ticket, a token that does not verify)."""
    try:
        yield
    except MismatchingStateError as error:
        raise SignOnFailed("state") from error
    except requests.exceptions.SSLError as error:
        raise SignOnFailed("certificate") from error
    except requests.RequestException as error:
        raise SignOnFailed("unreachable") from error
    # A CAS answer that is not the XML it should be fails in the parser or in python-cas's walk.
    except (CASError, ParseError, IndexError, AttributeError) as error:
        raise SignOnFailed(otherwise) from error
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        raise SignOnFailed(otherwise) from error
    except RuntimeError as error:  # Authlib: the provider's metadata lacks an endpoint
        raise SignOnFailed("unreachable") from error


def connection_report(config: SignOn, timeout: float) -> tuple[bool, Message]:
    """Whether the campus service answers, in plain words: the CAS login page, or the OpenID
    discovery document (whose issuer must be the one configured)."""
    try:
        if config.protocol is SignOnProtocol.CAS:
            with _TimedSession(timeout) as http, protocol_errors("unreachable"):
                page = http.get(config.server_url + "login")
            if page.status_code != 200:
                return False, Message(
                    N_("The CAS server answered, but its login page gave error %(status)s."),
                    status=page.status_code,
                )
            return True, Message(N_("The CAS server answered: its login page is there."))
        with protocol_errors("unreachable"):
            metadata = oidc_client(config, timeout).load_server_metadata()
    except SignOnFailed as failure:
        return False, failure.message
    if metadata.get("issuer") != config.server_url:
        return False, Message(
            N_(
                "The provider answered, but it calls itself %(issuer)s: enter exactly that as "
                "the issuer."
            ),
            issuer=str(metadata.get("issuer")),
        )
    if config.client_secret_env and client_secret(config) is None:
        return False, Message(
            N_(
                "The provider answered, but the environment variable %(name)s is not set on this "
                "server, so sign-in cannot prove who Xinqiao is."
            ),
            name=config.client_secret_env,
        )
    return True, Message(N_("The OpenID provider answered with its configuration."))


# --- whom an identity is ---------------------------------------------------------------------


def account_for(session: Session, institution: Institution, identity: str) -> User | None:
    """The active account of `institution` whose login is `identity`, or whose student number
    it is; None for anyone else (another institution's, a deactivated or unknown account)."""
    by_login = select(User).where(
        User.institution_id == institution.id, User.login == identity, User.active.is_(True)
    )
    user = session.scalar(by_login)
    if user is not None:
        return user
    return session.scalar(
        select(User)
        .join(Student, Student.user_id == User.id)
        .where(
            Student.institution_id == institution.id,
            func.upper(Student.student_number) == identity.upper(),
            User.institution_id == institution.id,
            User.active.is_(True),
        )
    )


def record_failure(
    session: Session, institution: Institution, protocol: str, failure: SignOnFailed
) -> None:
    """The audit row of a sign-on that started no session, committed."""
    detail = failure.detail
    if failure.__cause__ is not None:  # what the library raised, e.g. ConnectTimeout
        detail = f"{detail} {type(failure.__cause__).__name__}".strip()
    audit.record_on(
        session,
        institution,
        actor=None,
        action="sign_on",
        record_type="institution",
        outcome="denied",
        detail=f"{protocol}: {failure.reason} {detail}".strip()[:500],
    )
    session.commit()


def logout_url(config: SignOn, id_token: str | None, return_to: str, timeout: float) -> str:
    """Where the browser goes to end its campus sign-on too: the CAS server's logout (with the
    page to come back to), or the provider's end-session endpoint with the ID token as hint."""
    if config.protocol is SignOnProtocol.CAS:
        with requests.Session() as unused:  # building the address calls nobody
            return cas_client(config, return_to, unused).get_logout_url(return_to)
    with protocol_errors("unreachable"):
        made = oidc_client(config, timeout).create_logout_url(
            post_logout_redirect_uri=return_to, id_token_hint=id_token
        )
    return str(made["url"])


def record_connection_test(session: Session, admin: User, config: SignOn, answered: bool) -> None:
    audit.record_on(
        session,
        config,
        actor=admin,
        action="test_sign_on",
        record_type="sign_on",
        outcome="ok" if answered else "failed",
    )
    session.commit()
