"""TokenManager over real HTTP against the emulator, with the store on SQLite and the real vault.

Real: the emulator's token endpoint (refresh with rotation, invalid_grant after a revoke, the
counters that prove how many token requests were made), the store's row lock, AES-GCM sealing.
Faked: time. The emulator's business clock and the manager's clock are advanced together to
reach token expiry; the 503 of the transient-failure test comes from ``httpx.MockTransport``.
Concurrency across processes is in test_tokens_processes.py; this file covers threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.qbo.auth import OAuthApp, OAuthEndpoints, TokenSet, utc_now
from qb_pipeline.qbo.errors import RealmDisconnected, TransientError
from qb_pipeline.qbo.tokens import StaticTokenProvider, TokenManager, TokenProvider
from qb_pipeline.store import Store
from qb_pipeline.vault import Keyring, TokenCipher

CLIENT_ID, CLIENT_SECRET = "emulator-client-id", "emulator-client-secret"
REDIRECT = "http://127.0.0.1:8999/callback"
HOUR = 3600


class ShiftedClock:
    """The manager's clock: wall time plus an offset moved in step with the emulator's clock."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.from_url(f"sqlite:///{tmp_path / 'state.sqlite'}")
    yield opened
    opened.close()


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(Keyring({"k1": os.urandom(32)}, "k1"))


@pytest.fixture
def app(server: EmulatorServer) -> Iterator[OAuthApp]:
    with OAuthApp(
        CLIENT_ID, CLIENT_SECRET, REDIRECT, discovery_url=server.discovery_url, use_pkce=True
    ) as oauth_app:
        yield oauth_app


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def manager(store: Store, cipher: TokenCipher, app: OAuthApp, clock: ShiftedClock) -> TokenManager:
    return TokenManager(store, cipher, app, clock=clock)


def advance(server: EmulatorServer, clock: ShiftedClock, seconds: float) -> None:
    """Move both clocks: the emulator's tokens expire, and the manager sees it."""
    server.emulator.clock.advance(seconds)
    clock.offset += timedelta(seconds=seconds)


def connect(server: EmulatorServer, manager: TokenManager, clock: ShiftedClock, realm_id: str):
    """A grant from the emulator's back door, stored through the manager; the grant."""
    grant = server.emulator.oauth.issue_tokens(realm_id)
    manager.connect(TokenSet.from_response(grant, realm_id, clock()), "Test Company")
    return grant


def stored_refresh_token(store: Store, cipher: TokenCipher, realm_id: str) -> str:
    record = store.connections.get(realm_id)
    assert record is not None
    return cipher.decrypt(realm_id, record.key_id, record.refresh_token_ct)


def events(store: Store, realm_id: str) -> list[str]:
    return [event.event for event in store.events.list(realm_id)]


def test_connect_stores_ciphertexts_and_serves_the_token(
    server: EmulatorServer,
    books: Books,
    store: Store,
    manager: TokenManager,
    clock: ShiftedClock,
) -> None:
    grant = connect(server, manager, clock, books.realm_id)
    record = store.connections.get(books.realm_id)
    assert record is not None and record.status == "connected"
    assert record.company_name == "Test Company" and record.client_id == CLIENT_ID
    assert grant["access_token"].encode() not in record.access_token_ct
    assert grant["refresh_token"].encode() not in record.refresh_token_ct
    assert manager.access_token(books.realm_id) == grant["access_token"]
    assert server.emulator.oauth.counters(books.realm_id)["token_requests"] == 0
    assert events(store, books.realm_id) == ["connected"]
    assert store.events.list(books.realm_id)[0].actor == "token-manager"
    assert isinstance(manager, TokenProvider)


