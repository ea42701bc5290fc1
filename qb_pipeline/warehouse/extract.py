"""Extract one realm from QBO into landing batches, and write the manifest that lets load move
its cursors (DESIGN "Contracts"). No warehouse writes happen here, so realms extract in parallel.

How each entity is read:

- ``full``: first load, a cursor older than the CDC window (QBO refuses changedSince > 30 days
  back; we re-list after 29), and entities CDC does not serve (TaxCode, TaxRate, TaxAgency,
  ExchangeRate: small lists, listed every run). Query paging ordered by
  (MetaData.LastUpdatedTime, Id), ``Active IN (true, false)`` on name lists, pages of 1,000.
  A listing that fits one page is an atomic snapshot. A longer one is COUNTed first (its answer
  time is the listing start), its pages fetched by a pool (up to 10 in flight, written as they
  arrive: memory holds at most the pages in flight), then checked: offset paging skips a row
  only when an earlier row leaves the ordered set (an update moves it past the listing start, a
  delete removes it), which shows as ``COUNT(LastUpdatedTime <= start)`` dropping between a
  count before the pages and one after; such a listing is redone. Rows stamped after the start
  are re-read by the next run anyway (the cursor is the start minus the overlap).
  The Ids of a complete listing go into the manifest so load tombstones hard deletes CDC can no
  longer report (re-baseline).
- ``cdc``: one CDC call for every other entity (chunked by ``CDC_CHUNK``) from the oldest cursor.
- ``fallback``: a CDC answer at the 1,000-object cap may be cut anywhere, so each entity of that
  call is completed by query paging ``MetaData.LastUpdatedTime >= since``. Hard deletes past the
  cut are not visible to a query: they arrive with the next re-baseline.

Cursor = the server's time of the answer (envelope ``time``) minus ``overlap``: a late commit or a
same-second edit falls inside the next read; the duplicates this brings are folded by merge.
Simplification: ``QBOClient`` keeps the envelope time to itself, so ``_Api`` calls its private
``_json`` (same retries, limiter and auth as the public methods).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from qb_pipeline import settings
from qb_pipeline.qbo.client import QBOClient, _Call
from qb_pipeline.qbo.entities import entity as qbo_entity
from qb_pipeline.qbo.query import CDC_MAX_OBJECTS, Query, rows_of, select
from qb_pipeline.qbo.ratelimit import CallKind
from qb_pipeline.warehouse.cursors import cursors
from qb_pipeline.warehouse.landing import LandingWriter, object_id, parse_qbo_time
from qb_pipeline.warehouse.manifest import (
    EntityExtract,
    ExtractManifest,
    new_manifest_path,
    write_manifest,
)
from qb_pipeline.warehouse.schema import RAW_ENTITIES, canonical_entity
from qb_pipeline.warehouse.warehouse import Warehouse

logger = logging.getLogger(__name__)

__all__ = [
    "CDC_WINDOW",
    "SYNC_ENTITIES",
    "EntityExtract",
    "ExtractError",
    "ExtractManifest",
    "extract_realm",
]

# QBO serves these, the emulator does not (yet): add them here once it does.
_NOT_SERVED = frozenset({"CreditCardPayment", "TimeActivity", "Budget", "CompanyCurrency"})
SYNC_ENTITIES: tuple[str, ...] = tuple(e for e in RAW_ENTITIES if e not in _NOT_SERVED)
CDC_WINDOW = timedelta(days=29)  # QBO refuses changedSince more than 30 days back
CDC_CHUNK = 30  # entities per CDC call (keeps the URL short)
PAGE_SIZE = settings.PAGE_SIZE
MAX_IN_FLIGHT = settings.MAX_IN_FLIGHT
LISTING_ATTEMPTS = 3
_LUT = "MetaData.LastUpdatedTime"


class ExtractError(RuntimeError):
    """An extract that cannot complete (a listing kept changing under us)."""


@dataclass(frozen=True)
class _Listing:
    """A query-paged entity: Ids seen and when the listing began (server time)."""

    ids: frozenset[str]
    started_at: datetime


class _Api:
    """The few calls extraction makes, counted, each with the server's time of its answer."""

    def __init__(self, client: QBOClient, now: Callable[[], datetime]) -> None:
        self._client = client
        self._now = now
        self._lock = threading.Lock()
        self.calls = 0

    def page(self, query: Query, start: int) -> tuple[list[dict[str, Any]], datetime]:
        data = self._envelope("/query", CallKind.QUERY, (("query", query.page(start, PAGE_SIZE)),))
        return rows_of(data.get("QueryResponse") or {}, query.entity), self._time(data)

    def count(self, query: Query) -> tuple[int, datetime]:
        data = self._envelope("/query", CallKind.QUERY, (("query", query.count_sql),))
        return int((data.get("QueryResponse") or {}).get("totalCount", 0)), self._time(data)

    def cdc(self, names: Sequence[str], since: datetime) -> tuple[dict[str, list[dict]], datetime]:
        """Every object and delete stub per entity (stubs keep their LastUpdatedTime)."""
        params = (
            ("entities", ",".join(names)),
            ("changedSince", since.isoformat(timespec="seconds")),
        )
        data = self._envelope("/cdc", CallKind.CDC, params)
        found: dict[str, list[dict]] = {name: [] for name in names}
        for block in data.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for name, rows in found.items():
                    rows.extend(rows_of(response, name))
        return found, self._time(data)

    def _envelope(self, path: str, kind: CallKind, params: tuple[tuple[str, str], ...]) -> dict:
        with self._lock:
            self.calls += 1
        return self._client._json(_Call("GET", path, kind, params))

    def _time(self, data: Mapping[str, Any]) -> datetime:
        text = data.get("time")
        return parse_qbo_time(text).astimezone(UTC) if text else self._now()


