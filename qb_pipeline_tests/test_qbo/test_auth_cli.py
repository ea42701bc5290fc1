"""``qb-pipeline connect`` and ``qb-pipeline connections`` against the emulator over HTTP.

Real: the CLI entry point in-process, settings from environment variables, the loopback callback
listener on 127.0.0.1, the emulator's authorize redirect (state + PKCE S256), code exchange,
CompanyInfo read for the company name, the SQLite store and the vault (key from QB_VAULT_KEY).
Faked: the browser: ``--open-with-httpx`` follows the authorization URL (the emulator consents).
"""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest

from qb_pipeline.cli import main
from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.store import Store


@pytest.fixture
def state_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: EmulatorServer) -> str:
    """Every QB_* setting the connect flow reads, pointing at the emulator and a tmp store."""
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    key = base64.b64encode(os.urandom(32)).decode()
    values = {
        "QB_HOME": str(tmp_path),
        "QB_STATE_URL": url,
        "QB_VAULT_KEY": f"k1:{key}",
        "QB_CLIENT_ID": "emulator-client-id",
        "QB_CLIENT_SECRET": "emulator-client-secret",
        "QB_DISCOVERY_URL": server.discovery_url,
        "QB_QBO_BASE_URL": server.url,
        "QB_USE_PKCE": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("QB_REDIRECT_URI", raising=False)
    monkeypatch.delenv("QB_VAULT_KEY_FILE", raising=False)
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connect(realm_id: str, *extra: str) -> int:
    return main(["connect", "--realm-id", realm_id, "--open-with-httpx", "--timeout", "30", *extra])


def test_connect_stores_the_realm_and_connections_lists_it(
    server: EmulatorServer, books: Books, state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert connect(books.realm_id, "--port", "0") == 0
    out = capsys.readouterr().out
    assert "code_challenge_method=S256" in out and "state=" in out
    assert f"connected realm {books.realm_id}" in out
    counters = server.emulator.oauth.counters(books.realm_id)
    assert counters["authorization_code_exchanges"] == 1

    store = Store.from_url(state_url)
    try:
        record = store.connections.get(books.realm_id)
        assert record is not None and record.status == "connected"
        assert record.company_name == books.read("CompanyInfo", "1")["CompanyName"]
        assert [e.event for e in store.events.list(books.realm_id)] == ["connected"]
        assert store.events.list(books.realm_id)[0].actor == "cli:connect"
        store.alerts.raise_(books.realm_id, "disconnected", "grant revoked at Intuit")
    finally:
        store.close()

    assert main(["connections"]) == 0
    listing = capsys.readouterr().out
    assert books.realm_id in listing and "connected" in listing
    assert record.company_name in listing
    assert "open alerts: 1" in listing and "grant revoked at Intuit" in listing


def test_connect_again_is_a_reconnect(
    books: Books, state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert connect(books.realm_id) == 0
    assert connect(books.realm_id) == 0
    store = Store.from_url(state_url)
    try:
        assert [e.event for e in store.events.list(books.realm_id)] == ["connected", "reconnected"]
    finally:
        store.close()


def test_connect_listens_where_the_redirect_uri_points(
    books: Books,
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()
    monkeypatch.setenv("QB_REDIRECT_URI", f"http://127.0.0.1:{port}/oauth/callback")
    assert connect(books.realm_id) == 0
    assert f"127.0.0.1%3A{port}%2Foauth%2Fcallback" in capsys.readouterr().out
    assert connect(books.realm_id, "--port", str(port + 1)) == 2
    assert "differs from the port of QB_REDIRECT_URI" in capsys.readouterr().err


def test_missing_settings_are_named(
    books: Books,
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("QB_CLIENT_SECRET")
    assert connect(books.realm_id) == 2
    err = capsys.readouterr().err
    assert "QB_CLIENT_SECRET" in err and "missing" in err


def test_connections_with_nothing_connected(
    state_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["connections"]) == 0
    out = capsys.readouterr().out
    assert "no connections yet" in out and "open alerts: 0" in out
