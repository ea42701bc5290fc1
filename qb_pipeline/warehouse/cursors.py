"""Sync cursors: how far each realm's sync of each entity has merged.

A cursor is written only by ``merge`` inside the transaction that merged the data it covers, so
it can never run ahead of the warehouse (DESIGN "Contracts"). Readers here only look.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import duckdb

from qb_pipeline.warehouse.schema import canonical_entity, read_sql
from qb_pipeline.warehouse.warehouse import Warehouse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncCursor:
    """Where one realm's entity stands: changes up to ``cursor_at`` are merged."""

    realm_id: str
    entity: str
    cursor_at: datetime
    mode: str
    updated_at: datetime


def cursor(warehouse: Warehouse, realm_id: str, entity: str) -> datetime | None:
    """The realm's cursor for an entity, or None before its first merge."""
    found = cursors(warehouse, realm_id).get(canonical_entity(entity))
    return found.cursor_at if found else None


def cursors(warehouse: Warehouse, realm_id: str) -> dict[str, SyncCursor]:
    """Every cursor of a realm, by entity."""
    warehouse.ensure_schema()
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT realm_id, entity, cursor_at, mode, updated_at FROM meta.sync_cursor "
            "WHERE realm_id = ? ORDER BY entity",
            [realm_id],
        ).fetchall()
    return {row[1]: SyncCursor(*row) for row in rows}


def check_cursors(cursor_values: Mapping[str, datetime]) -> dict[str, datetime]:
    """Canonical entity names and aware datetimes, or ValueError naming the bad one."""
    checked = {}
    for entity, value in cursor_values.items():
        if value.tzinfo is None:
            raise ValueError(f"cursor for {entity} must be timezone-aware, got {value!r}")
        checked[canonical_entity(entity)] = value
    return checked


def write_cursors(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    cursor_values: Mapping[str, datetime],
    mode: str,
    now: datetime,
) -> None:
    """Upsert cursors inside the caller's transaction (unchanged values are left untouched)."""
    if not cursor_values:
        return
    previous = dict(
        con.execute(
            "SELECT entity, cursor_at FROM meta.sync_cursor WHERE realm_id = ?", [realm_id]
        ).fetchall()
    )  # one query, not one per entity
    for entity, value in cursor_values.items():
        before = previous.get(entity)
        if before is not None and before > value:
            logger.warning(
                "cursor of %s/%s moves back from %s to %s", realm_id, entity, before, value
            )
    con.execute(
        read_sql("upsert_cursors"),
        {
            "realm_id": realm_id,
            "entities": list(cursor_values),
            "cursor_ats": list(cursor_values.values()),
            "mode": mode,
            "now": now,
        },
    )