class _Landing:
    """One LandingWriter per entity, opened on first rows; used from the calling thread only."""

    def __init__(self, root: Path, realm_id: str) -> None:
        self.root, self.realm_id = root, realm_id
        self.writers: dict[str, LandingWriter] = {}
        self.rows: dict[str, int] = {}
        self.deleted: dict[str, int] = {}
        self.batch_ids: list[str] = []

    def write(self, entity: str, objects: list[dict[str, Any]]) -> None:
        if not objects:
            return
        writer = self.writers.get(entity)
        if writer is None:
            writer = self.writers[entity] = LandingWriter(self.root, self.realm_id, entity)
        writer.write_page(objects)
        stubs = sum(1 for obj in objects if obj.get("status") == "Deleted")
        self.rows[entity] = self.rows.get(entity, 0) + len(objects) - stubs
        self.deleted[entity] = self.deleted.get(entity, 0) + stubs

    def finish(self, entity: str) -> None:
        """Land what an entity has buffered (its rows leave memory; a later write reopens)."""
        writer = self.writers.pop(entity, None)
        if writer is not None:
            self.batch_ids.extend(b.batch_id for b in writer.close())

    def close(self) -> tuple[str, ...]:
        """Close every writer (landing what is buffered); the batch ids written."""
        for entity in list(self.writers):
            self.finish(entity)
        return tuple(self.batch_ids)


def extract_realm(
    client: QBOClient,
    warehouse: Warehouse,
    landing_root: Path,
    *,
    entities: Sequence[str] | None = None,
    overlap: timedelta = timedelta(minutes=5),
    now: Callable[[], datetime] | None = None,
    cdc_max_objects: int = CDC_MAX_OBJECTS,
) -> ExtractManifest:
    """Land every change of the realm since its cursors; the manifest written last."""
    clock = now or (lambda: datetime.now(UTC))
    started, realm_id = clock(), client.realm_id
    names = [canonical_entity(e) for e in (entities or SYNC_ENTITIES)]
    full, incremental = _plan(names, warehouse, realm_id, started)
    api, landing = _Api(client, clock), _Landing(Path(landing_root), realm_id)
    results: dict[str, EntityExtract] = {}
    try:
        with _pool() as pool:
            for chunk_start in range(0, len(incremental), CDC_CHUNK):
                chunk = dict(list(incremental.items())[chunk_start : chunk_start + CDC_CHUNK])
                results |= _extract_cdc(api, pool, landing, chunk, overlap, cdc_max_objects)
            results |= _extract_full(api, pool, landing, full, overlap)
    finally:
        batch_ids = landing.close()  # rows read are real changes: land them even on error
    rebaseline = any(qbo_entity(e).cdc for e in full)
    manifest = ExtractManifest(
        realm_id=realm_id,
        mode="full" if rebaseline else "cdc",
        entities={name: results[name] for name in names},
        api_calls=api.calls,
        started_at=started,
        finished_at=clock(),
        path=new_manifest_path(landing_root, realm_id, started),
        batch_ids=batch_ids,
    )
    write_manifest(manifest)
    logger.info(
        "extracted realm %s (%s): %d rows, %d API calls",
        realm_id, manifest.mode, sum(e.rows for e in results.values()), api.calls,
    )  # fmt: skip
    return manifest


def _plan(
    names: Sequence[str], warehouse: Warehouse, realm_id: str, now: datetime
) -> tuple[list[str], dict[str, datetime]]:
    """(entities to list in full, {entity: cursor} for CDC)."""
    known = cursors(warehouse, realm_id)
    full, incremental = [], {}
    for name in names:
        found = known.get(name)
        if not qbo_entity(name).cdc or found is None or found.cursor_at < now - CDC_WINDOW:
            full.append(name)
        else:
            incremental[name] = found.cursor_at
    return full, incremental


