"""The operational store: connections, token events, alerts and the audit log (SQLAlchemy Core).

    store = Store.from_url()            # $QB_STATE_URL, else SQLite under $QB_HOME
    with store.connections.locked(realm_id) as locked:
        locked.save(replace(locked.record, status="disconnected"))
        locked.event(realm_id, "disconnected", actor="token-manager")

SQLite (WAL, 30 s busy timeout, BEGIN IMMEDIATE for writes) or PostgreSQL; tables are created on
first use. Plain Python: no Dagster here.
"""

from __future__ import annotations

from sqlalchemy import Engine

from qb_pipeline import settings
from qb_pipeline.store.alerts import Alert, Alerts
from qb_pipeline.store.audit import AuditEntry, AuditLog
from qb_pipeline.store.connections import ConnectionRecord, Connections, LockedConnection
from qb_pipeline.store.engine import create_schema, make_engine
from qb_pipeline.store.events import TokenEvent, TokenEvents

__all__ = [
    "Alert",
    "AuditEntry",
    "ConnectionRecord",
    "LockedConnection",
    "Store",
    "TokenEvent",
]


class Store:
    """One operational store: ``connections``, ``events``, ``alerts``, ``audit`` on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connections = Connections(engine)
        self.events = TokenEvents(engine)
        self.alerts = Alerts(engine)
        self.audit = AuditLog(engine)

    @classmethod
    def from_url(cls, url: str | None = None) -> Store:
        """Open the store at ``url`` (None: ``settings.state_url()``), creating missing tables."""
        engine = make_engine(url or settings.state_url())
        create_schema(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store(dialect={self.dialect!r})"
