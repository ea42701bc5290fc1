"""The audit log: every API operation, hash-chained so that tampering is detectable.

Each row's ``hash`` is ``sha256(prev_hash + canonical JSON of the row's fields)`` (id included),
and ``prev_hash`` is the previous row's hash (``GENESIS_HASH`` for row 1). Appenders lock the one
``audit_head`` row, which holds the chain's tip, so concurrent writers extend one chain with
gap-free ids. ``verify()`` walks the chain and compares its end with the head, finding a
modified row, a deleted row (middle or tail) and a row slipped in without the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from qb_pipeline.store import schema
from qb_pipeline.store.engine import reader, refuse_inside_lock

VERIFY_CHUNK_ROWS = 1000
HASHED_FIELDS = (
    "id",
    "at",
    "actor",
    "realm_id",
    "operation",
    "entity",
    "entity_id",
    "request_id",
    "status",
    "before",
    "after",
)


@dataclass(frozen=True)
class AuditEntry:
    """One audit row; ``before``/``after`` are the decoded JSON snapshots (or None)."""

    id: int
    at: datetime
    actor: str
    realm_id: str
    operation: str
    entity: str
    entity_id: str
    request_id: str
    status: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, ASCII; unknown types (dates, Decimal) as str."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The chain hash of a row whose hashed fields are ``fields`` (``at`` a datetime)."""
    hashed = {name: fields[name] for name in HASHED_FIELDS}
    hashed["at"] = fields["at"].astimezone(UTC).isoformat()
    return hashlib.sha256((prev_hash + canonical_json(hashed)).encode()).hexdigest()


def _head(conn: Connection, *, for_update: bool) -> RowMapping:
    query = select(schema.audit_head).where(schema.audit_head.c.slot == 1)
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).mappings().one()


class AuditLog:
    """The ``audit_log`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(
        self,
        actor: str,
        realm_id: str,
        operation: str,
        entity: str = "",
        entity_id: str = "",
        request_id: str = "",
        status: str = "",
        before: Any = None,
        after: Any = None,
    ) -> int:
        """Append one hash-chained row; returns its id."""
        fields: dict[str, Any] = {
            "at": datetime.now(UTC),
            "actor": actor,
            "realm_id": realm_id,
            "operation": operation,
            "entity": entity,
            "entity_id": str(entity_id),
            "request_id": request_id,
            "status": str(status),
            "before": None if before is None else canonical_json(before),
            "after": None if after is None else canonical_json(after),
        }
        refuse_inside_lock(self._engine, "store.audit.append")
        with self._engine.begin() as conn:
            head = _head(conn, for_update=True)  # the chain lock (SQLite: BEGIN IMMEDIATE)
            fields["id"] = head["last_id"] + 1
            fields["prev_hash"] = head["last_hash"]
            fields["hash"] = row_hash(head["last_hash"], fields)
            conn.execute(insert(schema.audit_log).values(**fields))
            conn.execute(
                update(schema.audit_head)
                .where(schema.audit_head.c.slot == 1)
                .values(last_id=fields["id"], last_hash=fields["hash"])
            )
        return int(fields["id"])

    def entries(self, realm_id: str | None = None) -> list[AuditEntry]:
        """Audit rows in order, of one realm or all."""
        with reader(self._engine).connect() as conn:
            rows = list(self._rows(conn, realm_id))
        return [
            AuditEntry(
                **{
                    **row,
                    "before": None if row["before"] is None else json.loads(row["before"]),
                    "after": None if row["after"] is None else json.loads(row["after"]),
                }
            )
            for row in rows
        ]

    def verify(self) -> int | None:
        """Id of the first row where the chain breaks (modified, missing, unrecorded), or None."""
        expected_id, prev_hash = 1, schema.GENESIS_HASH
        with reader(self._engine).connect() as conn:
            if conn.dialect.name == "postgresql":  # one snapshot for the head and every chunk
                conn.execution_options(isolation_level="REPEATABLE READ")
            head = _head(conn, for_update=False)
            for row in self._rows(conn, None):
                if row["id"] != expected_id:
                    return expected_id  # deleted row(s) before this one
                if row["prev_hash"] != prev_hash or row_hash(prev_hash, row) != row["hash"]:
                    return expected_id
                expected_id, prev_hash = expected_id + 1, row["hash"]
        last_id = expected_id - 1
        if head["last_id"] > last_id:
            return last_id + 1  # the tail was deleted
        if head["last_id"] < last_id:
            return head["last_id"] + 1  # rows appended behind the head's back
        return None if head["last_hash"] == prev_hash else last_id

    @staticmethod
    def _rows(conn: Connection, realm_id: str | None) -> Iterator[RowMapping]:
        """Rows by id, fetched in chunks so a long log is never held in memory at once."""
        table, after_id = schema.audit_log, 0
        while True:
            query = select(table).where(table.c.id > after_id)
            if realm_id is not None:
                query = query.where(table.c.realm_id == realm_id)
            chunk = conn.execute(query.order_by(table.c.id).limit(VERIFY_CHUNK_ROWS)).mappings()
            rows = chunk.all()
            if not rows:
                return
            yield from rows
            after_id = rows[-1]["id"]
