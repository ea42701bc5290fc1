"""The operational store's tables, in one SQLAlchemy Core ``MetaData`` (SQLite and PostgreSQL).

connections   one row per realm: status, expiries, the vault's ciphertexts and their key id
token_events  lifecycle of each connection (connected, refreshed, revoked, key_rotated, ...)
alerts        open and resolved alerts; at most one open alert per (realm, kind)
audit_log     every API operation, hash-chained; audit_head holds the chain's tip and is the
              row appenders lock, so concurrent writers extend one chain

Later issues add their tables (outbox, dead letters, conflicts) to ``metadata`` here.
Times are stored as UTC and always read back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

GENESIS_HASH = "0" * 64  # prev_hash of the first audit row


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both dialects (SQLite keeps naive UTC text under the hood)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Reject naive datetimes; convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach (SQLite) or normalise (PostgreSQL) the UTC zone."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

connections = Table(
    "connections",
    metadata,
    Column("realm_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text, nullable=False, default=""),
    Column("key_id", String(64), nullable=False),
    Column("access_token_ct", LargeBinary, nullable=False),
    Column("refresh_token_ct", LargeBinary, nullable=False),
    Column("access_expires_at", UTCDateTime, nullable=False),
    Column("refresh_expires_at", UTCDateTime),
    Column("refresh_hard_expires_at", UTCDateTime),
    Column("company_name", Text, nullable=False, default=""),
    Column("client_id", String(255), nullable=False, default=""),
    Column("scopes", Text, nullable=False, default=""),
    Column("connected_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
)

token_events = Table(
    "token_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("realm_id", String(64), nullable=False, index=True),
    Column("event", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),  # JSON object
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("realm_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
)
# One open alert per realm and kind: raising it again refreshes the open one.
Index(
    "alerts_one_open_per_kind",
    alerts.c.realm_id,
    alerts.c.kind,
    unique=True,
    sqlite_where=alerts.c.resolved_at.is_(None),
    postgresql_where=alerts.c.resolved_at.is_(None),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Ids are assigned by the appender under the chain lock (head + 1), so they are gap-free.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("realm_id", String(64), nullable=False, index=True),
    Column("operation", String(64), nullable=False),
    Column("entity", String(64), nullable=False, default=""),
    Column("entity_id", String(64), nullable=False, default=""),
    Column("request_id", String(128), nullable=False, default=""),
    Column("status", String(64), nullable=False, default=""),
    Column("before", Text),  # canonical JSON or NULL
    Column("after", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("slot", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("last_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)
