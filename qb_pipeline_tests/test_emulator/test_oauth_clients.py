"""Real third-party OAuth clients against the emulator's OAuth routes over real HTTP.

intuit-oauth (``intuitlib.AuthClient``) runs unchanged but for its discovery URL: discovery,
authorization URL, the redirect (followed with httpx), code exchange with id_token validation
(intuitlib fetches the JWKS and checks signature, issuer and audience), refresh with rotation,
UserInfo and revoke. python-quickbooks refreshes on construction through the same AuthClient.
Faked: the authorize step consents without a login page; the server is uvicorn on a free
loopback port in a thread, serving only the OAuth routes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from starlette.applications import Starlette

from qb_pipeline.emulator.clock import Clock
from qb_pipeline.emulator.config import EmulatorConfig, OAuthClient
from qb_pipeline.emulator.oauth import OAuthServer
from qb_pipeline.emulator.oauth_routes import ROUTES

REALM = "9130357766900042"
CALLBACK = "http://localhost:8000/callback"
APP = OAuthClient("intuitlib-id", "intuitlib-secret", [CALLBACK])


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, OAuthServer]]:
    """Base URL of a uvicorn server with the OAuth routes, and its OAuthServer."""
    config = EmulatorConfig(clients=[APP])
    clock = Clock()
    oauth = OAuthServer(config, clock)
    app = Starlette(routes=ROUTES)
    app.state.emulator = SimpleNamespace(
        oauth=oauth, clock=clock, config=config, realm_ids=lambda: [REALM]
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", oauth
    server.should_exit = True
    thread.join(timeout=10)


def connect(base_url: str, scopes: list[Scopes]) -> AuthClient:
    """The whole connect flow as an app runs it with intuitlib, up to get_bearer_token."""
    client = AuthClient(
        APP.client_id,
        APP.client_secret,
        CALLBACK,
        environment=f"{base_url}/.well-known/openid_configuration",
    )
    url = client.get_authorization_url(scopes)
    redirect = httpx.get(url, follow_redirects=False)
    assert redirect.status_code == 302
    callback = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert callback["state"] == [client.state_token]
    client.get_bearer_token(callback["code"][0], realm_id=callback["realmId"][0])
    return client


def test_intuitlib_full_flow(emulator: tuple[str, OAuthServer]) -> None:
    base_url, oauth = emulator
    client = connect(base_url, [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL])
    assert client.token_endpoint == f"{base_url}/oauth2/v1/tokens/bearer"
    assert client.realm_id == REALM
    assert client.expires_in == 3600
    assert client.x_refresh_token_expires_in == 100 * 86400
    assert client.id_token is not None  # set only when intuitlib's validation passed
    assert oauth.check_bearer(f"Bearer {client.access_token}", REALM).ok

    info = client.get_user_info()
    assert info.status_code == 200
    assert info.json()["email"] == f"admin+{REALM}@example.com"

    old_refresh_token = client.refresh_token
    client.refresh()
    assert client.refresh_token != old_refresh_token
    with pytest.raises(AuthClientError) as stale:
        client.refresh(refresh_token=old_refresh_token)
    assert stale.value.status_code == 400
    assert stale.value.intuit_tid
    assert b"Incorrect or invalid refresh token" in stale.value.content

    assert client.revoke() is True
    assert not oauth.check_bearer(f"Bearer {client.access_token}", REALM).ok
    with pytest.raises(AuthClientError) as revoked:
        client.refresh()
    assert revoked.value.status_code == 400


def test_intuitlib_bad_secret_is_401(emulator: tuple[str, OAuthServer]) -> None:
    base_url, _ = emulator
    client = AuthClient(
        APP.client_id, "wrong", CALLBACK, f"{base_url}/.well-known/openid_sandbox_configuration/"
    )
    with pytest.raises(AuthClientError) as denied:
        client.refresh(refresh_token="AB11" + "0" * 46)
    assert denied.value.status_code == 401
    assert denied.value.content == b'{"error":"invalid_client"}'


def test_python_quickbooks_refreshes_on_construction(emulator: tuple[str, OAuthServer]) -> None:
    base_url, oauth = emulator
    granted = oauth.issue_tokens(REALM, APP.client_id)
    before = oauth.counters(REALM)["refreshes"]
    auth_client = AuthClient(
        APP.client_id, APP.client_secret, CALLBACK, f"{base_url}/.well-known/openid_configuration"
    )
    qb = QuickBooks(
        auth_client=auth_client,
        refresh_token=granted["refresh_token"],
        company_id=REALM,
        minorversion=75,
    )
    assert oauth.counters(REALM)["refreshes"] == before + 1
    assert qb.refresh_token == auth_client.refresh_token != granted["refresh_token"]
    assert oauth.check_bearer(f"Bearer {auth_client.access_token}", REALM).ok
