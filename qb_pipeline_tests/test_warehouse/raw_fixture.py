"""Test-only loader: fills the raw layer straight from an emulator company's books.

It stands in for extract + merge (owned elsewhere) so staging and mart tests do not depend on
them. Real: the raw-table contract (realm_id, id, sync_token, last_updated_at, deleted,
deleted_at, payload JSON, batch_id, loaded_at; PRIMARY KEY (realm_id, id)) and one table per
emulator entity, snake_case. Faked: rows are written directly, not through landing batches;
a tombstone carries no payload (a delete we never saw the object for).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa

from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.entities import ENTITY_TYPES

RAW_COLUMNS = """
    realm_id VARCHAR, id VARCHAR, sync_token BIGINT, last_updated_at TIMESTAMPTZ,
    deleted BOOLEAN, deleted_at TIMESTAMPTZ, payload JSON, batch_id VARCHAR,
    loaded_at TIMESTAMPTZ, PRIMARY KEY (realm_id, id)
"""


FIELDS = (
    "realm_id",
    "id",
    "sync_token",
    "last_updated_at",
    "deleted",
    "deleted_at",
    "payload",
    "batch_id",
    "loaded_at",
)


def snake_case(entity: str) -> str:
    """QBO entity name as a raw table name: JournalEntry -> journal_entry."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", entity).lower()


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The raw schema with one contract-shaped table per emulator entity (kept if present)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for entity in ENTITY_TYPES:
        con.execute(f'CREATE TABLE IF NOT EXISTS raw."{snake_case(entity)}" ({RAW_COLUMNS})')


def _updated(obj: dict) -> str | None:
    return (obj.get("MetaData") or {}).get("LastUpdatedTime")


def load_books(con: duckdb.DuckDBPyConnection, books: Books, batch_id: str = "fixture") -> int:
    """Replace the realm's raw rows with the books' objects and tombstones; rows written."""
    create_raw_tables(con)
    now = datetime.now(UTC)
    written = 0
    for entity in ENTITY_TYPES:
        table = f'raw."{snake_case(entity)}"'
        con.execute(f"DELETE FROM {table} WHERE realm_id = ?", [books.realm_id])
        rows = [
            (
                books.realm_id,
                str(key),
                int(obj.get("SyncToken", 0)),
                _updated(obj),
                False,
                None,
                json.dumps(obj),
                batch_id,
                now,
            )
            for key, obj in books.objects.get(entity, {}).items()
        ]
        rows += [
            (
                books.realm_id,
                str(key),
                None,
                text,
                True,
                datetime.fromtimestamp(epoch, UTC),
                None,
                batch_id,
                now,
            )
            for key, (epoch, text) in books.tombstones.get(entity, {}).items()
        ]
        if rows:
            batch = pa.table(dict(zip(FIELDS, zip(*rows, strict=True), strict=True)))  # noqa: F841
            con.execute(
                f"INSERT INTO {table} SELECT realm_id, id, sync_token, "
                "CAST(last_updated_at AS TIMESTAMPTZ), deleted, deleted_at, "
                "CAST(payload AS JSON), batch_id, loaded_at FROM batch"
            )
            written += len(rows)
    return written


def build_warehouse(
    con: duckdb.DuckDBPyConnection, *realms: Books, as_of: date | None = None
) -> None:
    """Load the realms' books into raw, then rebuild staging and marts."""
    from qb_pipeline.warehouse.marts import build_marts
    from qb_pipeline.warehouse.staging import build_staging

    for books in realms:
        load_books(con, books)
    build_staging(con)
    build_marts(con, as_of=as_of)
