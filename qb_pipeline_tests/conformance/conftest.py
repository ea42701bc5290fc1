"""Fixtures for driving the emulator with real third-party QBO clients, unchanged.

Real: python-quickbooks 0.9.12 and intuit-oauth 1.2.6 talk HTTP to an EmulatorServer on a free
loopback port. The only changes a user would make to reach a sandbox are made here: intuitlib
gets the emulator's discovery URL as its ``environment``, python-quickbooks' class attribute
``api_url_v3`` points at ``{server.url}/v3`` (restored after the session), and
``OAUTHLIB_INSECURE_TRANSPORT=1`` lets requests-oauthlib speak plain http to loopback.
Faked: the grant behind ``qb`` comes from the emulator's back door (the browser dance has its
own test in test_oauth_flow.py); each test gets a fresh company. Throttles start switched off
(python-quickbooks has no retry, so a sequential test would trip QBO's 10 requests/second);
test_throttle.py switches them on to see the 429 as the client surfaces it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.config import EmulatorConfig, LimitsConfig

CALLBACK = "http://localhost:8000/callback"


@pytest.fixture(scope="session")
def server() -> Iterator[EmulatorServer]:
    """One emulator over real HTTP for the whole conformance run, clients pointed at it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        config = EmulatorConfig(limits=LimitsConfig(enabled=False))
        running = EmulatorServer(config=config).start()
        patch.setattr(QuickBooks, "api_url_v3", f"{running.url}/v3")
        patch.setattr(QuickBooks, "sandbox_api_url_v3", f"{running.url}/v3")
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture
def em(server: EmulatorServer) -> Emulator:
    return server.emulator


@pytest.fixture
def books(em: Emulator) -> Iterator[Books]:
    """A fresh empty company (starter chart: Item 1 "Services", accounts, terms)."""
    company = em.create_realm()
    yield company
    em.delete_realm(company.realm_id)


def auth_client(server: EmulatorServer) -> AuthClient:
    """intuitlib's AuthClient exactly as an app builds it, but for the discovery URL."""
    client = server.emulator.config.clients[0]
    return AuthClient(
        client.client_id, client.client_secret, CALLBACK, environment=server.discovery_url
    )


def connect(server: EmulatorServer, realm_id: str) -> QuickBooks:
    """A QuickBooks client built from a refresh token, as an app does after onboarding."""
    grant = server.emulator.oauth.issue_tokens(realm_id)
    return QuickBooks(
        auth_client=auth_client(server),
        refresh_token=grant["refresh_token"],
        company_id=realm_id,
        minorversion=75,
    )


@pytest.fixture
def qb(server: EmulatorServer, books: Books) -> QuickBooks:
    return connect(server, books.realm_id)
