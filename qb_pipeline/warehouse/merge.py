"""Merge landing batches into ``raw`` and move the realm's cursors, in ONE DuckDB transaction.

Either every row of the batches, their ``meta.landing_batch`` records and the new cursors are
committed together, or nothing is: a crash (or an error) before commit leaves the warehouse as it
was, the batches stay pending, and re-running the merge with the same files gives the same result.
Rows are folded by (realm_id, id), newest (last_updated_at, sync_token) winning (see
``sql/raw/merge_decide.sql`` for the exact rule), so overlap duplicates, re-landed pages and
out-of-order batches all converge. Batches already recorded as merged are skipped.

The fold reads keys only, of every entity of the merge at once (one statement, whatever the
number of entities: per-statement overhead, not rows, dominated small merges), against the realm's
stored rows of only the entities it has any of: an entity's first load scans no table. The
payloads (most of the bytes) are read from the files by the statement that writes them, one
entity at a time, for the rows it writes, so memory holds one entity's payloads at most. The
writer connection is a bulk one (``Warehouse.connect(bulk=True)``: a memory limit, spilling
beside the warehouse file), so one very large entity spills to disk instead of growing the
process. Changed rows whose payload is replaced are deleted and inserted again rather than
updated: an updated payload would make the next checkpoint rewrite every payload of the entity.
A listing's re-baseline scans an entity's table only if the realm had rows there before this
merge, or the fold found new rows the listing lacks (a first load's listing usually has all).
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from qb_pipeline.warehouse.cursors import check_cursors, write_cursors
from qb_pipeline.warehouse.landing import LandingBatch
from qb_pipeline.warehouse.schema import canonical_entity, entity_sql, raw_table, read_sql
from qb_pipeline.warehouse.warehouse import Warehouse

logger = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]


class MergeError(RuntimeError):
    """Batches that cannot be merged as given (wrong realm, rows of another realm or entity)."""


@dataclass(frozen=True)
class EntityMerge:
    """What one entity's merge did."""

    entity: str
    batches: int
    rows_read: int
    inserted: int
    updated: int
    tombstoned: int


@dataclass(frozen=True)
class MergeResult:
    """What one ``merge`` call committed."""

    realm_id: str
    mode: str
    merged_batch_ids: tuple[str, ...]
    skipped_batch_ids: tuple[str, ...]  # already merged earlier: nothing to do
    entities: tuple[EntityMerge, ...]
    cursors: Mapping[str, datetime]
    tombstoned_missing: int = 0

    @property
    def rows_read(self) -> int:
        return sum(e.rows_read for e in self.entities)

    @property
    def rows_written(self) -> int:
        return sum(e.inserted + e.updated for e in self.entities) + self.tombstoned_missing


def merge(
    warehouse: Warehouse,
    realm_id: str,
    batches: Sequence[LandingBatch],
    cursors: Mapping[str, datetime],
    mode: str,
    *,
    live_ids: Mapping[str, Collection[str]] | None = None,
    live_ids_at: datetime | None = None,
    checkpoint: Checkpoint | None = None,
) -> MergeResult:
    """Merge a realm's landing batches, then set its cursors, atomically.

    ``live_ids`` (with ``live_ids_at``) tombstones, in the same transaction, rows absent from a
    complete re-baseline listing (see ``tombstone_missing``). ``checkpoint`` is called with a
    step name after each step inside the transaction (tests inject crashes there).
    A very large load can be merged in several calls with ``cursors={}`` and the cursors given
    only to the last: every call is idempotent, and the cursor still moves only with the data.
    """
    checked = _check_arguments(realm_id, batches, cursors, mode, live_ids, live_ids_at)
    warehouse.ensure_schema()
    step = checkpoint or (lambda _name: None)
    with warehouse.connect(bulk=True) as con:
        now = datetime.now(UTC)  # after the write lock: the load time of every row written
        con.begin()
        try:
            result = _merge_in_transaction(
                con, realm_id, batches, checked, mode, now, step, live_ids, live_ids_at
            )
            step("commit")
            con.commit()
        except BaseException:
            con.rollback()
            raise
    logger.info(
        "merged realm %s (%s): %d batches, %d rows read, %d written, %d skipped",
        realm_id,
        mode,
        len(result.merged_batch_ids),
        result.rows_read,
        result.rows_written,
        len(result.skipped_batch_ids),
    )
    return result


