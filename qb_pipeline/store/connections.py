"""Connections: one row per realm holding the vault's ciphertexts, status and token expiries.

``locked(realm_id)`` is the one place a realm's tokens change: a transaction that holds the row
(PostgreSQL ``SELECT ... FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``, the database write lock) so one
refresh per realm runs at a time across threads and processes, and a waiting caller reads the
winner's committed tokens when its turn comes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from qb_pipeline.store import schema
from qb_pipeline.store.alerts import raise_alert
from qb_pipeline.store.engine import holding_lock, reader, refuse_inside_lock
from qb_pipeline.store.events import insert_event

log = logging.getLogger(__name__)

STATUSES = ("connected", "disconnected", "revoked")
_TIMES = (
    "access_expires_at",
    "refresh_expires_at",
    "refresh_hard_expires_at",
    "connected_at",
    "updated_at",
)


@dataclass
class ConnectionRecord:
    """A realm's connection as stored: ciphertexts from the vault, never plaintext tokens."""

    realm_id: str
    status: str  # "connected" | "disconnected" | "revoked"
    key_id: str
    access_token_ct: bytes = field(repr=False)
    refresh_token_ct: bytes = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    refresh_hard_expires_at: datetime | None
    company_name: str = ""
    client_id: str = ""
    scopes: str = ""
    connected_at: datetime | None = None
    updated_at: datetime | None = None
    status_reason: str = ""


def _record(row: RowMapping) -> ConnectionRecord:
    values = dict(row)
    values["access_token_ct"] = bytes(values["access_token_ct"])
    values["refresh_token_ct"] = bytes(values["refresh_token_ct"])
    return ConnectionRecord(**values)


def _checked(record: ConnectionRecord) -> ConnectionRecord:
    """The record as it will be stored: validated, ``updated_at`` now, ``connected_at`` filled."""
    if record.status not in STATUSES:
        raise ValueError(f"realm {record.realm_id}: status {record.status!r} not in {STATUSES}")
    if not record.realm_id or not record.key_id:
        raise ValueError("a connection needs a realm_id and the key_id of its ciphertexts")
    for name in ("access_token_ct", "refresh_token_ct"):
        if not isinstance(getattr(record, name), bytes):
            raise TypeError(f"realm {record.realm_id}: {name} must be vault ciphertext (bytes)")
    for name in _TIMES:
        value = getattr(record, name)
        if value is not None and value.tzinfo is None:
            raise ValueError(f"realm {record.realm_id}: {name} is naive; the store keeps UTC")
    now = datetime.now(UTC)
    return replace(record, updated_at=now, connected_at=record.connected_at or now)


def upsert(conn: Connection, record: ConnectionRecord) -> ConnectionRecord:
    """Insert or replace ``record`` inside the caller's transaction; returns what was stored."""
    stored = _checked(record)
    values: dict[str, Any] = asdict(stored)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(schema.connections).values(**values)
    changes = {name: statement.excluded[name] for name in values if name != "realm_id"}
    conn.execute(statement.on_conflict_do_update(index_elements=["realm_id"], set_=changes))
    return stored


class LockedConnection:
    """A realm's row held for the length of a transaction; changes commit together on exit."""

    def __init__(self, conn: Connection, record: ConnectionRecord) -> None:
        self._conn = conn
        self.record = record

    def __repr__(self) -> str:
        return f"LockedConnection(realm_id={self.record.realm_id!r})"

    def save(self, record: ConnectionRecord) -> None:
        """Write ``record`` in this transaction; ``self.record`` becomes what was stored."""
        if record.realm_id != self.record.realm_id:
            raise ValueError(
                f"locked realm {self.record.realm_id} cannot save realm {record.realm_id}"
            )
        self.record = upsert(self._conn, record)

    def event(
        self, realm_id: str, event: str, actor: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Record a token event in this transaction (see ``TokenEvents.record``)."""
        insert_event(self._conn, realm_id, event, actor, detail)

    def alert(self, realm_id: str, kind: str, message: str, severity: str = "error") -> int:
        """Raise an alert in this transaction (see ``Alerts.raise_``)."""
        return raise_alert(self._conn, realm_id, kind, message, severity)


class Connections:
    """The ``connections`` table: read, upsert, and lock a realm's row."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, realm_id: str) -> ConnectionRecord | None:
        """The realm's connection, or None when it was never connected."""
        query = select(schema.connections).where(schema.connections.c.realm_id == realm_id)
        with reader(self._engine).connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _record(row)

    def list(self) -> list[ConnectionRecord]:
        """Every connection, ordered by realm id."""
        query = select(schema.connections).order_by(schema.connections.c.realm_id)
        with reader(self._engine).connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def save(self, record: ConnectionRecord) -> None:
        """Insert or replace the realm's connection in its own transaction."""
        refuse_inside_lock(self._engine, "store.connections.save")
        with self._engine.begin() as conn:
            upsert(conn, record)

    @contextmanager
    def locked(self, realm_id: str) -> Iterator[LockedConnection]:
        """Hold the realm's row until the block ends: commit on exit, roll back on an exception.

        Raises ``KeyError`` naming the realm when it has no connection. Inside the block, write
        only through the ``LockedConnection``: another store write (or a nested ``locked()``)
        from the same thread raises RuntimeError instead of deadlocking on the held lock.
        """
        query = (
            select(schema.connections)
            .where(schema.connections.c.realm_id == realm_id)
            .with_for_update()  # PostgreSQL row lock; SQLite already holds the write lock
        )
        refuse_inside_lock(self._engine, f"store.connections.locked({realm_id!r})")
        with self._engine.begin() as conn, holding_lock(self._engine):
            row = conn.execute(query).mappings().first()
            if row is None:
                raise KeyError(f"no connection for realm {realm_id}")
            log.debug("realm %s: connection row locked", realm_id)
            yield LockedConnection(conn, _record(row))
