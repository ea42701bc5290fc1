"""Token events: each connection's lifecycle (connected, refreshed, revoked, key rotated, ...)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from qb_pipeline.store import schema
from qb_pipeline.store.engine import reader, refuse_inside_lock

EVENTS = frozenset(
    {
        "connected",
        "refreshed",
        "refresh_failed",
        "revoked",
        "disconnected",
        "reconnected",
        "key_rotated",
    }
)
# Detail keys that would mean a secret is being recorded; refused outright.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "authorization_code",
        "client_secret",
        "key",
        "password",
        "token",
    }
)


@dataclass(frozen=True)
class TokenEvent:
    """One lifecycle event of a realm's connection."""

    id: int
    realm_id: str
    event: str
    actor: str
    at: datetime
    detail: dict[str, Any]


def _detail_json(event: str, detail: dict[str, Any] | None) -> str:
    """Canonical JSON of ``detail``; refuses keys that name a secret."""
    detail = detail or {}
    secret = sorted(SECRET_KEYS.intersection(key.lower() for key in detail))
    if secret:
        raise ValueError(f"token event {event!r}: detail must not hold secrets ({secret})")
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)


def insert_event(
    conn: Connection, realm_id: str, event: str, actor: str, detail: dict[str, Any] | None
) -> None:
    """Add one event inside the caller's transaction."""
    if event not in EVENTS:
        raise ValueError(f"unknown token event {event!r}; one of {sorted(EVENTS)}")
    row = {
        "realm_id": realm_id,
        "event": event,
        "actor": actor,
        "at": datetime.now(UTC),
        "detail": _detail_json(event, detail),
    }
    conn.execute(insert(schema.token_events).values(**row))


class TokenEvents:
    """The ``token_events`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self, realm_id: str, event: str, actor: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Record an event now, in its own transaction. ``detail`` never holds secrets."""
        refuse_inside_lock(self._engine, "store.events.record")
        with self._engine.begin() as conn:
            insert_event(conn, realm_id, event, actor, detail)

    def list(self, realm_id: str | None = None) -> list[TokenEvent]:
        """Events in the order they were recorded, of one realm or all."""
        table = schema.token_events
        query = select(table).order_by(table.c.id)
        if realm_id is not None:
            query = query.where(table.c.realm_id == realm_id)
        with reader(self._engine).connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [TokenEvent(**{**row, "detail": json.loads(row["detail"])}) for row in rows]
