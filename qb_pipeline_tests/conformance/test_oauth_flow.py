"""intuit-oauth and python-quickbooks against the emulator's OAuth endpoints, unchanged.

Real: discovery from ``environment=<discovery URL>``, the authorization URL intuitlib builds,
the 302 back to the app's redirect URI (not followed: nothing listens there), the code
exchange, refresh with rotation (the old refresh token then fails), ``QuickBooks(...)``
refreshing on construction, revoke, and python-quickbooks' ``AuthorizationException`` on 401.
Faked: consent is automatic; the emulator-only ``realm_id`` parameter appended to the
authorization URL stands in for picking the company in Intuit's browser page.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects.customer import Customer

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline_tests.conformance.conftest import CALLBACK, auth_client


def test_authorization_code_exchange(server: EmulatorServer, books: Books) -> None:
    client = auth_client(server)
    url = client.get_authorization_url([Scopes.ACCOUNTING]) + f"&realm_id={books.realm_id}"
    redirect = httpx.get(url, follow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(CALLBACK + "?")
    callback = parse_qs(urlsplit(location).query)
    assert callback["state"] == [client.state_token]
    assert callback["realmId"] == [books.realm_id]

    client.get_bearer_token(callback["code"][0], realm_id=callback["realmId"][0])
    assert client.realm_id == books.realm_id
    assert client.expires_in == 3600
    assert client.access_token and client.refresh_token
    assert client.id_token is None  # no openid scope, no id_token
    counters = server.emulator.oauth.counters(books.realm_id)
    assert counters["authorization_code_exchanges"] == 1

    with pytest.raises(AuthClientError) as reused:  # auth codes are single-use
        client.get_bearer_token(callback["code"][0], realm_id=books.realm_id)
    assert reused.value.status_code == 400


def test_refresh_rotates_and_old_token_fails(server: EmulatorServer, books: Books) -> None:
    grant = server.emulator.oauth.issue_tokens(books.realm_id)
    client = auth_client(server)
    client.refresh(refresh_token=grant["refresh_token"])
    assert client.refresh_token != grant["refresh_token"]
    assert client.access_token != grant["access_token"]
    assert server.emulator.oauth.counters(books.realm_id)["refreshes"] == 1

    with pytest.raises(AuthClientError) as stale:
        client.refresh(refresh_token=grant["refresh_token"])
    assert stale.value.status_code == 400
    assert b"invalid_grant" in stale.value.content
    newest = client.refresh_token
    client.refresh()  # the newest token still works
    assert client.refresh_token != newest


def test_quickbooks_construction_refreshes(server: EmulatorServer, books: Books) -> None:
    grant = server.emulator.oauth.issue_tokens(books.realm_id)
    client = auth_client(server)
    qb = QuickBooks(
        auth_client=client,
        refresh_token=grant["refresh_token"],
        company_id=books.realm_id,
        minorversion=75,
    )
    assert server.emulator.oauth.counters(books.realm_id)["refreshes"] == 1
    assert qb.refresh_token == client.refresh_token != grant["refresh_token"]
    assert qb.api_url == f"{server.url}/v3"
    assert Customer.count(qb=qb) == 0


def test_revoked_realm_answers_401(em: Emulator, qb: QuickBooks, books: Books) -> None:
    assert Customer.all(qb=qb) == []
    assert em.oauth.revoke_realm(books.realm_id) == 1
    with pytest.raises(AuthorizationException) as denied:
        Customer.all(qb=qb)
    assert denied.value.error_code == 401
    assert "errorCode=003200" in denied.value.detail
    assert em.realms[books.realm_id].objects["Customer"] == {}


def test_revoke_through_intuitlib(server: EmulatorServer, books: Books) -> None:
    grant = server.emulator.oauth.issue_tokens(books.realm_id)
    client = auth_client(server)
    client.refresh(refresh_token=grant["refresh_token"])
    assert client.revoke() is True
    assert books.realm_id not in server.emulator.oauth.connected_realms()
    with pytest.raises(AuthClientError) as revoked:
        client.refresh()
    assert revoked.value.status_code == 400
