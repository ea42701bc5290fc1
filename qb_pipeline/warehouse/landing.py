"""Landing batches: immutable Parquet files of extracted QBO objects, one realm and entity each.

Extraction writes pages here without touching the warehouse (no DB lock, so realms extract
concurrently); the merge step later folds them into ``raw``. A file is written under a dot-name
and renamed into place, so a reader sees whole batches or nothing; a crash mid-write leaves only
a ``.tmp`` file that nothing reads. Layout::

    <root>/realm=<realm_id>/entity=<Entity>/batch-<utc ts>-<seq>-<writer>.parquet

Columns: realm_id, entity, id, sync_token, last_updated_at, deleted, payload (JSON text),
extracted_at. A CDC ``status: Deleted`` stub lands as a tombstone row (deleted = true).
ExchangeRate has no Id: its id is the SourceCurrencyCode (one current rate per currency).
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from qb_pipeline.warehouse.schema import canonical_entity
from qb_pipeline.warehouse.warehouse import Warehouse

logger = logging.getLogger(__name__)

DEFAULT_MAX_ROWS_PER_FILE = 10_000
# Rows are held (as NDJSON) until a file's worth is in: a file ends at whichever comes first, so
# a writer never holds more than this many bytes, however large the objects.
DEFAULT_MAX_BYTES_PER_FILE = 8 * 2**20
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_TS_FORMAT = "%Y%m%dT%H%M%S%fZ"
_BATCH_NAME = re.compile(r"^batch-(\d{8}T\d{12}Z)-\d+-[0-9a-f]+$")

LANDING_SCHEMA = pa.schema(
    [
        ("realm_id", pa.string()),
        ("entity", pa.string()),
        ("id", pa.string()),
        ("sync_token", pa.int64()),
        ("last_updated_at", pa.timestamp("us", tz="UTC")),
        ("deleted", pa.bool_()),
        ("payload", pa.string()),
        ("extracted_at", pa.timestamp("us", tz="UTC")),
    ]
)


class LandingError(ValueError):
    """An object that cannot be landed (no Id, no LastUpdatedTime, bad SyncToken)."""


@dataclass(frozen=True)
class LandingBatch:
    """One landed Parquet file."""

    batch_id: str
    realm_id: str
    entity: str
    path: Path
    rows: int
    created_at: datetime


def realm_dir(root: Path | str, realm_id: str) -> Path:
    """``<root>/realm=<realm_id>`` (realm ids are checked: they become a path segment)."""
    if not _SAFE_SEGMENT.match(realm_id):
        raise ValueError(f"realm_id {realm_id!r} is not a safe path segment")
    return Path(root) / f"realm={realm_id}"


def object_id(entity: str, obj: Mapping[str, Any]) -> str:
    """The key of an object in its raw table: its Id (ExchangeRate: SourceCurrencyCode)."""
    value = obj.get("Id")
    if value is None and entity == "ExchangeRate":
        value = obj.get("SourceCurrencyCode")
    if value is None or str(value) == "":
        raise LandingError(f"{entity} object without an Id: {str(obj)[:200]}")
    return str(value)


def parse_qbo_time(text: str) -> datetime:
    """QBO MetaData times (``2023-02-18T13:13:33-08:00``) as aware datetimes."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise LandingError(f"time without an offset: {text!r}")
    return value


def landing_row(
    entity: str, obj: Mapping[str, Any], deleted: bool
) -> tuple[str, int | None, datetime, bool, str]:
    """(id, sync_token, last_updated_at, deleted, payload JSON) for one QBO object or stub."""
    key = object_id(entity, obj)
    stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime")
    if not stamp:
        raise LandingError(f"{entity} {key} has no MetaData.LastUpdatedTime")
    token = obj.get("SyncToken")
    try:
        sync_token = int(token) if token not in (None, "") else None
    except (TypeError, ValueError):
        raise LandingError(f"{entity} {key} has a bad SyncToken {token!r}") from None
    is_deleted = deleted or obj.get("status") == "Deleted"
    payload = orjson.dumps(obj).decode()
    return key, sync_token, parse_qbo_time(stamp), is_deleted, payload


