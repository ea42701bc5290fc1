"""No token, client secret, authorization code, PKCE verifier or vault key in any log line,
exception message, traceback, repr or CLI output, over a whole connect/refresh/fail/reconnect flow.

Real: every logger at DEBUG (ours, httpx, httpcore, the emulator, SQLAlchemy) into a capturing
handler; the flow runs over HTTP against the emulator with the SQLite store and the real vault,
including the CLI's ``connect`` (loopback listener, followed redirect). The secrets searched for
are the actual strings: read from the callback, the token responses and the decrypted store.
Faked: time (both clocks are advanced to reach expiry) and the browser (``--open-with-httpx``).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import traceback
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from qb_pipeline.cli import main
from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.qbo.auth import OAuthApp, TokenSet, utc_now
from qb_pipeline.qbo.errors import RealmDisconnected
from qb_pipeline.qbo.loopback import CallbackListener, follow_authorization
from qb_pipeline.qbo.tokens import TokenManager
from qb_pipeline.store import Store
from qb_pipeline.vault import Keyring, TokenCipher

CLIENT_ID, CLIENT_SECRET = "emulator-client-id", "emulator-client-secret"


class Capture(logging.Handler):
    """Keeps every record fully formatted: message, arguments and any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler, root = Capture(), logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


class Flow:
    """What the flow produced: every secret seen, and every text that must not hold one."""

    def __init__(self, store: Store, cipher: TokenCipher) -> None:
        self.store, self.cipher = store, cipher
        self.secrets: set[str] = {CLIENT_SECRET}
        self.texts: list[str] = []

    def remember_stored(self, realm_id: str) -> None:
        record = self.store.connections.get(realm_id)
        assert record is not None
        for sealed in (record.access_token_ct, record.refresh_token_ct):
            self.secrets.add(self.cipher.decrypt(realm_id, record.key_id, sealed))
        self.texts += [repr(record), str(record)]

    def failure(self, exc: BaseException) -> None:
        self.texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


def test_no_secret_reaches_logs_errors_or_reprs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capture: Capture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = EmulatorServer().start()
    em = server.emulator
    raw_key = os.urandom(32)
    vault_key = base64.b64encode(raw_key).decode()
    state_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    for name, value in {
        "QB_HOME": str(tmp_path),
        "QB_STATE_URL": state_url,
        "QB_VAULT_KEY": f"k1:{vault_key}",
        "QB_CLIENT_ID": CLIENT_ID,
        "QB_CLIENT_SECRET": CLIENT_SECRET,
        "QB_DISCOVERY_URL": server.discovery_url,
        "QB_QBO_BASE_URL": server.url,
        "QB_USE_PKCE": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("QB_REDIRECT_URI", raising=False)
    store = Store.from_url(state_url)
    cipher = TokenCipher(Keyring({"k1": raw_key}, "k1"))
    flow = Flow(store, cipher)
    flow.secrets |= {vault_key, raw_key.hex()}
    try:
        cli_realm, realm = em.create_realm().realm_id, em.create_realm().realm_id
        assert main(["-v", "connect", "--realm-id", cli_realm, "--open-with-httpx"]) == 0
        flow.remember_stored(cli_realm)
        _walk_the_lifecycle(server, store, cipher, flow, realm)
        assert main(["connections"]) == 0
        output = capsys.readouterr()
        flow.texts += [output.out, output.err]
    finally:
        store.close()
        server.stop()

    assert len(flow.secrets) > 8  # the flow really produced tokens, a code, a verifier
    assert any("refreshed" in line for line in capture.lines)
    assert any("disconnected" in line for line in capture.lines)
    texts = capture.lines + flow.texts
    leaks = [(secret[:6], text[:80]) for secret in flow.secrets for text in texts if secret in text]
    assert not leaks, f"secrets leaked (first characters, where): {leaks[:5]}"


def _authorize(server: EmulatorServer, flow: Flow, realm_id: str, now: datetime) -> TokenSet:
    """The code flow through a loopback listener; remembers the code, verifier and tokens."""
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
        request = app.authorization_url(realm_id)
        threading.Thread(target=follow_authorization, args=(request.url,)).start()
        params = listener.wait(timeout=20)
        tokens = app.exchange_code(request, params, now=now)
        flow.texts += [repr(app), repr(listener)]
    flow.secrets |= {params["code"], str(request.code_verifier)}
    flow.secrets |= {tokens.access_token, tokens.refresh_token}
    flow.texts += [repr(request), repr(tokens), str(tokens)]
    return tokens


def _walk_the_lifecycle(
    server: EmulatorServer, store: Store, cipher: TokenCipher, flow: Flow, realm_id: str
) -> None:
    """Connect, refresh, 401-refresh, fail on a revoked grant, reconnect, revoke."""
    shift = [timedelta()]

    def clock() -> datetime:
        return utc_now() + shift[0]

    app = OAuthApp(
        CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1/x", discovery_url=server.discovery_url
    )
    manager = TokenManager(store, cipher, app, clock=clock)
    flow.texts += [repr(manager), repr(store), repr(cipher)]
    manager.connect(_authorize(server, flow, realm_id, clock()), "Secret-Free Inc")
    server.emulator.clock.advance(3600)
    shift[0] += timedelta(seconds=3600)
    flow.secrets.add(manager.access_token(realm_id))  # proactive refresh
    flow.remember_stored(realm_id)
    flow.secrets.add(manager.after_unauthorized(realm_id, manager.access_token(realm_id)))
    flow.remember_stored(realm_id)

    server.emulator.oauth.revoke_realm(realm_id)  # the API now answers 401 to this token
    rejected = manager.access_token(realm_id)
    for _ in range(2):  # invalid_grant, then the fast refusal
        with pytest.raises(RealmDisconnected) as raised:
            manager.after_unauthorized(realm_id, rejected)
        flow.failure(raised.value)
    flow.texts += [repr(alert) for alert in store.alerts.open(realm_id)]

    manager.connect(_authorize(server, flow, realm_id, clock()))  # reconnect
    flow.remember_stored(realm_id)
    manager.revoke(realm_id)
    with pytest.raises(RealmDisconnected) as raised:
        manager.access_token(realm_id)
    flow.failure(raised.value)
    flow.texts += [repr(event) for event in store.events.list()]
    app.close()