def _check_arguments(
    realm_id: str,
    batches: Sequence[LandingBatch],
    cursors: Mapping[str, datetime],
    mode: str,
    live_ids: Mapping[str, Collection[str]] | None,
    live_ids_at: datetime | None,
) -> dict[str, datetime]:
    """Refuse what cannot be merged safely; the cursors by canonical entity name."""
    checked = check_cursors(cursors)
    if not mode:
        raise ValueError("mode is required (e.g. 'full', 'cdc', 'fallback')")
    if live_ids is not None and (live_ids_at is None or live_ids_at.tzinfo is None):
        raise ValueError("live_ids needs an aware live_ids_at (when the listing began)")
    for batch in batches:
        if batch.realm_id != realm_id:
            raise MergeError(
                f"batch {batch.batch_id} is for realm {batch.realm_id}, not {realm_id}"
            )
    return checked


def _merge_in_transaction(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    batches: Sequence[LandingBatch],
    cursors: dict[str, datetime],
    mode: str,
    now: datetime,
    step: Checkpoint,
    live_ids: Mapping[str, Collection[str]] | None,
    live_ids_at: datetime | None,
) -> MergeResult:
    todo, skipped = _split_merged(con, batches)
    todo.sort(key=lambda b: b.batch_id)
    by_entity: dict[str, list[LandingBatch]] = defaultdict(list)
    for batch in todo:
        by_entity[canonical_entity(batch.entity)].append(batch)
    listing = _listing(live_ids) if live_ids is not None and live_ids_at is not None else {}
    stored = _stored_entities(con, realm_id, [*by_entity, *listing])
    if listing:
        _load_listing(con, listing)
    merged: dict[str, EntityMerge] = {}
    missed: set[str] = set()  # entities loaded for the first time with rows their listing lacks
    if todo:
        fold = _Fold(con, realm_id, by_entity, stored, now)
        if listing and live_ids_at is not None:
            missed = fold.listing_misses(live_ids_at)
        merged = fold.write(step)
    _mark_merged(con, realm_id, todo, now)
    step("batches_marked")
    missing = 0
    if live_ids is not None and live_ids_at is not None:
        for entity in listing:
            # Rows stored before this merge, or new rows the listing lacks: otherwise the listing
            # has nothing to tombstone (a first load's usual case) and the table is not scanned.
            if entity in stored or entity in missed:
                missing += _tombstone_missing(con, realm_id, entity, live_ids_at, now)
        step("tombstoned_missing")
    write_cursors(con, realm_id, cursors, mode, now)
    step("cursors_written")
    return MergeResult(
        realm_id=realm_id,
        mode=mode,
        merged_batch_ids=tuple(b.batch_id for b in todo),
        skipped_batch_ids=tuple(b.batch_id for b in skipped),
        entities=tuple(merged.values()),
        cursors=dict(cursors),
        tombstoned_missing=missing,
    )


def _split_merged(
    con: duckdb.DuckDBPyConnection, batches: Sequence[LandingBatch]
) -> tuple[list[LandingBatch], list[LandingBatch]]:
    """(to merge, already merged); a batch listed twice is merged once."""
    ids = list(dict.fromkeys(b.batch_id for b in batches))
    merged = {
        row[0]
        for row in con.execute(
            "SELECT batch_id FROM meta.landing_batch "
            "WHERE merged_at IS NOT NULL AND list_contains(?::VARCHAR[], batch_id)",
            [ids],
        ).fetchall()
    }
    unique = list({b.batch_id: b for b in batches}.values())
    todo = [b for b in unique if b.batch_id not in merged]
    skipped = [b for b in unique if b.batch_id in merged]
    return todo, skipped


def _stored_entities(
    con: duckdb.DuckDBPyConnection, realm_id: str, entities: Collection[str]
) -> set[str]:
    """Those of ``entities`` (canonical names) of which the realm has any row, in one query."""
    names = list(dict.fromkeys(entities))
    if not names:
        return set()
    query = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {raw_table(name)} WHERE realm_id = $realm_id)"
        for name in names  # catalogue names: plain identifiers, safe to inline
    )
    return {row[0] for row in con.execute(query, {"realm_id": realm_id}).fetchall()}