@contextmanager
def _pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(MAX_IN_FLIGHT, thread_name_prefix="qbo-extract")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _extract_cdc(
    api: _Api,
    pool: ThreadPoolExecutor,
    landing: _Landing,
    since_by_entity: Mapping[str, datetime],
    overlap: timedelta,
    cap: int,
) -> dict[str, EntityExtract]:
    """One CDC call; at the cap, every entity of the call is completed by query paging."""
    since = min(since_by_entity.values())
    answer, answered_at = api.cdc(list(since_by_entity), since)
    for name, objects in answer.items():
        landing.write(name, objects)
        landing.finish(name)
    capped = sum(map(len, answer.values())) >= cap
    if capped:
        logger.info("realm %s: CDC answer at the cap (%d); query paging", landing.realm_id, cap)
        queries = {name: _listing(name).where(_LUT, ">=", since) for name in answer}
        _list_entities(api, pool, landing, queries)
    mode = "fallback" if capped else "cdc"
    return {
        name: EntityExtract(
            name,
            mode,
            landing.rows.get(name, 0),
            landing.deleted.get(name, 0),
            answered_at - overlap,
        )
        for name in since_by_entity
    }


def _extract_full(
    api: _Api,
    pool: ThreadPoolExecutor,
    landing: _Landing,
    names: Sequence[str],
    overlap: timedelta,
) -> dict[str, EntityExtract]:
    """Complete listings: rows, Ids and a cursor from when each listing began."""
    listings = _list_entities(api, pool, landing, {name: _listing(name) for name in names})
    return {
        name: EntityExtract(
            name,
            "full",
            landing.rows.get(name, 0),
            0,
            listing.started_at - overlap,
            live_ids=listing.ids,
            live_ids_at=listing.started_at,
        )
        for name, listing in listings.items()
    }


def _listing(name: str) -> Query:
    """Every row of an entity (inactive name-list rows too), in a total order."""
    query = select(name, include_inactive=True)
    return query.order_by(_LUT).order_by("Id")


def _list_entities(
    api: _Api, pool: ThreadPoolExecutor, landing: _Landing, queries: Mapping[str, Query]
) -> dict[str, _Listing]:
    """Page every query; first pages in parallel, longer listings COUNTed and checked."""
    probes = {name: pool.submit(api.page, query, 1) for name, query in queries.items()}
    listings: dict[str, _Listing] = {}
    longer = []
    for name, probe in probes.items():
        rows, answered_at = probe.result()
        landing.write(name, rows)
        if len(rows) < PAGE_SIZE:  # one page: an atomic snapshot
            listings[name] = _Listing(frozenset(object_id(name, r) for r in rows), answered_at)
            landing.finish(name)
        else:
            longer.append(name)
    for name in longer:
        listings[name] = _list_long(api, pool, landing, name, queries[name])
        landing.finish(name)
    return listings


def _list_long(
    api: _Api, pool: ThreadPoolExecutor, landing: _Landing, name: str, query: Query
) -> _Listing:
    """COUNT, pages in parallel, then check no row left the listed set meanwhile."""
    for attempt in range(1, LISTING_ATTEMPTS + 1):
        total, started_at = api.count(query)
        settled = query.where(_LUT, "<=", started_at)  # rows no later than the listing start
        before, _ = api.count(settled)
        ids = _pages(api, pool, landing, name, query, total)
        after, _ = api.count(settled)
        if before == after and len(ids) >= before:
            return _Listing(frozenset(ids), started_at)
        logger.warning(
            "realm %s: %s changed while listed (%d settled rows, then %d, %d seen; attempt %d)",
            landing.realm_id, name, before, after, len(ids), attempt,
        )  # fmt: skip
    raise ExtractError(f"{name} kept changing while listed ({LISTING_ATTEMPTS} attempts)")


def _pages(
    api: _Api, pool: ThreadPoolExecutor, landing: _Landing, name: str, query: Query, count: int
) -> set[str]:
    """Every page of a query, at most MAX_IN_FLIGHT at once, landed as they arrive; Ids seen."""
    ids: set[str] = set()
    in_flight: dict[Future, int] = {}
    next_start, last_row = 1, max(count, 1)
    while True:
        while len(in_flight) < MAX_IN_FLIGHT and next_start <= last_row:
            in_flight[pool.submit(api.page, query, next_start)] = next_start
            next_start += PAGE_SIZE
        if not in_flight:
            return ids
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            start = in_flight.pop(future)
            rows, _ = future.result()
            landing.write(name, rows)
            ids.update(object_id(name, r) for r in rows)
            if len(rows) == PAGE_SIZE and start + PAGE_SIZE > last_row:
                last_row = start + PAGE_SIZE  # rows were added since the COUNT: page on