def test_refresh_happens_five_minutes_before_expiry_and_rotates(
    server: EmulatorServer,
    books: Books,
    store: Store,
    cipher: TokenCipher,
    manager: TokenManager,
    clock: ShiftedClock,
) -> None:
    grant = connect(server, manager, clock, books.realm_id)
    advance(server, clock, HOUR - 310)  # 5 min 10 s left: still fresh
    assert manager.access_token(books.realm_id) == grant["access_token"]
    advance(server, clock, 20)  # 4 min 50 s left: refresh first
    new_token = manager.access_token(books.realm_id)
    assert new_token != grant["access_token"]
    assert server.emulator.oauth.counters(books.realm_id)["refreshes"] == 1
    assert stored_refresh_token(store, cipher, books.realm_id) != grant["refresh_token"]
    assert manager.access_token(books.realm_id) == new_token  # no second refresh
    assert server.emulator.oauth.counters(books.realm_id)["refreshes"] == 1
    refreshed = store.events.list(books.realm_id)[-1]
    assert refreshed.event == "refreshed" and refreshed.detail["refresh_token_rotated"] is True
    record = store.connections.get(books.realm_id)
    assert record is not None and record.access_expires_at > clock() + timedelta(minutes=59)


def test_after_unauthorized_refreshes_only_the_rejected_token(
    server: EmulatorServer, books: Books, manager: TokenManager, clock: ShiftedClock
) -> None:
    grant = connect(server, manager, clock, books.realm_id)
    replaced = manager.after_unauthorized(books.realm_id, grant["access_token"])
    assert replaced != grant["access_token"]
    assert server.emulator.oauth.counters(books.realm_id)["refreshes"] == 1
    # a second caller still holding the old token gets the new one, no second refresh
    assert manager.after_unauthorized(books.realm_id, grant["access_token"]) == replaced
    assert server.emulator.oauth.counters(books.realm_id)["refreshes"] == 1


def test_twenty_threads_at_expiry_make_one_refresh(
    server: EmulatorServer, books: Books, manager: TokenManager, clock: ShiftedClock
) -> None:
    connect(server, manager, clock, books.realm_id)
    advance(server, clock, HOUR + 1)
    start = threading.Barrier(20)
    tokens: list[str] = []

    def call() -> None:
        start.wait()
        tokens.append(manager.access_token(books.realm_id))

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 20 and len(set(tokens)) == 1
    counters = server.emulator.oauth.counters(books.realm_id)
    assert counters["refreshes"] == 1 and counters["token_requests"] == 1


def test_revoked_realm_is_disconnected_once_and_reconnect_restores_it(
    server: EmulatorServer,
    books: Books,
    store: Store,
    app: OAuthApp,
    manager: TokenManager,
    clock: ShiftedClock,
) -> None:
    realm_id = books.realm_id
    connect(server, manager, clock, realm_id)
    server.emulator.oauth.revoke_realm(realm_id)
    advance(server, clock, HOUR + 1)
    with pytest.raises(RealmDisconnected) as first:
        manager.access_token(realm_id)
    assert first.value.code == "invalid_grant" and first.value.realm_id == realm_id
    record = store.connections.get(realm_id)
    assert record is not None and record.status == "disconnected"
    assert "invalid_grant" in record.status_reason
    [alert] = store.alerts.open(realm_id)
    assert alert.kind == "disconnected"
    assert events(store, realm_id).count("disconnected") == 1
    spent = server.emulator.oauth.counters(realm_id)

    with pytest.raises(RealmDisconnected, match="disconnected"):
        manager.access_token(realm_id)  # at once, no retry loop
    with pytest.raises(RealmDisconnected):
        manager.after_unauthorized(realm_id, "anything")
    assert server.emulator.oauth.counters(realm_id) == spent
    assert events(store, realm_id).count("disconnected") == 1

    request = app.authorization_url(realm_id)  # the user reconnects
    location = httpx.get(request.url, follow_redirects=False).headers["location"]
    params = dict(httpx.URL(location).params)
    manager.connect(app.exchange_code(request, params, now=clock()))
    record = store.connections.get(realm_id)
    assert record is not None and record.status == "connected" and not record.status_reason
    assert record.company_name == "Test Company"  # kept from the first connection
    assert store.alerts.open(realm_id) == []
    assert events(store, realm_id)[-1] == "reconnected"
    assert manager.access_token(realm_id)


