"""Dagster resources: they vend the plain objects the assets orchestrate, configured from env.

``QboResource`` opens the operational store, the token vault and the OAuth app (a
``TokenManager``) and hands out ``QBOClient``s per realm; ``WarehouseResource`` knows where the
warehouse, the landing batches and the analysts' catalogue live under QB_HOME. Every field is
optional: unset, the value comes from ``qb_pipeline.settings`` (the ``QB_*`` variables), read
when a run starts, never at import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from qb_pipeline import settings
from qb_pipeline.qbo.auth import OAuthApp
from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.qbo.tokens import TokenManager
from qb_pipeline.store import ConnectionRecord, Store
from qb_pipeline.vault import Keyring, TokenCipher
from qb_pipeline.warehouse import Warehouse

# Refresh and revoke never send a redirect URI; the app only needs one for the code flow.
_REFRESH_ONLY_REDIRECT = "http://127.0.0.1/callback"


class QboResource(dg.ConfigurableResource):
    """QuickBooks Online access: connected realms from the store, API clients with live tokens."""

    base_url: str | None = None  # default QB_QBO_BASE_URL, else Intuit production
    state_url: str | None = None  # default QB_STATE_URL, else SQLite under QB_HOME
    discovery_url: str | None = None  # default QB_DISCOVERY_URL, else Intuit's document
    client_id: str | None = None  # default QB_CLIENT_ID
    client_secret: str | None = None  # default QB_CLIENT_SECRET

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The operational store, closed on exit."""
        opened = Store.from_url(self.state_url or settings.state_url())
        try:
            yield opened
        finally:
            opened.close()

    def connections(self) -> list[ConnectionRecord]:
        """Every realm the store knows, whatever its status."""
        with self.store() as store:
            return store.connections.list()

    def connection(self, realm_id: str) -> ConnectionRecord | None:
        """The realm's connection record, or None if it was never connected."""
        with self.store() as store:
            return store.connections.get(realm_id)

    @contextmanager
    def client(self, realm_id: str, *, actor: str = "dagster") -> Iterator[QBOClient]:
        """A QBOClient of the realm whose tokens come from a TokenManager (refreshed as needed)."""
        with self.store() as store, self._oauth_app() as app:
            manager = TokenManager(store, TokenCipher(Keyring.load()), app, actor=actor)
            yield QBOClient(realm_id, manager, base_url=self.base_url)

    def _oauth_app(self) -> OAuthApp:
        if self.client_id and self.client_secret:
            return OAuthApp(
                self.client_id,
                self.client_secret,
                _REFRESH_ONLY_REDIRECT,
                discovery_url=self.discovery_url
                or settings.env(settings.ENV_DISCOVERY_URL)
                or settings.INTUIT_DISCOVERY_URL,
            )
        redirect = settings.env(settings.ENV_REDIRECT_URI) or _REFRESH_ONLY_REDIRECT
        return OAuthApp.from_settings(redirect_uri=redirect)


class WarehouseResource(dg.ConfigurableResource):
    """Where the sync writes: the DuckDB warehouse, the landing batches, the analytics copy."""

    home: str | None = None  # default QB_HOME (else ./.qb_home)

    @property
    def root(self) -> Path:
        return Path(self.home).resolve() if self.home else settings.qb_home()

    def warehouse(self) -> Warehouse:
        """The warehouse file ``<home>/warehouse/warehouse.duckdb`` (schema created if missing)."""
        warehouse = Warehouse(self.root / "warehouse" / "warehouse.duckdb")
        warehouse.ensure_schema()
        return warehouse

    @property
    def landing_root(self) -> Path:
        """Landing batches: ``<home>/landing/realm=<id>/entity=<E>/batch-*.parquet``."""
        return self.root / "landing"

    @property
    def analytics_dir(self) -> Path:
        """The analysts' Parquet files and ``analytics.duckdb``."""
        return self.root / "analytics"