class BackgroundWrites:
    """Landing files compressed and written on one background thread, so the thread that
    fetches pages never waits on Parquet encoding and fsync. At most ``max_pending`` files wait
    (a further write waits for the oldest), so memory holds that many files' rows at most.
    A failed write raises on the next ``submit`` or on ``drain``."""

    def __init__(self, max_pending: int = 2) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be >= 1")
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="landing-write")
        self._pending: deque[Future[None]] = deque()

    def submit(self, lines: list[bytes], path: Path) -> None:
        while len(self._pending) >= self.max_pending:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(_write_file, lines, path))

    def then(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the writing thread once every file submitted so far is in place
        (or failed: the failure still raises on the next ``submit`` or on ``drain``)."""
        self._pool.submit(callback)

    def drain(self) -> None:
        """Wait until every submitted file is in place (raising the first failure)."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True)


class LandingWriter:
    """Streams pages of one realm's entity into batch files; never buffers more than one file
    (plus, with ``background``, the files waiting there).

    >>> with LandingWriter(root, "9130", "Invoice", max_rows_per_file=1000) as writer:
    ...     for page in pages:
    ...         writer.write_page(page)
    >>> writer.batches  # every file written, in order
    """

    def __init__(
        self,
        root: Path | str,
        realm_id: str,
        entity: str,
        max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE,
        max_bytes_per_file: int = DEFAULT_MAX_BYTES_PER_FILE,
        background: BackgroundWrites | None = None,
    ) -> None:
        """``background``: write files there (``close`` then returns before they are in
        place: the owner drains it); else each file is written before ``write_*`` returns."""
        if max_rows_per_file < 1 or max_bytes_per_file < 1:
            raise ValueError("max_rows_per_file and max_bytes_per_file must be >= 1")
        self.realm_id = realm_id
        self.entity = canonical_entity(entity)
        self.directory = realm_dir(root, realm_id) / f"entity={self.entity}"
        self.max_rows_per_file = max_rows_per_file
        self.max_bytes_per_file = max_bytes_per_file
        self.batches: list[LandingBatch] = []
        self._token = secrets.token_hex(4)
        self._lines: list[bytes] = []  # one NDJSON line per row: the only rows held in memory
        self._bytes = 0
        self._last_created: datetime | None = None
        self._closed = False
        self._background = background

    @property
    def buffered(self) -> int:
        """Rows held in memory, waiting for the next file."""
        return len(self._lines)

    def write_page(
        self,
        objects: Iterable[Mapping[str, Any]],
        deleted: bool = False,
        extracted_at: datetime | None = None,
    ) -> None:
        """Add a page of objects (or tombstone stubs: deleted=True or ``status: Deleted``)."""
        self.write_lines(encode_page(self.realm_id, self.entity, objects, deleted, extracted_at))

    def write_lines(self, lines: Iterable[bytes]) -> None:
        """Add rows already encoded by :func:`encode_page` (for this realm and entity)."""
        if self._closed:
            raise RuntimeError("LandingWriter is closed")
        for line in lines:
            self._lines.append(line)
            self._bytes += len(line)
            if len(self._lines) >= self.max_rows_per_file or self._bytes >= self.max_bytes_per_file:
                self._flush()

    def close(self) -> list[LandingBatch]:
        """Write what is buffered; returns every batch this writer produced (with
        ``background``: once that is drained are they all in place)."""
        if not self._closed:
            self._flush()
            self._closed = True
        return list(self.batches)

    def __enter__(self) -> LandingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Rows already read are real changes: landing them even on error loses nothing, and
        # the cursor has not moved, so the next run re-reads whatever this one missed.
        self.close()

    def _flush(self) -> None:
        if not self._lines:
            return
        created = self._next_created()
        batch_id = f"batch-{created.strftime(_TS_FORMAT)}-{len(self.batches):06d}-{self._token}"
        path = self.directory / f"{batch_id}.parquet"
        self.directory.mkdir(parents=True, exist_ok=True)
        lines, rows = self._lines, len(self._lines)
        self._lines, self._bytes = [], 0
        if self._background is None:
            _write_file(lines, path)
        else:
            self._background.submit(lines, path)
        self.batches.append(LandingBatch(batch_id, self.realm_id, self.entity, path, rows, created))
        logger.debug("landed %s rows in %s", rows, path)

    def _next_created(self) -> datetime:
        """File time, strictly increasing within a writer so names sort in write order."""
        now = datetime.now(UTC)
        if self._last_created is not None and now <= self._last_created:
            now = self._last_created + timedelta(microseconds=1)
        self._last_created = now
        return now


def encode_page(
    realm_id: str,
    entity: str,
    objects: Iterable[Mapping[str, Any]],
    deleted: bool = False,
    extracted_at: datetime | None = None,
) -> list[bytes]:
    """A page of objects as landing rows (newline-terminated NDJSON), touching no writer:
    callers encode on the thread that fetched the page, so the parsed objects are freed there
    and only compact lines wait for the writer."""
    entity = canonical_entity(entity)
    extracted = _utc_text(extracted_at or datetime.now(UTC))
    lines = []
    for obj in objects:
        key, sync_token, updated, is_deleted, payload = landing_row(entity, obj, deleted)
        row = {
            "realm_id": realm_id,
            "entity": entity,
            "id": key,
            "sync_token": sync_token,
            "last_updated_at": _utc_text(updated),
            "deleted": is_deleted,
            "payload": payload,
            "extracted_at": extracted,
        }
        # "+ newline" also copies the line out of orjson's output buffer (16 KB whatever the
        # line's length): kept as-is, a page of 2 KB rows would hold ten times its size.
        lines.append(orjson.dumps(row) + b"\n")
    return lines


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _table(lines: list[bytes]) -> pa.Table:
    """Arrow table from NDJSON rows (Arrow's JSON reader, unlike pa.array, never loads pandas)."""
    data = b"".join(lines)  # each line ends with its newline
    return pa_json.read_json(
        io.BytesIO(data),
        read_options=pa_json.ReadOptions(block_size=len(data) + 1),
        parse_options=pa_json.ParseOptions(
            explicit_schema=LANDING_SCHEMA, unexpected_field_behavior="error"
        ),
    )


def _write_file(lines: list[bytes], path: Path) -> None:
    _write_atomically(_table(lines), path)


def _write_atomically(table: pa.Table, path: Path) -> None:
    """Write to a hidden temp name, fsync, rename: readers see the whole file or none."""
    temp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temp, compression="zstd")
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, path)
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some platforms; the rename still holds
        return
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def landed_batches(root: Path | str, realm_id: str) -> list[LandingBatch]:
    """Every batch file on disk for a realm, oldest first (sorted by batch id)."""
    return [_batch(realm_id, path) for path in _batch_paths(root, realm_id)]