def test_transient_refresh_failure_keeps_the_connection(
    store: Store, cipher: TokenCipher, clock: ShiftedClock
) -> None:
    def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    endpoints = OAuthEndpoints("https://o/a", "https://o/t", "https://o/r")
    http = httpx.Client(transport=httpx.MockTransport(unavailable))
    app = OAuthApp("id", "secret", REDIRECT, endpoints=endpoints, http=http)
    manager = TokenManager(store, cipher, app, clock=clock, actor="sync-worker")
    body = {"access_token": "a" * 40, "refresh_token": "r" * 40, "expires_in": 60}
    manager.connect(TokenSet.from_response(body, "42", clock()))
    with pytest.raises(TransientError):
        manager.access_token("42")
    record = store.connections.get("42")
    assert record is not None and record.status == "connected"
    failed = store.events.list("42")[-1]
    assert (failed.event, failed.actor) == ("refresh_failed", "sync-worker")
    assert failed.detail["error"] == "TransientError"
    assert store.alerts.open("42") == []


def test_revoke_marks_the_connection_revoked(
    server: EmulatorServer,
    books: Books,
    store: Store,
    manager: TokenManager,
    clock: ShiftedClock,
) -> None:
    connect(server, manager, clock, books.realm_id)
    manager.revoke(books.realm_id)
    assert server.emulator.oauth.counters(books.realm_id)["revocations"] == 1
    record = store.connections.get(books.realm_id)
    assert record is not None and record.status == "revoked"
    revoked = store.events.list(books.realm_id)[-1]
    assert revoked.event == "revoked" and revoked.detail["previous_status"] == "connected"
    with pytest.raises(RealmDisconnected, match="revoked") as raised:
        manager.access_token(books.realm_id)
    assert raised.value.code == "revoked"
    assert server.emulator.oauth.counters(books.realm_id)["token_requests"] == 0


def test_unknown_realm_is_not_connected(manager: TokenManager) -> None:
    with pytest.raises(RealmDisconnected, match="not connected"):
        manager.access_token("404")
    with pytest.raises(RealmDisconnected, match="not connected"):
        manager.after_unauthorized("404", "x")
    with pytest.raises(RealmDisconnected, match="not connected"):
        manager.revoke("404")


def test_expiring_lists_refresh_tokens_near_their_end(
    manager: TokenManager, clock: ShiftedClock
) -> None:
    now = clock()

    def tokens(realm_id: str, rolling_days: float, hard_days: float) -> TokenSet:
        return TokenSet(
            realm_id,
            "a" * 40,
            "r" * 40,
            now + timedelta(hours=1),
            now + timedelta(days=rolling_days),
            now + timedelta(days=hard_days),
        )

    manager.connect(tokens("1", 10, 1000))  # rolling window ends soon
    manager.connect(tokens("2", 90, 1000))
    manager.connect(tokens("3", 90, 5))  # the five-year cap is near
    assert sorted(r.realm_id for r in manager.expiring(within_days=14)) == ["1", "3"]
    assert [r.realm_id for r in manager.expiring(within_days=7)] == ["3"]


def test_token_manager_is_importable_from_auth_too() -> None:
    from qb_pipeline.qbo import auth

    assert auth.TokenManager is TokenManager


def test_static_provider() -> None:
    provider = StaticTokenProvider({"1": "token-1"})
    assert provider.access_token("1") == "token-1"
    assert provider.after_unauthorized("1", "token-1") == "token-1"
    assert "token-1" not in repr(provider)
    with pytest.raises(RealmDisconnected):
        provider.access_token("2")
    assert isinstance(provider, TokenProvider)


def test_times_are_aware_utc(
    server: EmulatorServer, books: Books, store: Store, manager: TokenManager, clock: ShiftedClock
) -> None:
    connect(server, manager, clock, books.realm_id)
    record = store.connections.get(books.realm_id)
    assert record is not None
    assert record.access_expires_at.tzinfo is not None
    assert record.access_expires_at.utcoffset() == timedelta(0)
    assert record.refresh_expires_at is not None
    assert record.refresh_expires_at - datetime.now(UTC) > timedelta(days=99)
