"""Extract one realm from QBO into landing batches, and write the manifest that lets load move
its cursors (DESIGN "Contracts"). Realms extract in parallel: the only warehouse writes here are
early merges (a sync that lists everything merges each long listing as it completes, without
moving a cursor, and only if the warehouse is free at that moment: ``load.EarlyMerges``).

How each entity is read:

- ``full``: first load, a cursor older than the CDC window (QBO refuses changedSince > 30 days
  back; we re-list after 29), and, when due, the lists CDC does not serve (TaxCode, TaxRate,
  TaxAgency, ExchangeRate: small, re-listed when their last listing is older than
  ``list_refresh``, default ``settings.LIST_REFRESH_HOURS``; until then ``skipped``).
  Query paging ordered by (MetaData.LastUpdatedTime, Id), ``Active IN (true, false)`` on name
  lists, pages of 1,000. A listing that fits its first page is an atomic snapshot. A longer one
  is checked: offset paging skips a row only when an earlier row leaves the ordered set (an
  update moves it past the listing start T0, a delete removes it), which shows as
  ``COUNT(LastUpdatedTime <= T0)`` changing between a count taken before the pages and one
  after; such a listing is redone. Rows stamped after T0 are re-read by the next run anyway
  (the cursor is T0 minus the overlap). The Ids of a complete listing go into the manifest so
  load tombstones hard deletes CDC can no longer report (re-baseline).
- ``cdc``: one ``/batch`` call holding a CDC query per entity (30 a call), each from that
  entity's own cursor and with its own 1,000-object cap: a day's changes across all entities
  take one call, however many there are in all, unless one entity alone has 1,000.
- ``fallback``: an entity whose own CDC answer reached the cap may be cut anywhere, its
  deletes first (QBO's reference puts a type's deletes after its updates), and queries never
  return deletes: it is re-listed in full (in the same ``/batch`` call of first pages as any
  due lists) and its Ids tombstone what was deleted.
- With ``QB_BATCH_CDC=0`` (or when QBO refuses CDC queries in a batch: they come from
  Intuit's Java SDK, not from observed traffic) CDC is ``GET /cdc`` for 30 entities at once
  from the oldest cursor, one cap for all of them. Such an answer at the cap is completed by
  the query ``MetaData.LastUpdatedTime >= since`` for every entity of the call (one ``/batch``
  call of 30 queries; an entity whose first page comes back full is paged and checked like a
  long listing), and its deletes are recovered: the call's deletable entities are asked again
  by CDC in groups whose known changes leave room under the cap (a group still at the cap is
  split), an entity filling an answer on its own being re-listed (``_recover_deletes``).

All listings of a run share one scheduler: at most ``MAX_IN_FLIGHT`` calls at once, probes and
counts before pages and earlier entities first, so one entity's counts overlap another's pages,
long listings are known early and the realm's request budget never idles; pages are landed as
they arrive, files written on a background thread (memory holds the pages in flight, at most one
landing file's rows per open entity and two files waiting to be written).

Cursor = the server's time of the answer (envelope ``time``) minus ``overlap``: a late commit or a
same-second edit falls inside the next read; the duplicates this brings are folded by merge.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from qb_pipeline import settings
from qb_pipeline.memory import release_free_memory
from qb_pipeline.qbo.client import QBOClient, answer_time
from qb_pipeline.qbo.entities import entity as qbo_entity
from qb_pipeline.qbo.errors import QBOError
from qb_pipeline.qbo.query import CDC_MAX_OBJECTS, Query, rows_of, select
from qb_pipeline.warehouse.cursors import SyncCursor, cursors
from qb_pipeline.warehouse.landing import (
    BackgroundWrites,
    LandingBatch,
    LandingWriter,
    encode_page,
    object_id,
)
from qb_pipeline.warehouse.load import EarlyMerges
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
    "LIST_REFRESH",
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
LIST_REFRESH = timedelta(hours=settings.LIST_REFRESH_HOURS)
PAGE_SIZE = settings.PAGE_SIZE
MAX_IN_FLIGHT = settings.MAX_IN_FLIGHT
BATCH_ITEMS = settings.BATCH_MAX_ITEMS
LISTING_ATTEMPTS = 3
# A complete listing of at least this many rows is merged while the extract goes on (with
# ``merge_early``); smaller ones wait for the load, where they cost little.
EARLY_MERGE_ROWS = 2 * PAGE_SIZE
_LUT = "MetaData.LastUpdatedTime"


class ExtractError(RuntimeError):
    """An extract that cannot complete (a listing kept changing under us)."""


@dataclass(frozen=True)
class _Listing:
    """A query-paged entity: Ids seen and when the listing began (server time)."""

    ids: frozenset[str]
    started_at: datetime


@dataclass(frozen=True)
class _Page:
    """A page already read (a batch item's answer) and the server's time of it."""

    rows: list[dict[str, Any]]
    answered_at: datetime


@dataclass(frozen=True)
class _Encoded:
    """A listing page as landing rows, encoded on the thread that fetched it."""

    lines: list[bytes]
    ids: list[str]
    answered_at: datetime

    @property
    def full(self) -> bool:
        return len(self.lines) >= PAGE_SIZE


class _Api:
    """The few calls extraction makes, counted, each with the server's time of its answer."""

    def __init__(self, client: QBOClient, now: Callable[[], datetime]) -> None:
        self._client = client
        self._now = now
        self._lock = threading.Lock()
        self.calls = 0

    def page(self, query: Query, start: int) -> tuple[list[dict[str, Any]], datetime]:
        data = self._counted(self._client.query_envelope, query.page(start, PAGE_SIZE))
        return rows_of(data.get("QueryResponse") or {}, query.entity), self._time(data)

    def count(self, query: Query) -> tuple[int, datetime]:
        data = self._counted(self._client.query_envelope, query.count_sql)
        return int((data.get("QueryResponse") or {}).get("totalCount", 0)), self._time(data)

    def cdc(self, names: Sequence[str], since: datetime) -> tuple[dict[str, list[dict]], datetime]:
        """Every object and delete stub per entity (stubs keep their LastUpdatedTime)."""
        data = self._counted(self._client.cdc_envelope, names, since)
        found: dict[str, list[dict]] = {name: [] for name in names}
        for block in data.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for name, rows in found.items():
                    rows.extend(rows_of(response, name))
        return found, self._time(data)

    def cdc_each(
        self, since: Mapping[str, datetime]
    ) -> tuple[dict[str, list[dict]] | QBOError, datetime]:
        """One CDC query per entity (its own start, its own cap) in one ``/batch`` call: every
        object and delete stub per entity, or the first error QBO gave an item."""
        results, data = self._counted(
            self._client.cdc_batch, [([name], start) for name, start in since.items()]
        )
        found: dict[str, list[dict]] = {}
        for name, result in zip(since, results, strict=True):
            if result.error is not None:
                return result.error, self._time(data)
            found[name] = [
                row for response in result.value.get("QueryResponse") or []
                for row in rows_of(response, name)
            ]  # fmt: skip
        return found, self._time(data)

    def first_pages(self, queries: Mapping[str, Query]) -> dict[str, _Page]:
        """The first page of each query, up to 30 queries in one ``/batch`` call."""
        texts = [query.page(1, PAGE_SIZE) for query in queries.values()]
        answers, data = self._counted(self._client.query_batch, texts)
        answered_at = self._time(data)
        return {
            name: _Page(rows_of(answer, queries[name].entity), answered_at)
            for name, answer in zip(queries, answers, strict=True)
        }

    def _counted(self, call: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            self.calls += 1
        return call(*args)

    def _time(self, data: Mapping[str, Any]) -> datetime:
        return answer_time(data) or self._now()


class _Landing:
    """One LandingWriter per entity, opened on first rows; writes come from the calling thread
    only (``encode`` is safe on any thread)."""

    def __init__(self, root: Path, realm_id: str, early: EarlyMerges | None = None) -> None:
        self.root, self.realm_id, self.early = root, realm_id, early
        self.background = BackgroundWrites()  # files are written off the scheduling thread
        self.writers: dict[str, LandingWriter] = {}
        self.rows: dict[str, int] = {}
        self.deleted: dict[str, int] = {}
        self.batch_ids: list[str] = []
        self.unoffered: dict[str, list[LandingBatch]] = {}  # landed, not offered to ``early``

    def write(self, entity: str, objects: list[dict[str, Any]]) -> None:
        if not objects:
            return
        self._writer(entity).write_page(objects)
        stubs = sum(1 for obj in objects if obj.get("status") == "Deleted")
        self.rows[entity] = self.rows.get(entity, 0) + len(objects) - stubs
        self.deleted[entity] = self.deleted.get(entity, 0) + stubs

    def write_listed(self, entity: str, page: _Encoded) -> None:
        """A listing page (queries return no delete stubs)."""
        if page.lines:
            self._writer(entity).write_lines(page.lines)
            self.rows[entity] = self.rows.get(entity, 0) + len(page.lines)

    def encode(self, entity: str, rows: list[dict[str, Any]], answered_at: datetime) -> _Encoded:
        ids = [object_id(entity, row) for row in rows]
        return _Encoded(encode_page(self.realm_id, entity, rows), ids, answered_at)

    def _writer(self, entity: str) -> LandingWriter:
        writer = self.writers.get(entity)
        if writer is None:
            writer = LandingWriter(self.root, self.realm_id, entity, background=self.background)
            self.writers[entity] = writer
        return writer

    def finish(self, entity: str) -> None:
        """Land what an entity has buffered (its rows leave memory; a later write reopens)."""
        writer = self.writers.pop(entity, None)
        if writer is not None:
            batches = writer.close()
            self.batch_ids.extend(b.batch_id for b in batches)
            if self.early is not None:
                self.unoffered.setdefault(entity, []).extend(batches)

    def complete(self, entity: str) -> None:
        """A listing is complete: land it, and with ``early``, have a long one merged once its
        files are in place (its earlier attempts' rows too)."""
        self.finish(entity)
        early, batches = self.early, self.unoffered.pop(entity, [])
        if early is not None and sum(b.rows for b in batches) >= EARLY_MERGE_ROWS:
            self.background.then(lambda: early.offer(batches))

    def close(self) -> tuple[str, ...]:
        """Close every writer (landing what is buffered); the batch ids written, every file
        in place."""
        try:
            for entity in list(self.writers):
                self.finish(entity)
        finally:
            self.background.close()
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
    list_refresh: timedelta = LIST_REFRESH,
    batch_cdc: bool | None = None,
    merge_early: bool | None = None,
) -> ExtractManifest:
    """Land every change of the realm since its cursors; the manifest written last.

    ``batch_cdc`` (default: ``settings.batch_cdc()``): one CDC query per entity in a ``/batch``
    call; False asks ``GET /cdc`` for many entities at once (one cap for all of them).
    ``merge_early`` (default: ``settings.merge_early()``): in a sync that lists everything (a
    first sync, a re-baseline), merge each long listing into raw as soon as it is complete, if
    the warehouse is free then (``load.EarlyMerges``); the load merges the rest."""
    clock = now or (lambda: datetime.now(UTC))
    started, realm_id = clock(), client.realm_id
    names = [canonical_entity(e) for e in (entities or SYNC_ENTITIES)]
    plan = _plan(names, cursors(warehouse, realm_id), started, list_refresh)
    early = None
    if (
        plan.full
        and not plan.incremental
        and (settings.merge_early() if merge_early is None else merge_early)
    ):
        early = EarlyMerges(warehouse, realm_id)
    api, landing = _Api(client, clock), _Landing(Path(landing_root), realm_id, early)
    results: dict[str, EntityExtract] = {
        name: EntityExtract(name, "skipped", 0, 0, kept.cursor_at)
        for name, kept in plan.skipped.items()
    }
    try:
        with _pool() as pool:
            each = settings.batch_cdc() if batch_cdc is None else batch_cdc
            results |= _extract(api, pool, landing, plan, overlap, cdc_max_objects, each)
    finally:
        try:
            batch_ids = landing.close()  # rows read are real changes: land them even on error
        finally:
            merged_early = early.close() if early is not None else {}
    rebaseline = any(qbo_entity(e).cdc for e in plan.full)
    manifest = ExtractManifest(
        realm_id=realm_id,
        mode="full" if rebaseline else "cdc",
        entities={name: results[name] for name in names},
        api_calls=api.calls,
        started_at=started,
        finished_at=clock(),
        path=new_manifest_path(landing_root, realm_id, started),
        batch_ids=batch_ids,
        merged_early=merged_early,
    )
    write_manifest(manifest)
    release_free_memory()  # the pages are landed: let the load start from what is in use
    logger.info(
        "extracted realm %s (%s): %d rows, %d API calls",
        realm_id, manifest.mode, sum(e.rows for e in results.values()), api.calls,
    )  # fmt: skip
    return manifest


@dataclass
class _Plan:
    full: list[str] = field(default_factory=list)  # complete listings
    incremental: dict[str, datetime] = field(default_factory=dict)  # {entity: cursor} for CDC
    skipped: dict[str, SyncCursor] = field(default_factory=dict)  # lists listed recently


def _plan(
    names: Sequence[str], known: Mapping[str, SyncCursor], now: datetime, list_refresh: timedelta
) -> _Plan:
    plan = _Plan()
    for name in names:
        found = known.get(name)
        if found is None:
            plan.full.append(name)
        elif not qbo_entity(name).cdc:
            if found.cursor_at < now - list_refresh:
                plan.full.append(name)
            else:
                plan.skipped[name] = found
        elif found.cursor_at < now - CDC_WINDOW:
            plan.full.append(name)
        else:
            plan.incremental[name] = found.cursor_at
    return plan


@contextmanager
def _pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(MAX_IN_FLIGHT, thread_name_prefix="qbo-extract")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _extract(
    api: _Api,
    pool: ThreadPoolExecutor,
    landing: _Landing,
    plan: _Plan,
    overlap: timedelta,
    cap: int,
    batch_cdc: bool,
) -> dict[str, EntityExtract]:
    """CDC for the incremental entities, then every listing (full, due lists, fallbacks)."""
    changes = _Changes()
    unread = plan.incremental
    if batch_cdc:
        unread = _cdc_each(api, landing, plan.incremental, cap, changes)
    if unread:
        _cdc_grouped(api, landing, unread, cap, changes)

    full = {name: _listing(name) for name in plan.full}
    relist = {name: _listing(name) for name in changes.relist}
    lister = _Lister(api, pool, landing)
    if plan.incremental:  # a sync that is mostly CDC: read what else it needs in batch calls
        lister.add_batched({**changes.fallback, **relist, **full})
    else:
        lister.add_paged(full)
    listings = lister.run()

    relisted = {name: listings[name] for name in relist}
    for names_of_call, since in changes.capped:
        changed = {name: len(listings[name].ids) for name in names_of_call}
        uncovered = _recover_deletes(api, landing, names_of_call, changed, since, cap)
        if uncovered:
            relister = _Lister(api, pool, landing)
            relister.add_paged({name: _listing(name) for name in uncovered})
            relisted |= relister.run()

    results: dict[str, EntityExtract] = {}
    for name in plan.incremental:
        mode = "fallback" if name in changes.fallback or name in relisted else "cdc"
        listing = relisted.get(name)
        results[name] = EntityExtract(
            name, mode, landing.rows.get(name, 0), landing.deleted.get(name, 0),
            changes.answered_at[name] - overlap,
            live_ids=listing.ids if listing else None,
            live_ids_at=listing.started_at if listing else None,
        )  # fmt: skip
    for name in plan.full:
        listing = listings[name]
        results[name] = EntityExtract(
            name, "full", landing.rows.get(name, 0), 0, listing.started_at - overlap,
            live_ids=listing.ids, live_ids_at=listing.started_at,
        )  # fmt: skip
    return results


@dataclass
class _Changes:
    """What the CDC calls read, and what listings must complete it."""

    answered_at: dict[str, datetime] = field(default_factory=dict)  # server time per entity
    relist: list[str] = field(default_factory=list)  # alone at the cap: listed in full
    fallback: dict[str, Query] = field(default_factory=dict)  # capped /cdc: LUT >= since
    capped: list[tuple[list[str], datetime]] = field(default_factory=list)  # (its entities, since)


def _cdc_each(
    api: _Api, landing: _Landing, incremental: Mapping[str, datetime], cap: int, changes: _Changes
) -> dict[str, datetime]:
    """One CDC query per entity, 30 to a ``/batch`` call, each from the entity's own cursor.

    Each answer has its own cap, so only an entity with a cap's worth of changes of its own
    needs more: it is re-listed in full (its CDC rows are landed too), its Ids tombstoning its
    deletes. The entities left unread (QBO refused CDC queries in a batch) are returned.
    """
    names = list(incremental)
    for start in range(0, len(names), BATCH_ITEMS):
        chunk = {name: incremental[name] for name in names[start : start + BATCH_ITEMS]}
        answer, answered_at = api.cdc_each(chunk)
        if isinstance(answer, QBOError):
            logger.warning(
                "realm %s: QBO refused CDC queries in a batch (%s); asking /cdc instead "
                "(set QB_BATCH_CDC=0 to go there directly)",
                landing.realm_id, answer,
            )  # fmt: skip
            return {name: incremental[name] for name in names[start:]}
        for name, objects in answer.items():
            landing.write(name, objects)
            landing.finish(name)
            changes.answered_at[name] = answered_at
            if len(objects) >= cap:
                logger.info(
                    "realm %s: %s has %d changes, a CDC answer's cap: listing it in full",
                    landing.realm_id, name, len(objects),
                )  # fmt: skip
                changes.relist.append(name)
    return {}


def _cdc_grouped(
    api: _Api, landing: _Landing, incremental: Mapping[str, datetime], cap: int, changes: _Changes
) -> None:
    """``GET /cdc`` for many entities at once from their oldest cursor (``CDC_CHUNK`` a call);
    a call at the cap is completed by queries and its deletes recovered (module docstring)."""
    names = list(incremental)
    for chunk_start in range(0, len(names), CDC_CHUNK):
        chunk = {name: incremental[name] for name in names[chunk_start : chunk_start + CDC_CHUNK]}
        since = min(chunk.values())
        answer, answered_at = api.cdc(list(chunk), since)
        for name, objects in answer.items():
            landing.write(name, objects)
            landing.finish(name)
            changes.answered_at[name] = answered_at
        if sum(map(len, answer.values())) >= cap:
            logger.info("realm %s: CDC answer at the cap (%d); query paging", landing.realm_id, cap)
            changes.fallback |= {name: _listing(name).where(_LUT, ">=", since) for name in chunk}
            changes.capped.append((list(chunk), since))


def _recover_deletes(
    api: _Api,
    landing: _Landing,
    names: Sequence[str],
    changed: Mapping[str, int],
    since: datetime,
    cap: int,
) -> list[str]:
    """The deletes a capped CDC answer may have cut; the entities CDC cannot give them for.

    Queries never return deleted objects, so the fallback's queries recover every change but
    the hard deletes. Only a CDC answer under the cap is known complete, whatever order QBO
    cuts in (its reference says: grouped by type, deletes after updates): so the deletable
    entities of the call are asked again in groups whose known changes leave room under the
    cap, a group still at the cap is split, and an entity at the cap on its own is returned to
    be re-listed in full (its Ids then tombstone what was deleted).
    """
    room = max(1, cap * 9 // 10)
    deletable = sorted(
        (n for n in names if qbo_entity(n).deletable), key=lambda n: -changed.get(n, 0)
    )
    groups: list[list[str]] = []
    loads: list[int] = []
    for name in deletable:  # first fit, largest first
        size = changed.get(name, 0)
        for index, load in enumerate(loads):
            if load + size <= room:
                groups[index].append(name)
                loads[index] += size
                break
        else:
            groups.append([name])
            loads.append(size)
    uncovered: list[str] = []
    while groups:
        group = groups.pop()
        answer, _ = api.cdc(group, since)
        for name, objects in answer.items():
            landing.write(name, objects)
            landing.finish(name)
        if sum(map(len, answer.values())) < cap:
            continue
        if len(group) == 1:
            logger.warning(
                "realm %s: %s alone fills a CDC answer: re-listing it to find its deletes",
                landing.realm_id, group[0],
            )  # fmt: skip
            uncovered.append(group[0])
        else:
            middle = len(group) // 2
            groups += [group[:middle], group[middle:]]
    return uncovered


def _listing(name: str) -> Query:
    """Every row of an entity (inactive name-list rows too), in a total order."""
    query = select(name, include_inactive=True)
    return query.order_by(_LUT).order_by("Id")


@dataclass
class _Task:
    """One listing in progress: probe -> count_before -> pages -> count_after (-> done)."""

    name: str
    query: Query
    phase: str = "probe"
    attempt: int = 1
    submitted: bool = False  # the probe or a count is in flight
    started_at: datetime | None = None  # T0: the server time of the probe's answer
    settled: Query | None = None  # the query's rows no later than T0
    before: int = 0
    ids: set[str] = field(default_factory=set)
    next_start: int = 1
    last_row: int = 1
    pages_in_flight: int = 0
    result: _Listing | None = None


class _Lister:
    """Every listing of one extract through one scheduler (see the module docstring)."""

    def __init__(self, api: _Api, pool: ThreadPoolExecutor, landing: _Landing) -> None:
        self.api, self.pool, self.landing = api, pool, landing
        self.tasks: list[_Task] = []
        self.in_flight: dict[Future, tuple[list[_Task], str, int]] = {}

    def add_paged(self, queries: Mapping[str, Query]) -> None:
        """Listings whose first page is fetched on its own (the first call of a full sync)."""
        self.tasks.extend(_Task(name, query) for name, query in queries.items())

    def add_batched(self, queries: Mapping[str, Query]) -> None:
        """Listings whose first pages come in ``/batch`` calls of 30 (an incremental sync's
        fallbacks and due lists: most fit one page, so a call or two reads them all)."""
        names = list(queries)
        for start in range(0, len(names), BATCH_ITEMS):
            chunk = {name: queries[name] for name in names[start : start + BATCH_ITEMS]}
            tasks = [_Task(name, query, submitted=True) for name, query in chunk.items()]
            self.tasks.extend(tasks)
            self.in_flight[self.pool.submit(self._first_pages, chunk)] = (tasks, "batch", 1)

    def run(self) -> dict[str, _Listing]:
        while True:
            self._fill()
            if not self.in_flight:
                break
            done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                tasks, kind, start = self.in_flight.pop(future)
                answer = future.result()
                if kind == "batch":
                    for task in tasks:
                        self._probed(task, answer[task.name])
                else:
                    self._answered(tasks[0], kind, start, answer)
        unfinished = [t.name for t in self.tasks if t.result is None]
        if unfinished:  # cannot happen: every task ends done or raises
            raise ExtractError(f"listings left unfinished: {unfinished}")
        return {t.name: t.result for t in self.tasks if t.result is not None}

    # -- calls (on pool threads) ---------------------------------------------------------------
    def _page(self, name: str, query: Query, start: int) -> _Encoded:
        rows, answered_at = self.api.page(query, start)
        return self.landing.encode(name, rows, answered_at)

    def _first_pages(self, queries: Mapping[str, Query]) -> dict[str, _Encoded]:
        pages = self.api.first_pages(queries)
        return {n: self.landing.encode(n, p.rows, p.answered_at) for n, p in pages.items()}

    # -- scheduling ----------------------------------------------------------------------------
    def _fill(self) -> None:
        """Submit work until MAX_IN_FLIGHT calls are out: probes and counts before pages (a
        probe finds a long listing early, a count unlocks or ends one, so the run does not
        end on a chain of dependent calls), then pages, earlier listings first."""
        while len(self.in_flight) < MAX_IN_FLIGHT:
            if not any(self._submit_next(task, pages=False) for task in self.tasks) and not any(
                self._submit_next(task, pages=True) for task in self.tasks
            ):
                return

    def _submit_next(self, task: _Task, *, pages: bool) -> bool:
        """Submit the task's next call if it has one of that sort (pages or not) ready."""
        if task.result is not None or task.submitted:
            return False
        paging = task.phase == "pages" and task.next_start <= task.last_row
        if paging != pages:
            return False
        if task.phase == "probe":
            self._submit(task, "probe", 1, self._page, task.name, task.query, 1)
        elif task.phase == "count_before":
            self._submit(task, "count_before", 0, self.api.count, task.settled)
        elif paging:
            start = task.next_start
            task.next_start += PAGE_SIZE
            task.pages_in_flight += 1
            future = self.pool.submit(self._page, task.name, task.query, start)
            self.in_flight[future] = ([task], "page", start)
        elif task.pages_in_flight == 0:
            self._submit(task, "count_after", 0, self.api.count, task.settled)
        else:
            return False
        return True

    def _submit(
        self, task: _Task, kind: str, start: int, call: Callable[..., Any], *args: Any
    ) -> None:
        task.submitted = True
        self.in_flight[self.pool.submit(call, *args)] = ([task], kind, start)

    # -- answers -------------------------------------------------------------------------------
    def _answered(self, task: _Task, kind: str, start: int, answer: Any) -> None:
        if kind == "probe":
            self._probed(task, answer)
        elif kind == "count_before":
            task.submitted = False
            task.before, _ = answer
            task.phase, task.next_start, task.last_row = "pages", 1, max(task.before, 1)
        elif kind == "page":
            task.pages_in_flight -= 1
            self.landing.write_listed(task.name, answer)
            task.ids.update(answer.ids)
            if answer.full and start + PAGE_SIZE > task.last_row:
                task.last_row = start + PAGE_SIZE  # rows were added since the count: page on
        else:
            task.submitted = False
            after, _ = answer
            self._checked(task, after)

    def _probed(self, task: _Task, page: _Encoded) -> None:
        task.submitted = False
        self.landing.write_listed(task.name, page)
        if not page.full:  # one page: an atomic snapshot
            task.result = _Listing(frozenset(page.ids), page.answered_at)
            self.landing.complete(task.name)
            return
        # Longer: count the rows no later than T0 before paging (from page 1 again, since the
        # probe came before that count), and again after. Land the probe's rows now: the
        # listing may wait behind earlier ones, and waiting rows should not wait in memory.
        self.landing.finish(task.name)
        task.started_at, task.ids = page.answered_at, set()
        task.settled = task.query.where(_LUT, "<=", page.answered_at)
        task.phase = "count_before"

    def _checked(self, task: _Task, after: int) -> None:
        if task.before == after and len(task.ids) >= task.before:
            assert task.started_at is not None
            task.result = _Listing(frozenset(task.ids), task.started_at)
            task.ids = set()
            self.landing.complete(task.name)
            return
        logger.warning(
            "realm %s: %s changed while listed (%d settled rows, then %d, %d seen; attempt %d)",
            self.landing.realm_id, task.name, task.before, after, len(task.ids), task.attempt,
        )  # fmt: skip
        if task.attempt >= LISTING_ATTEMPTS:
            raise ExtractError(
                f"{task.name} kept changing while listed ({LISTING_ATTEMPTS} attempts)"
            )
        task.attempt += 1
        task.phase, task.ids = "probe", set()
