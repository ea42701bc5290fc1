"""A sync environment for the Dagster tests: an emulator over HTTP and a QB_HOME that knows it.

Real: the emulator on a loopback port, the operational store (SQLite under a temp QB_HOME), the
vault (a key in QB_VAULT_KEY), TokenManager.connect with a grant from the emulator's token
issuer, and the ``QB_*`` variables that the resources read when a run starts. Faked: the
browser consent of the OAuth code flow (the grant comes from the emulator's back door).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from qb_pipeline import settings
from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.qbo.auth import OAuthApp, TokenSet, utc_now
from qb_pipeline.qbo.tokens import TokenManager
from qb_pipeline.store import Store
from qb_pipeline.vault import Keyring, TokenCipher

CLIENT_ID, CLIENT_SECRET = "emulator-client-id", "emulator-client-secret"


@dataclass(frozen=True)
class SyncEnv:
    """The emulator, the home directory and the environment the resources read."""

    server: EmulatorServer
    home: Path
    environ: dict[str, str]

    def new_realm(self, size: str = "tiny", **options: object) -> Books:
        return self.server.emulator.create_realm(size=size, **options)

    def connect(self, realm_id: str, company_name: str = "Test Company") -> None:
        """Store a fresh grant for the realm through the TokenManager (as `connect` does)."""
        grant = self.server.emulator.oauth.issue_tokens(realm_id, client_id=CLIENT_ID)
        with self.manager() as manager:
            manager.connect(TokenSet.from_response(grant, realm_id, utc_now()), company_name)

    @contextmanager
    def manager(self) -> Iterator[TokenManager]:
        store = Store.from_url(self.environ[settings.ENV_STATE_URL])
        app = OAuthApp(
            CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1/cb", discovery_url=self.server.discovery_url
        )
        try:
            yield TokenManager(store, TokenCipher(Keyring.load()), app, actor="test")
        finally:
            app.close()
            store.close()

    @property
    def analytics(self) -> Path:
        return self.home / "analytics" / "analytics.duckdb"


@contextmanager
def sync_env(home: Path) -> Iterator[SyncEnv]:
    """Start an emulator and point every QB_* variable at it and at ``home`` until exit."""
    server = EmulatorServer().start()
    environ = {
        settings.ENV_HOME: str(home),
        settings.ENV_STATE_URL: f"sqlite:///{home / 'state.sqlite'}",
        settings.ENV_VAULT_KEY: "k1:" + base64.b64encode(os.urandom(32)).decode(),
        settings.ENV_QBO_BASE_URL: server.url,
        settings.ENV_DISCOVERY_URL: server.discovery_url,
        settings.ENV_CLIENT_ID: CLIENT_ID,
        settings.ENV_CLIENT_SECRET: CLIENT_SECRET,
    }
    patch = pytest.MonkeyPatch()
    for name, value in environ.items():
        patch.setenv(name, value)
    try:
        yield SyncEnv(server, home, environ)
    finally:
        patch.undo()
        server.stop()