def _batch_paths(root: Path | str, realm_id: str) -> list[Path]:
    """The realm's batch files, by batch id (names alone: no file is opened)."""
    paths = realm_dir(root, realm_id).glob("entity=*/batch-*.parquet")
    return sorted((p for p in paths if _BATCH_NAME.match(p.stem)), key=lambda p: p.stem)


def _batch(realm_id: str, path: Path) -> LandingBatch:
    """The batch a file holds (its row count read from the Parquet footer)."""
    match = _BATCH_NAME.match(path.stem)
    assert match is not None  # _batch_paths keeps only batch names
    entity = path.parent.name.removeprefix("entity=")
    created = datetime.strptime(match.group(1), _TS_FORMAT).replace(tzinfo=UTC)
    rows = pq.read_metadata(path).num_rows
    return LandingBatch(path.stem, realm_id, entity, path, rows, created)


def pending_batches(root: Path | str, warehouse: Warehouse, realm_id: str) -> list[LandingBatch]:
    """Batches landed for a realm but not merged yet (what a crashed run left behind). Only
    those files are opened: a realm's merged history is skipped by name."""
    landed = _batch_paths(root, realm_id)
    if not landed:
        return []
    warehouse.ensure_schema()
    with warehouse.connect(read_only=True) as con:
        merged = {
            row[0]
            for row in con.execute(
                "SELECT batch_id FROM meta.landing_batch "
                "WHERE realm_id = ? AND merged_at IS NOT NULL",
                [realm_id],
            ).fetchall()
        }
    return [_batch(realm_id, path) for path in landed if path.stem not in merged]
