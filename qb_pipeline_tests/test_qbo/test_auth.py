"""OAuthApp against the emulator's OAuth endpoints over real HTTP.

Real: discovery, the authorization redirect (state, PKCE S256), code exchange, refresh with
rotation, revoke, and the error answers (invalid_grant, invalid_client) as the emulator sends them.
Faked: consent (the emulator redirects at once; its ``realm_id`` parameter picks the company);
5xx answers and the 401-then-retry of BearerTokenAuth come from ``httpx.MockTransport``.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.qbo.auth import (
    AuthorizationRequest,
    BearerTokenAuth,
    OAuthApp,
    OAuthConfigError,
    OAuthEndpoints,
    StateMismatch,
    TokenSet,
)
from qb_pipeline.qbo.errors import AuthError, RealmDisconnected, TransientError
from qb_pipeline.qbo.loopback import CallbackListener, follow_authorization

CLIENT_ID, CLIENT_SECRET = "emulator-client-id", "emulator-client-secret"
REDIRECT = "http://127.0.0.1:8999/callback"


@pytest.fixture
def app(server: EmulatorServer) -> Iterator[OAuthApp]:
    with OAuthApp(
        CLIENT_ID, CLIENT_SECRET, REDIRECT, discovery_url=server.discovery_url, use_pkce=True
    ) as oauth_app:
        yield oauth_app


def consent(request: AuthorizationRequest) -> dict[str, str]:
    """What the browser would bring back: the emulator's redirect, not followed."""
    redirect = httpx.get(request.url, follow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_endpoints_come_from_the_discovery_document(server: EmulatorServer, app: OAuthApp) -> None:
    assert app.endpoints == OAuthEndpoints(
        f"{server.url}/connect/oauth2",
        f"{server.url}/oauth2/v1/tokens/bearer",
        f"{server.url}/v2/oauth2/tokens/revoke",
    )


def test_authorization_url_carries_state_and_pkce_s256(app: OAuthApp) -> None:
    first, second = app.authorization_url("123"), app.authorization_url()
    query = {k: v[0] for k, v in parse_qs(urlsplit(first.url).query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["response_type"] == "code"
    assert query["scope"] == "com.intuit.quickbooks.accounting"
    assert query["redirect_uri"] == REDIRECT
    assert query["state"] == first.state
    assert query["realm_id"] == "123"
    assert query["code_challenge_method"] == "S256"
    assert first.code_verifier is not None
    digest = hashlib.sha256(first.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert first.state != second.state and first.code_verifier != second.code_verifier
    assert "realm_id" not in parse_qs(urlsplit(second.url).query)
    assert first.code_verifier not in repr(first)


def test_no_pkce_unless_asked(server: EmulatorServer) -> None:
    with OAuthApp(CLIENT_ID, CLIENT_SECRET, REDIRECT, discovery_url=server.discovery_url) as plain:
        request = plain.authorization_url()
    assert request.code_verifier is None
    assert "code_challenge" not in request.url


def test_code_exchange_end_to_end(server: EmulatorServer, books: Books, app: OAuthApp) -> None:
    request = app.authorization_url(books.realm_id)
    before = datetime.now(UTC)
    tokens = app.exchange_code(request, consent(request))
    assert tokens.realm_id == books.realm_id
    assert tokens.access_token and tokens.refresh_token
    assert before + timedelta(minutes=59) < tokens.access_expires_at
    assert tokens.access_expires_at < before + timedelta(minutes=61)
    assert tokens.refresh_expires_at is not None and tokens.refresh_hard_expires_at is not None
    assert tokens.refresh_expires_at - before > timedelta(days=99)
    assert tokens.refresh_hard_expires_at - before > timedelta(days=5 * 365 - 1)
    assert all(t.tzinfo is not None for t in (tokens.access_expires_at, tokens.refresh_expires_at))
    counters = server.emulator.oauth.counters(books.realm_id)
    assert counters["authorization_code_exchanges"] == 1
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert tokens.access_token not in str(tokens)


def test_state_mismatch_is_refused_before_any_token_request(
    server: EmulatorServer, books: Books, app: OAuthApp
) -> None:
    request = app.authorization_url(books.realm_id)
    callback = consent(request) | {"state": "forged"}
    with pytest.raises(StateMismatch, match="state mismatch"):
        app.exchange_code(request, callback)
    other = app.authorization_url(books.realm_id)  # a callback of another attempt
    with pytest.raises(StateMismatch):
        app.exchange_code(other, consent(request))
    assert server.emulator.oauth.counters(books.realm_id)["token_requests"] == 0


def test_wrong_pkce_verifier_is_invalid_grant(books: Books, app: OAuthApp) -> None:
    request = app.authorization_url(books.realm_id)
    callback = consent(request)
    forged = AuthorizationRequest(request.url, request.state, "x" * 64)
    with pytest.raises(RealmDisconnected) as raised:
        app.exchange_code(forged, callback)
    assert raised.value.code == "invalid_grant"
    assert callback["code"] not in str(raised.value)


def test_denied_or_incomplete_callback(app: OAuthApp) -> None:
    request = app.authorization_url()
    with pytest.raises(AuthError, match="not granted: access_denied"):
        app.exchange_code(request, {"error": "access_denied", "state": request.state})
    with pytest.raises(AuthError, match="lacks"):
        app.exchange_code(request, {"state": request.state, "realmId": "1"})


def test_refresh_rotates_and_the_old_token_is_invalid_grant(
    server: EmulatorServer, books: Books, app: OAuthApp
) -> None:
    grant = server.emulator.oauth.issue_tokens(books.realm_id)
    fresh = app.refresh(grant["refresh_token"], realm_id=books.realm_id)
    assert fresh.refresh_token != grant["refresh_token"]
    assert fresh.access_token != grant["access_token"]
    assert fresh.refresh_hard_expires_at is not None  # the hard-expiry header was sent
    with pytest.raises(RealmDisconnected) as raised:
        app.refresh(grant["refresh_token"], realm_id=books.realm_id)
    assert raised.value.realm_id == books.realm_id
    assert grant["refresh_token"] not in str(raised.value)
    counters = server.emulator.oauth.counters(books.realm_id)
    assert counters["refreshes"] == 1 and counters["invalid_grants"] == 1


def test_token_times_count_from_the_given_now() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    body = {"access_token": "a" * 40, "refresh_token": "r" * 40, "expires_in": 3600}
    tokens = TokenSet.from_response(body | {"x_refresh_token_expires_in": 86400}, "1", now)
    assert tokens.access_expires_at == now + timedelta(hours=1)
    assert tokens.refresh_expires_at == now + timedelta(days=1)
    assert tokens.refresh_hard_expires_at is None


def test_revoke_disconnects_the_grant(server: EmulatorServer, books: Books, app: OAuthApp) -> None:
    grant = server.emulator.oauth.issue_tokens(books.realm_id)
    app.revoke(grant["refresh_token"], realm_id=books.realm_id)
    assert server.emulator.oauth.counters(books.realm_id)["revocations"] == 1
    with pytest.raises(RealmDisconnected):
        app.refresh(grant["refresh_token"], realm_id=books.realm_id)


def test_invalid_client_is_a_clear_auth_error(server: EmulatorServer, books: Books) -> None:
    grant = server.emulator.oauth.issue_tokens(books.realm_id)
    secret = "not-the-secret-0123456789"
    with OAuthApp(CLIENT_ID, secret, REDIRECT, discovery_url=server.discovery_url) as wrong:
        with pytest.raises(AuthError) as raised:
            wrong.refresh(grant["refresh_token"], realm_id=books.realm_id)
        assert secret not in repr(wrong)
    assert not isinstance(raised.value, RealmDisconnected)
    assert raised.value.code == "invalid_client"
    assert "QB_CLIENT_SECRET" in str(raised.value)
    assert secret not in str(raised.value) and grant["refresh_token"] not in str(raised.value)


def _mock_app(handler: httpx.MockTransport) -> OAuthApp:
    endpoints = OAuthEndpoints("https://o/auth", "https://o/token", "https://o/revoke")
    return OAuthApp(
        "id", "secret", REDIRECT, endpoints=endpoints, http=httpx.Client(transport=handler)
    )


def test_server_errors_and_outages_are_transient() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, text="down")

    app = _mock_app(httpx.MockTransport(answer))
    with pytest.raises(TransientError):
        app.refresh("r" * 40, realm_id="1")
    assert seen[0].headers["x-include-refresh-token-hard-expires-in"] == "true"
    assert seen[0].headers["authorization"].startswith("Basic ")

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError, match="unreachable"):
        _mock_app(httpx.MockTransport(unreachable)).refresh("r" * 40)


def test_settings_name_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, server: EmulatorServer
) -> None:
    for name in ("QB_CLIENT_ID", "QB_CLIENT_SECRET", "QB_REDIRECT_URI", "QB_USE_PKCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QB_CLIENT_ID", CLIENT_ID)
    with pytest.raises(OAuthConfigError) as raised:
        OAuthApp.from_settings()
    assert "QB_CLIENT_SECRET" in str(raised.value) and "QB_REDIRECT_URI" in str(raised.value)
    assert "QB_CLIENT_ID" not in str(raised.value)
    monkeypatch.setenv("QB_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("QB_DISCOVERY_URL", server.discovery_url)
    monkeypatch.setenv("QB_USE_PKCE", "1")
    with OAuthApp.from_settings(redirect_uri=REDIRECT) as configured:
        assert configured.use_pkce and configured.redirect_uri == REDIRECT
        assert configured.endpoints.token_endpoint == f"{server.url}/oauth2/v1/tokens/bearer"


def test_bad_discovery_document_is_a_config_error(server: EmulatorServer) -> None:
    with pytest.raises(OAuthConfigError, match="answered HTTP 4"):
        OAuthApp("id", "s", REDIRECT, discovery_url=f"{server.url}/nothing-here").endpoints  # noqa: B018
    with pytest.raises(OAuthConfigError, match="token_endpoint"):
        OAuthEndpoints.from_discovery({"authorization_endpoint": "x", "revocation_endpoint": "y"})


class _Provider:
    def __init__(self) -> None:
        self.rejected: list[str] = []

    def access_token(self, realm_id: str) -> str:
        return "old-token"

    def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        self.rejected.append(rejected_token)
        return "new-token"


def test_bearer_auth_refreshes_once_after_401() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ok = request.headers["authorization"] == "Bearer new-token"
        return httpx.Response(200 if ok else 401, content=request.content)

    provider = _Provider()
    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        response = http.post("https://q/x", content=b"body", auth=BearerTokenAuth(provider, "9"))
    assert response.status_code == 200 and response.content == b"body"
    assert provider.rejected == ["old-token"]

    def always_401(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401)

    provider = _Provider()
    with httpx.Client(transport=httpx.MockTransport(always_401)) as http:
        assert http.get("https://q/x", auth=BearerTokenAuth(provider, "9")).status_code == 401
    assert provider.rejected == ["old-token"]  # once, not a loop


def test_loopback_listener_receives_the_redirect(books: Books, server: EmulatorServer) -> None:
    with (
        CallbackListener(port=0) as listener,
        OAuthApp(
            CLIENT_ID,
            CLIENT_SECRET,
            listener.redirect_uri,
            discovery_url=server.discovery_url,
            use_pkce=True,
        ) as app,
    ):
        request = app.authorization_url(books.realm_id)
        statuses: list[int] = []

        def browse() -> None:
            statuses.append(httpx.get(f"http://127.0.0.1:{listener.port}/x").status_code)
            follow_authorization(request.url)

        thread = threading.Thread(target=browse)
        thread.start()
        params = listener.wait(timeout=20)
        thread.join()
        tokens = app.exchange_code(request, params)
    assert statuses == [404]  # only the redirect path is the callback
    assert tokens.realm_id == books.realm_id == params["realmId"]


def test_listener_times_out_with_a_clear_error() -> None:
    with CallbackListener(port=0) as listener, pytest.raises(AuthError, match="no OAuth callback"):
        listener.wait(timeout=0.3)
