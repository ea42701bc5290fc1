"""Load a realm: merge every pending landing batch and apply complete manifests, atomically.

``load_realm`` is the only step that moves cursors. It folds in every batch of the realm not
merged yet (the last extract's, and whatever a crashed run left), and in the same transaction
(``merge``) advances cursors and applies re-baseline tombstones, but only from complete manifests.
Merging a batch without moving a cursor is always safe, so a sync that lists everything merges
its long listings while it still extracts (``EarlyMerges``) and leaves the load the rest. So:

- crash between extract and load (batches + manifest on disk): the next load merges both;
- crash mid-extract (batches, no manifest): the batches merge, no cursor moves, and the next
  extract re-reads from the old cursor (the duplicates it brings are folded by merge);
- crash after commit, before the manifests are marked applied: re-applying them changes
  nothing (cursors only move forward; tombstones spare rows changed after their listing).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qb_pipeline.warehouse.cursors import cursors
from qb_pipeline.warehouse.landing import LandingBatch, pending_batches
from qb_pipeline.warehouse.manifest import ExtractManifest, mark_applied, read_manifests
from qb_pipeline.warehouse.merge import merge
from qb_pipeline.warehouse.warehouse import Warehouse, WarehouseBusyError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    """What one load committed."""

    realm_id: str
    rows_by_entity: dict[str, int]  # landed rows read per entity (duplicates included)
    tombstoned: int  # rows newly marked deleted (CDC deletes and re-baseline)
    cursors_advanced: bool
    manifests: int  # complete manifests applied
    rows_merged_early: dict[str, int] = field(default_factory=dict)  # by those manifests' extracts


@dataclass(frozen=True)
class _Plan:
    """What the manifests ask of one merge."""

    cursors: dict[str, datetime]
    mode: str
    live_ids: dict[str, frozenset[str]] | None
    live_ids_at: datetime | None


def load_realm(warehouse: Warehouse, landing_root: Path, realm_id: str) -> LoadResult:
    """Merge the realm's pending batches and apply its complete manifests in one transaction."""
    manifests = read_manifests(landing_root, realm_id)
    # One DuckDB instance for the whole load: the connections below (schema, pending batches,
    # cursors, the merge) share it instead of each opening and closing the file. It also holds
    # the write lock from planning to commit, which the merge would take anyway.
    with warehouse.connect():
        batches = pending_batches(landing_root, warehouse, realm_id)
        if not manifests and not batches:
            return LoadResult(realm_id, {}, 0, False, 0)
        plan = _plan(warehouse, realm_id, manifests)
        result = merge(
            warehouse, realm_id, batches, plan.cursors, plan.mode,
            live_ids=plan.live_ids, live_ids_at=plan.live_ids_at,
        )  # fmt: skip
    for manifest in manifests:
        mark_applied(manifest)
    tombstoned = sum(e.tombstoned for e in result.entities) + result.tombstoned_missing
    logger.info(
        "loaded realm %s: %d batches, %d manifests, %d tombstoned, cursors %s",
        realm_id, len(result.merged_batch_ids), len(manifests), tombstoned,
        "advanced" if plan.cursors else "unchanged",
    )  # fmt: skip
    return LoadResult(
        realm_id=realm_id,
        rows_by_entity={e.entity: e.rows_read for e in result.entities},
        tombstoned=tombstoned,
        cursors_advanced=bool(plan.cursors),
        manifests=len(manifests),
        rows_merged_early=dict(sum((Counter(m.merged_early) for m in manifests), Counter())),
    )


def _plan(warehouse: Warehouse, realm_id: str, manifests: Sequence[ExtractManifest]) -> _Plan:
    """Newest cursor per entity (only forward), the newest complete listing per entity."""
    current = {name: c.cursor_at for name, c in cursors(warehouse, realm_id).items()}
    advance: dict[str, datetime] = {}
    listings: dict[str, tuple[frozenset[str], datetime]] = {}
    for manifest in manifests:  # oldest first: later manifests win
        for name, extract in manifest.entities.items():
            best = max(advance.get(name, extract.cursor_at), extract.cursor_at)
            if name not in current or best > current[name]:
                advance[name] = best
            if extract.live_ids is not None and extract.live_ids_at is not None:
                listings[name] = (extract.live_ids, extract.live_ids_at)
    mode = "full" if any(m.mode == "full" for m in manifests) else "cdc"
    if not listings:
        return _Plan(advance, mode, None, None)
    # merge takes one listing time: the earliest spares more rows, never tombstones wrongly.
    at = min(started for _ids, started in listings.values())
    return _Plan(advance, mode, {name: ids for name, (ids, _at) in listings.items()}, at)


class EarlyMerges:
    """Merge a long extract's finished listings into raw while the rest is still read.

    A first sync (or a re-baseline) of a large company spends most of its time waiting on
    QBO's request windows, with the CPU idle; its load used to start only at the end. Batches
    offered here are merged on one background thread, everything offered since the last merge
    in one transaction, and no cursor moves: exactly what the load does with a crashed run's
    batches (see the module docstring), so the load still advances the cursors and applies the
    manifest, and merges whatever is left.

    Only when the warehouse is free: a merge never waits. If another writer holds it (another
    realm's load, in this process or another; a reader in this process), or the merge fails,
    the batches are left to the load, which merges every batch not merged yet (and raises
    there, in its own step, what failed here). ``close`` waits until what was offered is merged
    or left; offers after it are ignored.
    """

    def __init__(self, warehouse: Warehouse, realm_id: str) -> None:
        # busy_timeout 0: never wait for the file. One DuckDB thread: each needs working memory
        # that cannot spill, and the extract's process and QBO's answers want the other core
        # (measured on the bench company: the same time, peak RSS ~20 MB lower than with two).
        self.warehouse = Warehouse(
            warehouse.path,
            busy_timeout=0,
            bulk_memory_limit=warehouse.bulk_memory_limit,
            bulk_threads=1,
        )
        self.realm_id = realm_id
        self.rows: Counter[str] = Counter()  # landed rows merged early, per entity
        self._lock = threading.Lock()
        self._ready: list[LandingBatch] = []
        self._closed = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="early-merge")

    def offer(self, batches: Sequence[LandingBatch]) -> None:
        """Merge these batches (all in place on disk) when the merge thread is free."""
        with self._lock:
            if self._closed or not batches:
                return
            self._ready.extend(batches)
            self._pool.submit(self._merge_ready)  # under the lock: never after close's shutdown

    def close(self) -> dict[str, int]:
        """Wait for the merges offered so far; rows merged early per entity."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True)
        return dict(self.rows)

    def _merge_ready(self) -> None:
        with self._lock:
            batches, self._ready = self._ready, []
        if not batches:  # an earlier call took them
            return
        try:
            result = merge(self.warehouse, self.realm_id, batches, {}, "full")
        except WarehouseBusyError as error:
            logger.info(
                "realm %s: %d batches left to the load: %s", self.realm_id, len(batches), error
            )
            return
        except Exception:  # the load merges them again and fails there, where it is seen
            logger.warning(
                "realm %s: early merge of %d batches failed; left to the load",
                self.realm_id, len(batches), exc_info=True,
            )  # fmt: skip
            return
        for entity in result.entities:
            self.rows[entity.entity] += entity.rows_read
