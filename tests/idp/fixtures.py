"""Pytest plugin: real identity providers, started only when a test asks for one.

Registered from `tests/conftest.py` (`pytest_plugins`). Every fixture is session-scoped and lazy:
the first test that names it starts the server, the session's end stops it, and a run that
names none starts nothing. The contract is in `tests/idp/README.md`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.idp.servers import CasServer
from tests.idp.servers import OidcProvider
from tests.idp.servers import loopback_socket
from tests.idp.servers import self_signed_certificate


@pytest.fixture(scope="session")
def cas_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CasServer]:
    """django-mama-cas over http on a free loopback port (see `CasServer`)."""
    server = CasServer(tmp_path_factory.mktemp("cas"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def idp_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) PEM files of a throwaway self-signed certificate for 127.0.0.1."""
    return self_signed_certificate(tmp_path_factory.mktemp("idp-tls"))


@pytest.fixture(scope="session")
def cas_server_tls(
    tmp_path_factory: pytest.TempPathFactory, idp_certificate: tuple[Path, Path]
) -> Iterator[CasServer]:
    """A second CAS server, over https with a self-signed certificate no client trusts.

    `.url` starts with https://; `.ca_file` is the certificate, for a test that trusts it.
    """
    server = CasServer(tmp_path_factory.mktemp("cas-tls"), tls=idp_certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def idp_down_url() -> Iterator[str]:
    """The base URL of an identity provider that is down: connections are refused at once.

    The port stays bound (not listening) for the session, so nothing else can take it.
    """
    sock = loopback_socket()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


@pytest.fixture(scope="session")
def idp_silent_url() -> Iterator[str]:
    """The base URL of a provider that accepts connections and never answers (a hung server).

    A client without a timeout waits forever here: use it to test that the application's does.
    """
    sock = loopback_socket()
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """Authlib's OpenID Connect provider over http on a free loopback port (see `OidcProvider`)."""
    provider = OidcProvider(tmp_path_factory.mktemp("oidc"))
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def oidc_provider_tls(
    tmp_path_factory: pytest.TempPathFactory, idp_certificate: tuple[Path, Path]
) -> Iterator[OidcProvider]:
    """A second OpenID provider, over https with the self-signed certificate no client trusts.

    `.issuer` starts with https://; `.ca_file` is the certificate, for a test that trusts it.
    """
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-tls"), tls=idp_certificate)
    provider.start()
    yield provider
    provider.stop()
