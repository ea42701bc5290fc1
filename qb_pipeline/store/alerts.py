"""Alerts: something a person must look at (a disconnected realm, an expiring grant, ...).

At most one alert per realm and kind is open: raising it again refreshes its message and severity
and returns the same id, so a retry loop cannot flood the health page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from qb_pipeline.store import schema
from qb_pipeline.store.engine import reader, refuse_inside_lock

SEVERITIES = ("info", "warning", "error", "critical")


@dataclass(frozen=True)
class Alert:
    """An alert; ``resolved_at`` is None while it is open."""

    id: int
    realm_id: str
    kind: str
    severity: str
    message: str
    created_at: datetime
    resolved_at: datetime | None


def raise_alert(conn: Connection, realm_id: str, kind: str, message: str, severity: str) -> int:
    """Open (or refresh the open) alert of this realm and kind in the caller's transaction."""
    if severity not in SEVERITIES:
        raise ValueError(f"alert severity {severity!r} not in {SEVERITIES}")
    table = schema.alerts
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(
        realm_id=realm_id,
        kind=kind,
        severity=severity,
        message=message,
        created_at=datetime.now(UTC),
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.realm_id, table.c.kind],
        index_where=table.c.resolved_at.is_(None),
        set_={"message": statement.excluded.message, "severity": statement.excluded.severity},
    ).returning(table.c.id)
    return int(conn.execute(statement).scalar_one())


class Alerts:
    """The ``alerts`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def raise_(self, realm_id: str, kind: str, message: str, severity: str = "error") -> int:
        """Open an alert (or refresh the open one of this kind); returns its id."""
        refuse_inside_lock(self._engine, "store.alerts.raise_")
        with self._engine.begin() as conn:
            return raise_alert(conn, realm_id, kind, message, severity)

    def open(self, realm_id: str | None = None) -> list[Alert]:
        """Open alerts, oldest first, of one realm or all."""
        table = schema.alerts
        query = select(table).where(table.c.resolved_at.is_(None)).order_by(table.c.id)
        if realm_id is not None:
            query = query.where(table.c.realm_id == realm_id)
        with reader(self._engine).connect() as conn:
            return [Alert(**row) for row in conn.execute(query).mappings()]

    def resolve(self, realm_id: str, kind: str) -> int:
        """Resolve the realm's open alerts of this kind; returns how many were open."""
        table = schema.alerts
        statement = (
            update(table)
            .where(table.c.realm_id == realm_id, table.c.kind == kind)
            .where(table.c.resolved_at.is_(None))
            .values(resolved_at=datetime.now(UTC))
        )
        refuse_inside_lock(self._engine, "store.alerts.resolve")
        with self._engine.begin() as conn:
            return conn.execute(statement).rowcount
