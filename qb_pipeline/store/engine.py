"""Engines for the operational store: SQLite (WAL, busy timeout, BEGIN IMMEDIATE) or PostgreSQL.

On SQLite, SQLAlchemy emits our own BEGIN (the sqlite3 module's implicit one is switched off), so
every write transaction starts with ``BEGIN IMMEDIATE``: it takes the database's write lock up
front, waiting up to the busy timeout, which serialises writers across threads and processes and
avoids the deferred-transaction upgrade failure. Reads go through ``reader(engine)``, whose
transactions are plain deferred ``BEGIN`` and never wait for writers (WAL).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, inspect, text
from sqlalchemy.engine import Connection, make_url

from qb_pipeline.store import schema

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0
BEGIN_OPTION = "qb_sqlite_begin"  # execution option: "IMMEDIATE" (default) or "DEFERRED"
_SCHEMA_LOCK_KEY = (
    0x71625F73746F7265  # pg_advisory_xact_lock key while creating tables ("qb_store")
)
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 40  # 20 threads in a process each waiting on a row lock still get a connection
POOL_TIMEOUT_SECONDS = 60.0

_holding = threading.local()  # ids of the engines on which this thread holds a locked() row


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the store's connection settings (creates SQLite's directory)."""
    parsed = make_url(url)
    pool: dict[str, Any] = {
        "pool_size": POOL_SIZE,
        "max_overflow": POOL_MAX_OVERFLOW,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
    }
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ValueError(
                f"the store needs an SQLite file, not {url!r}: its locks work across processes"
            )
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            **pool,
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **pool)
    raise ValueError(
        f"unsupported store URL scheme {parsed.drivername!r}: use sqlite or postgresql"
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL, busy timeout and foreign keys per connection; SQLAlchemy emits BEGIN itself."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the sqlite3 module
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def reader(engine: Engine) -> Engine:
    """The same engine whose transactions only read (deferred BEGIN on SQLite)."""
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


def create_schema(engine: Engine) -> None:
    """Create missing tables and the audit chain's head row; safe when processes race."""
    if _schema_ready(engine):
        return  # the usual case; no write lock, so opening never waits for a busy writer
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Concurrent CREATE TABLE in PostgreSQL collide on the catalogue; take turns.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        schema.metadata.create_all(conn)
        head = conn.execute(schema.audit_head.select().where(schema.audit_head.c.slot == 1))
        if head.first() is None:
            conn.execute(
                insert(schema.audit_head).values(slot=1, last_id=0, last_hash=schema.GENESIS_HASH)
            )
    log.debug("store schema ready (%s)", engine.dialect.name)


def _schema_ready(engine: Engine) -> bool:
    """Whether every table and the audit head row exist (read only)."""
    with reader(engine).connect() as conn:
        existing = set(inspect(conn).get_table_names())
        if not set(schema.metadata.tables) <= existing:
            return False
        head = conn.execute(schema.audit_head.select().where(schema.audit_head.c.slot == 1))
        return head.first() is not None


@contextmanager
def holding_lock(engine: Engine) -> Iterator[None]:
    """Mark this thread as holding a ``locked()`` transaction on ``engine`` for the block."""
    held: set[int] = getattr(_holding, "engines", set())
    _holding.engines = held
    held.add(id(engine))
    try:
        yield
    finally:
        held.discard(id(engine))


def refuse_inside_lock(engine: Engine, operation: str) -> None:
    """Raise at once where waiting would self-deadlock: another write while holding ``locked()``.

    On SQLite the held transaction owns the database's write lock, so a second transaction from
    the same thread would wait out the busy timeout; on PostgreSQL a second lock on the same row
    would wait forever.
    """
    if id(engine) in getattr(_holding, "engines", ()):
        raise RuntimeError(
            f"{operation} inside store.connections.locked(): use the LockedConnection's "
            "save/event/alert, which write in the held transaction"
        )