class _Fold:
    """The fold of one merge's batches, every entity at once, and the writes it decides.

    One statement reads the keys of every batch (``merge_incoming``) and one folds them
    (``merge_decided``, merge_decide.sql) against the realm's stored rows of the entities it has
    any of: the tables of entities loaded for the first time are not scanned. Then each entity's
    rows are written by its own statements, its payloads read from its own files only.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        realm_id: str,
        by_entity: dict[str, list[LandingBatch]],
        stored: Collection[str],
        now: datetime,
    ) -> None:
        self.con, self.realm_id, self.by_entity, self.now = con, realm_id, by_entity, now
        current = [entity for entity in by_entity if entity in stored]
        self.decide_sql = _decide_sql(current)
        self.decide_params = {"realm_id": realm_id} if current else {}
        _read_incoming(con, by_entity)
        con.execute("CREATE OR REPLACE TEMP TABLE merge_differs (entity VARCHAR, id VARCHAR)")
        self.stats = self._decide()
        for entity, batches in by_entity.items():
            found = self.stats[entity]
            if found.strays:
                raise MergeError(
                    f"{found.strays} landed rows belong to another realm or entity than their "
                    f"batch ({entity} batches {_batch_ids(batches)})"
                )
        tied = [entity for entity in by_entity if self.stats[entity].ties]
        if tied:  # same version as stored: taken only if the payload differs
            for entity in tied:
                self._guarded(entity, lambda e=entity: self._execute("merge_differs", e))
            self.stats = self._decide()
            con.execute("DELETE FROM merge_differs")

    def listing_misses(self, listed_at: datetime) -> set[str]:
        """Entities with a row to write that a listing begun at ``listed_at`` lacks."""
        rows = self.con.execute(read_sql("merge_listing_misses"), {"at": listed_at}).fetchall()
        return {row[0] for row in rows}

    def write(self, step: Checkpoint) -> dict[str, EntityMerge]:
        """Write every entity's changed rows; what each entity's merge did."""
        merged = {}
        for entity, batches in self.by_entity.items():
            found = self.stats[entity]
            if found.updated_payload:  # delete + insert (see merge_replace.sql)
                self._execute("merge_replace", entity)
            if found.inserted or found.updated_payload:
                self._guarded(entity, lambda e=entity: self._execute("merge_insert", e))
            if found.updated_keys:
                self._execute("merge_update_keys", entity)
            updated = found.updated_payload + found.updated_keys
            merged[entity] = EntityMerge(
                entity, len(batches), found.rows_read, found.inserted, updated, found.tombstoned
            )
            step(f"merged:{entity}")
        return merged

    def _decide(self) -> dict[str, _Decided]:
        self.con.execute(self.decide_sql, self.decide_params)
        rows = self.con.execute(read_sql("merge_stats"), {"realm_id": self.realm_id}).fetchall()
        return {row[0]: _Decided(*(int(value) for value in row[1:])) for row in rows}

    def _execute(self, name: str, entity: str) -> None:
        """An entity statement (sql/raw/<name>.sql); ``{payload}`` reads its own files only."""
        params: dict[str, object] = {"realm_id": self.realm_id, "entity": entity}
        if name in ("merge_differs", "merge_insert"):
            params["paths"] = [str(b.path) for b in self.by_entity[entity]]
        if name in ("merge_insert", "merge_update_keys"):
            params["loaded_at"] = self.now
        sql = entity_sql(name, entity).replace("{payload}", read_sql("merge_payload"))
        self.con.execute(sql, params)

    def _guarded(self, entity: str, statement: Callable[[], None]) -> None:
        """Run a statement that reads payloads: one that is not JSON, or a live row without one,
        is the landing file's fault, not the warehouse's (a MergeError naming the batches)."""
        try:
            statement()
        except (duckdb.ConversionException, duckdb.InvalidInputException) as error:
            batches = _batch_ids(self.by_entity[entity])
            raise MergeError(f"cannot merge {entity} batches {batches}: {error}") from error


def _batch_ids(batches: Sequence[LandingBatch]) -> str:
    return ", ".join(b.batch_id for b in batches)


def _read_incoming(
    con: duckdb.DuckDBPyConnection, by_entity: Mapping[str, Sequence[LandingBatch]]
) -> None:
    """``merge_incoming``: the keys of these batches (each entity's in merge order)."""
    batches = [(entity, ordinal, b) for entity, found in by_entity.items()
               for ordinal, b in enumerate(found, start=1)]  # fmt: skip
    con.execute(
        read_sql("merge_incoming"),
        {
            "paths": [str(b.path) for _e, _o, b in batches],
            "batch_ids": [b.batch_id for _e, _o, b in batches],
            "entities": [entity for entity, _o, _b in batches],
            "batch_ords": [ordinal for _e, ordinal, _b in batches],
        },
    )


def _decide_sql(current: Sequence[str]) -> str:
    """merge_decide.sql against the realm's stored rows of the ``current`` entities."""
    stored = " UNION ALL ".join(
        entity_sql("merge_current", entity).replace("{entity}", entity) for entity in current
    )
    return read_sql("merge_decide").replace("{current}", stored or read_sql("merge_current_none"))


@dataclass(frozen=True)
class _Decided:
    """One entity's counts over ``merge_incoming`` and ``merge_decided`` (merge_stats.sql)."""

    rows_read: int
    strays: int
    inserted: int
    updated_payload: int
    updated_keys: int
    tombstoned: int
    ties: int


def _mark_merged(
    con: duckdb.DuckDBPyConnection, realm_id: str, batches: list[LandingBatch], now: datetime
) -> None:
    if not batches:
        return
    con.execute(
        read_sql("mark_batches"),
        {
            "realm_id": realm_id,
            "merged_at": now,
            "batch_ids": [b.batch_id for b in batches],
            "entities": [canonical_entity(b.entity) for b in batches],
            "paths": [str(b.path) for b in batches],
            "rows": [b.rows for b in batches],
            "created_ats": [b.created_at for b in batches],
        },
    )


def tombstone_missing(
    warehouse: Warehouse,
    realm_id: str,
    entity: str,
    live_ids: Collection[str],
    at: datetime,
) -> int:
    """Mark deleted the realm's rows absent from a complete listing begun at ``at``; the count.

    Prefer ``merge(..., live_ids=...)``, which does this in the merge's own transaction so the
    cursor cannot move past a re-baseline whose deletions were not recorded.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    entity = canonical_entity(entity)
    warehouse.ensure_schema()
    with warehouse.connect() as con:
        con.begin()
        try:
            _load_listing(con, {entity: live_ids})
            count = _tombstone_missing(con, realm_id, entity, at, datetime.now(UTC))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return count


def _listing(live_ids: Mapping[str, Collection[str]]) -> dict[str, Collection[str]]:
    """Listings by canonical entity name (two spellings of one entity: Ids in both)."""
    listing: dict[str, Collection[str]] = {}
    for name, ids in live_ids.items():
        entity = canonical_entity(name)
        listing[entity] = set(listing[entity]) & set(ids) if entity in listing else ids
    return listing


def _load_listing(con: duckdb.DuckDBPyConnection, listing: Mapping[str, Collection[str]]) -> None:
    """The temp table ``merge_live`` (merge_live.sql): every listed Id by entity."""
    ids = {entity: list(map(str, listed)) for entity, listed in listing.items() if listed}
    separator = "\x1f"  # a control character: no QBO Id has one, and the join proves it
    texts = [separator.join(listed) for listed in ids.values()]
    if any(t.count(separator) != len(i) - 1 for t, i in zip(texts, ids.values(), strict=True)):
        used = set("".join(texts))
        separator = next(chr(c) for c in itertools.count(1) if chr(c) not in used)
        texts = [separator.join(listed) for listed in ids.values()]
    con.execute(
        read_sql("merge_live"),
        {"entities": list(ids), "ids": texts, "separator": separator},
    )


def _tombstone_missing(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    entity: str,
    at: datetime,
    now: datetime,
) -> int:
    """tombstone_missing.sql for one entity, against the listing in ``merge_live``."""
    params = {
        "realm_id": realm_id,
        "entity": entity,
        "at": at,
        "batch_id": f"rebaseline-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "loaded_at": now,
    }
    row = con.execute(entity_sql("tombstone_missing", entity), params).fetchone()
    count = row[0] if row else 0
    if count:
        logger.info("re-baseline of %s/%s: %d hard deletes tombstoned", realm_id, entity, count)
    return int(count)
