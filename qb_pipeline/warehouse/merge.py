"""Merge landing batches into ``raw`` and move the realm's cursors, in ONE DuckDB transaction.

Either every row of the batches, their ``meta.landing_batch`` records and the new cursors are
committed together, or nothing is: a crash (or an error) before commit leaves the warehouse as it
was, the batches stay pending, and re-running the merge with the same files gives the same result.
Rows are folded by (realm_id, id), newest (last_updated_at, sync_token) winning (see
``sql/raw/merge_decide.sql`` for the exact rule), so overlap duplicates, re-landed pages and
out-of-order batches all converge. Batches already recorded as merged are skipped.

Memory is bounded by one entity, not by the realm: the merge runs entity by entity, reading only
that entity's batch files; the fold itself reads keys only, and the payloads (most of the bytes)
are read from the files by the statement that writes them, for the rows it writes. The writer
connection is a bulk one (``Warehouse.connect(bulk=True)``: a memory limit, spilling beside the
warehouse file), so one very large entity spills to disk instead of growing the process.
Changed rows whose payload is replaced are deleted and inserted again rather than updated: an
updated payload would make the next checkpoint rewrite every payload of the entity.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from qb_pipeline.warehouse.cursors import check_cursors, write_cursors
from qb_pipeline.warehouse.landing import LandingBatch
from qb_pipeline.warehouse.schema import canonical_entity, entity_sql, read_sql
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
    entities = []
    if todo:
        con.execute("CREATE OR REPLACE TEMP TABLE merge_differs (id VARCHAR)")
        for entity, entity_batches in by_entity.items():
            entities.append(_merge_entity(con, realm_id, entity, entity_batches, now))
            step(f"merged:{entity}")
    _mark_merged(con, realm_id, todo, now)
    step("batches_marked")
    missing = 0
    if live_ids is not None and live_ids_at is not None:
        for entity, ids in live_ids.items():
            missing += _tombstone_missing(con, realm_id, entity, ids, live_ids_at, now)
        step("tombstoned_missing")
    write_cursors(con, realm_id, cursors, mode, now)
    step("cursors_written")
    return MergeResult(
        realm_id=realm_id,
        mode=mode,
        merged_batch_ids=tuple(b.batch_id for b in todo),
        skipped_batch_ids=tuple(b.batch_id for b in skipped),
        entities=tuple(entities),
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


def _merge_entity(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    entity: str,
    batches: list[LandingBatch],
    now: datetime,
) -> EntityMerge:
    """Fold one entity's batches into its raw table (reading only that entity's files)."""
    files = {"paths": [str(b.path) for b in batches], "batch_ids": [b.batch_id for b in batches]}
    con.execute(read_sql("merge_incoming"), files)
    keys = {"realm_id": realm_id}
    con.execute(entity_sql("merge_decide", entity), keys)
    stats = _decided_stats(con, realm_id, entity)
    if stats.strays:
        raise MergeError(
            f"{stats.strays} landed rows belong to another realm or entity than their batch "
            f"({entity} batches {', '.join(files['batch_ids'])})"
        )
    try:
        if stats.ties:  # same version as stored: taken only if the payload differs
            con.execute(_payload_sql("merge_differs", entity), {**keys, "paths": files["paths"]})
            con.execute(entity_sql("merge_decide", entity), keys)
            con.execute("DELETE FROM merge_differs")
            stats = _decided_stats(con, realm_id, entity)
        if stats.updated_payload:  # delete + insert (see merge_replace.sql)
            con.execute(entity_sql("merge_replace", entity), keys)
        if stats.inserted or stats.updated_payload:
            write = {**keys, "entity": entity, "loaded_at": now, "paths": files["paths"]}
            con.execute(_payload_sql("merge_insert", entity), write)
    except (duckdb.ConversionException, duckdb.InvalidInputException) as error:
        # a payload that is not JSON, or a live row without one: the file, not the warehouse
        raise MergeError(
            f"cannot merge {entity} batches {', '.join(files['batch_ids'])}: {error}"
        ) from error
    if stats.updated_keys:
        con.execute(entity_sql("merge_update_keys", entity), {**keys, "loaded_at": now})
    updated = stats.updated_payload + stats.updated_keys
    return EntityMerge(
        entity, len(batches), stats.rows_read, stats.inserted, updated, stats.tombstoned
    )


@dataclass(frozen=True)
class _Decided:
    """Counts over ``merge_decided`` (and ``merge_incoming``), taken in one query."""

    rows_read: int
    strays: int
    inserted: int
    updated_payload: int
    updated_keys: int
    tombstoned: int
    ties: int


def _decided_stats(con: duckdb.DuckDBPyConnection, realm_id: str, entity: str) -> _Decided:
    row = con.execute(
        "SELECT (SELECT count(*) FROM merge_incoming), "
        "(SELECT count(*) FROM merge_incoming "
        " WHERE realm_id IS DISTINCT FROM $realm_id OR entity IS DISTINCT FROM $entity), "
        "count(*) FILTER (WHERE changed AND NOT existed), "
        "count(*) FILTER (WHERE changed AND existed AND take_incoming), "
        "count(*) FILTER (WHERE changed AND existed AND NOT take_incoming), "
        "count(*) FILTER (WHERE changed AND new_deleted AND NOT was_deleted), "
        "count(*) FILTER (WHERE tie) FROM merge_decided",
        {"realm_id": realm_id, "entity": entity},
    ).fetchone()
    assert row is not None
    return _Decided(*(int(value) for value in row))


def _payload_sql(name: str, entity: str) -> str:
    """An entity statement whose ``{payload}`` is the entity's landed payloads (by position)."""
    return entity_sql(name, entity).replace("{payload}", read_sql("merge_payload"))


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
    warehouse.ensure_schema()
    with warehouse.connect() as con:
        con.begin()
        try:
            count = _tombstone_missing(con, realm_id, entity, live_ids, at, datetime.now(UTC))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return count


def _tombstone_missing(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    entity: str,
    live_ids: Collection[str],
    at: datetime,
    now: datetime,
) -> int:
    entity = canonical_entity(entity)
    params = {
        "realm_id": realm_id,
        "at": at,
        "batch_id": f"rebaseline-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "loaded_at": now,
        "live_ids": [str(i) for i in live_ids],
    }
    row = con.execute(entity_sql("tombstone_missing", entity), params).fetchone()
    count = row[0] if row else 0
    if count:
        logger.info("re-baseline of %s/%s: %d hard deletes tombstoned", realm_id, entity, count)
    return int(count)
