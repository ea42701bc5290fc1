"""The DuckDB warehouse file and the only way this package opens it.

Why a class around ``duckdb.connect``: DuckDB allows one read-write process per file and, inside
a process, one configuration per file (a read-only and a read-write connection cannot coexist).
``Warehouse.connect`` hides both rules:

- Writers in one process are serialised by a process-level lock per file, held for the life of
  the connection, so two threads merging different realms never race on DuckDB's optimistic
  concurrency (transaction conflicts on shared indexes and meta tables).
- Writers in different processes (Dagster runs) are serialised by the Dagster pool "warehouse";
  should one still find the file locked, it retries until ``busy_timeout`` then raises
  WarehouseBusyError.
- A read-only connection opens the file read-only, unless this process has it open read-write,
  in which case it shares that instance inside a READ ONLY transaction (a consistent snapshot that
  refuses writes).
- Read-write, the file is attached to an in-memory DuckDB instance with ROW_GROUP_SIZE rows per
  row group (an ATTACH option: a file opened directly gets 122,880) and every connection is a
  cursor of that instance using it. With small row groups a bulk insert writes (and compresses)
  full row groups on its own threads as it goes, and the commit's checkpoint compresses the rest
  a row group per thread: a first load of a bench company commits in half the time.
- A bulk writer (``connect(bulk=True)``, the merge's) runs with a memory limit, at most
  BULK_THREADS threads and without insertion order, so a very large merge spills to DuckDB's
  temp directory (``<file>.tmp`` beside the warehouse file, what DuckDB picks for a file it
  opens; set so when the instance is created) instead of growing the process. Those settings are
  DuckDB-global, so they are reset before the connection is closed (a reader of this process may
  share the instance).

Analysts never open this file: they read the published ``analytics.duckdb`` copy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from qb_pipeline import settings
from qb_pipeline.warehouse.schema import create_schema

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_SECONDS = 300.0
# DuckDB's memory limit for bulk writers (the merge): what it may hold before spilling to temp
# files beside the warehouse. Not a cap on the process (add ~150 MB of Python, Arrow and DuckDB
# itself), and not a floor to go far below: reading and writing large payloads needs ~40 MB of
# working memory per thread, which cannot spill (hence BULK_THREADS). A bench-size initial load
# holds ~200 MB of uncommitted rows: 224 MB keeps a load-only process under 400 MB.
DEFAULT_BULK_MEMORY_LIMIT = "224MB"
# At most this many DuckDB threads in a bulk writer: each needs its own unspillable working
# memory, so many threads under a fixed limit run out of memory; the merge gains nothing from
# more (its checkpoint is single-threaded).
BULK_THREADS = 2
# Rows per row group of everything written read-write (see the module doc). Measured on a
# bench-company first load and the incremental loads after it: 8,192 loads as fast but makes
# each incremental commit's checkpoint several times slower; 32,768 and up lose the first-load gain.
ROW_GROUP_SIZE = 16_384
_ALIAS = "warehouse"  # the attached file's catalog name inside the read-write instance
_RETRY_SECONDS = 0.2
_BULK_SETTINGS = ("memory_limit", "threads", "preserve_insertion_order")  # global: reset after


class WarehouseBusyError(RuntimeError):
    """The warehouse file stayed locked by another connection or process for too long."""


@dataclass
class _FileState:
    """What this process has open on one warehouse file."""

    write_lock: threading.RLock = field(default_factory=threading.RLock)
    guard: threading.Condition = field(default_factory=threading.Condition)
    mode: str | None = None  # "rw" or "ro": the configuration DuckDB has the file open with
    open_count: int = 0
    instance: duckdb.DuckDBPyConnection | None = None  # "rw": the instance the file is attached to


# Process-wide by necessity: the lock must be shared by every Warehouse object on the same file.
_FILES: dict[Path, _FileState] = {}
_FILES_LOCK = threading.Lock()


def _file_state(path: Path) -> _FileState:
    with _FILES_LOCK:
        return _FILES.setdefault(path, _FileState())


def default_path() -> Path:
    """settings.qb_home() / "warehouse" / "warehouse.duckdb"."""
    return settings.qb_home() / "warehouse" / "warehouse.duckdb"


class Warehouse:
    """One warehouse file: short-lived connections and the schema."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        bulk_memory_limit: str = DEFAULT_BULK_MEMORY_LIMIT,
        bulk_threads: int = BULK_THREADS,
    ) -> None:
        if bulk_threads < 1:
            raise ValueError("bulk_threads must be >= 1")
        self.path = Path(path).resolve() if path is not None else default_path()
        self.busy_timeout = busy_timeout
        self.bulk_memory_limit = bulk_memory_limit
        self.bulk_threads = bulk_threads
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    @contextmanager
    def connect(
        self, read_only: bool = False, *, bulk: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work, closed (and the write lock released) on exit.

        ``bulk``: a writer tuned for large merges (memory limit, spilling; see the module doc).
        """
        state = _file_state(self.path)
        if read_only:
            with self._reader(state) as con:
                yield con
            return
        if not state.write_lock.acquire(timeout=self.busy_timeout):
            raise WarehouseBusyError(f"{self.path}: another writer held it {self.busy_timeout}s")
        try:
            with self._writer(state) as con:
                if not bulk:
                    yield con
                    return
                self._set_bulk(con)
                try:
                    yield con
                finally:
                    _reset_bulk(con)
        finally:
            state.write_lock.release()

    @property
    def temp_directory(self) -> Path:
        """Where DuckDB spills: ``<warehouse file>.tmp`` beside the file (DuckDB's default).

        Given to the read-write instance when it is created, and never switched after: DuckDB
        refuses to once anything spilled there.
        """
        return self.path.with_name(self.path.name + ".tmp")

    def ensure_schema(self) -> None:
        """Create schemas, meta tables and every raw table if missing (cheap after the first)."""
        if self._schema_ready:
            return
        with self.connect() as con:
            create_schema(con)
        self._schema_ready = True

    # -- internals -----------------------------------------------------------------------------
    @contextmanager
    def _writer(self, state: _FileState) -> Iterator[duckdb.DuckDBPyConnection]:
        with state.guard:
            ok = state.guard.wait_for(lambda: state.mode != "ro", timeout=self.busy_timeout)
            if not ok:
                raise WarehouseBusyError(f"{self.path}: read-only connections stayed open")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if state.instance is None:
                state.instance = self._attach()
            con = _cursor(state.instance)
            state.mode, state.open_count = "rw", state.open_count + 1
        try:
            yield con
        finally:
            self._close(state, con)

    @contextmanager
    def _reader(self, state: _FileState) -> Iterator[duckdb.DuckDBPyConnection]:
        with state.guard:
            shared = state.instance is not None
            if not shared and not self.path.exists():
                raise FileNotFoundError(f"no warehouse at {self.path}")
            con = _cursor(state.instance) if state.instance else self._open_read_only()
            state.mode, state.open_count = state.mode or "ro", state.open_count + 1
        try:
            if shared:
                con.execute("BEGIN TRANSACTION READ ONLY")
            yield con
        finally:
            self._close(state, con)

    def _open_read_only(self) -> duckdb.DuckDBPyConnection:
        """duckdb.connect read-only, retrying while another process holds the file lock."""
        con = self._retrying(lambda: duckdb.connect(str(self.path), read_only=True))
        con.execute("SET TimeZone = 'UTC'")
        return con

    def _attach(self) -> duckdb.DuckDBPyConnection:
        """The read-write instance: in memory, the file attached with small row groups."""
        attach = f"ATTACH {_literal(str(self.path))} AS {_ALIAS} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})"

        def attached() -> duckdb.DuckDBPyConnection:
            instance = duckdb.connect(config={"temp_directory": str(self.temp_directory)})
            try:
                instance.execute(attach)
            except BaseException:
                instance.close()
                raise
            return instance

        return self._retrying(attached)

    def _retrying(
        self, open_file: Callable[[], duckdb.DuckDBPyConnection]
    ) -> duckdb.DuckDBPyConnection:
        """``open_file()``, retried while another process holds the file lock."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return open_file()
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise WarehouseBusyError(f"{self.path}: {error}") from error
                time.sleep(_RETRY_SECONDS)

    def _set_bulk(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute(f"SET memory_limit = '{_setting(self.bulk_memory_limit)}'")
        except duckdb.Error as error:  # e.g. a shared instance already holding more: go on
            logger.warning("%s: bulk memory limit not set: %s", self.path, error)
        row = con.execute("SELECT current_setting('threads')").fetchone()
        if row is None or int(row[0]) > self.bulk_threads:
            con.execute(f"SET threads = {int(self.bulk_threads)}")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")  # this connection only: no bars in logs

    @staticmethod
    def _close(state: _FileState, con: duckdb.DuckDBPyConnection) -> None:
        with state.guard:
            try:
                con.close()
            finally:
                state.open_count -= 1
                if state.open_count == 0:
                    state.mode = None
                    instance, state.instance = state.instance, None
                    if instance is not None:
                        instance.close()  # detaches the file (a checkpoint) and frees the instance
                state.guard.notify_all()


def _cursor(instance: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new connection to the read-write instance, on the warehouse file."""
    con = instance.cursor()
    con.execute(f"USE {_ALIAS}")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _literal(text: str) -> str:
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _setting(value: str) -> str:
    """A value for a SET statement (which takes no parameters), quotes doubled."""
    return value.replace("'", "''")


def _reset_bulk(con: duckdb.DuckDBPyConnection) -> None:
    """Back to DuckDB's defaults; a failed reset is only logged (the connection is closing)."""
    for name in _BULK_SETTINGS:
        try:
            con.execute(f"RESET {name}")
        except duckdb.Error as error:  # pragma: no cover - defensive: the close still happens
            logger.warning("could not reset %s on %s: %s", name, con, error)
