"""One refresh per realm across processes: 20 threads in each of 2 spawned processes at expiry.

Real: two fresh interpreters (multiprocessing ``spawn``) each with its own TokenManager, store
engine and OAuth app, talking to the emulator in this (parent) process over HTTP; the store's row
lock on SQLite (``BEGIN IMMEDIATE``) and on PostgreSQL (``SELECT ... FOR UPDATE``). The emulator's
counters prove how many token requests reached it.
Faked: time. The parent moves the emulator's clock past expiry; the children's clocks carry the
same offset.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.qbo.auth import OAuthApp, TokenSet, utc_now
from qb_pipeline.qbo.tokens import TokenManager
from qb_pipeline.store import Store
from qb_pipeline.vault import Keyring, TokenCipher
from qb_pipeline_tests.test_store.postgres import temporary_schema_url

PROCESSES, THREADS = 2, 20
EXPIRED = 3600 + 1  # seconds past issue: the access token is dead
CLIENT_ID, CLIENT_SECRET = "emulator-client-id", "emulator-client-secret"
REDIRECT = "http://127.0.0.1:8999/callback"


def _worker(
    store_url: str,
    discovery_url: str,
    key: bytes,
    realm_id: str,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """A child process: THREADS threads call access_token together once the parent says go."""
    announced = False
    try:
        store = Store.from_url(store_url)
        app = OAuthApp(CLIENT_ID, CLIENT_SECRET, REDIRECT, discovery_url=discovery_url)
        app.endpoints  # noqa: B018 -- discover now, not inside the race
        manager = TokenManager(
            store,
            TokenCipher(Keyring({"k1": key}, "k1")),
            app,
            actor=f"worker-{os.getpid()}",
            clock=lambda: utc_now() + timedelta(seconds=EXPIRED),
        )
        start = threading.Barrier(THREADS)
        tokens: list[str] = []

        def call() -> None:
            start.wait()
            tokens.append(manager.access_token(realm_id))

        threads = [threading.Thread(target=call) for _ in range(THREADS)]
        ready.put(os.getpid())
        announced = True
        go.wait(60)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put(("ok", tokens))
        store.close()
        app.close()
    except Exception:  # report any failure to the parent instead of dying silently
        results.put(("error", traceback.format_exc()))
        if not announced:
            ready.put(None)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store on SQLite (a file) and on PostgreSQL (a throw-away schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    with temporary_schema_url() as url:
        yield url


@pytest.mark.slow
def test_two_processes_of_twenty_threads_refresh_once(store_url: str) -> None:
    server = EmulatorServer().start()
    store = Store.from_url(store_url)
    try:
        realm_id = server.emulator.create_realm().realm_id
        key = os.urandom(32)
        cipher = TokenCipher(Keyring({"k1": key}, "k1"))
        with OAuthApp(
            CLIENT_ID, CLIENT_SECRET, REDIRECT, discovery_url=server.discovery_url
        ) as app:
            grant = server.emulator.oauth.issue_tokens(realm_id)
            TokenManager(store, cipher, app).connect(
                TokenSet.from_response(grant, realm_id, utc_now())
            )
        tokens = _race(store_url, server, key, realm_id)

        assert len(tokens) == PROCESSES * THREADS
        distinct = len(set(tokens))  # a count, so a failure never prints a token
        assert distinct == 1
        assert tokens[0] != grant["access_token"]
        counters = server.emulator.oauth.counters(realm_id)
        assert counters["refreshes"] == 1
        assert counters["token_requests"] == 1
        assert counters["invalid_grants"] == 0
        refreshed = [e for e in store.events.list(realm_id) if e.event == "refreshed"]
        assert len(refreshed) == 1 and refreshed[0].actor.startswith("worker-")
        record = store.connections.get(realm_id)
        assert record is not None and record.status == "connected"
        assert cipher.decrypt(realm_id, record.key_id, record.access_token_ct) == tokens[0]
    finally:
        store.close()
        server.stop()


def _race(store_url: str, server: EmulatorServer, key: bytes, realm_id: str) -> list[str]:
    """Start the children, expire the token, let them all call; every token they got."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    args = (store_url, server.discovery_url, key, realm_id, ready, go, results)
    children = [context.Process(target=_worker, args=args) for _ in range(PROCESSES)]
    for child in children:
        child.start()
    try:
        for _ in children:
            ready.get(timeout=120)
        server.emulator.clock.advance(EXPIRED)
        go.set()
        outcomes = [results.get(timeout=120) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.terminate()
    errors = [detail for status, detail in outcomes if status == "error"]
    assert not errors, errors[0]
    return [token for _, tokens in outcomes for token in tokens]
