"""Load a realm: merge every pending landing batch and apply complete manifests, atomically.

``load_realm`` is the only step that writes ``raw`` during a sync. It folds in every batch of the
realm not merged yet (the last extract's, and whatever a crashed run left), and in the same
transaction (``merge``) advances cursors and applies re-baseline tombstones, but only from
complete manifests. So:

- crash between extract and load (batches + manifest on disk): the next load merges both;
- crash mid-extract (batches, no manifest): the batches merge, no cursor moves, and the next
  extract re-reads from the old cursor (the duplicates it brings are folded by merge);
- crash after commit, before the manifests are marked applied: re-applying them changes
  nothing (cursors only move forward; tombstones spare rows changed after their listing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qb_pipeline.warehouse.cursors import cursors
from qb_pipeline.warehouse.landing import pending_batches
from qb_pipeline.warehouse.manifest import ExtractManifest, mark_applied, read_manifests
from qb_pipeline.warehouse.merge import merge
from qb_pipeline.warehouse.warehouse import Warehouse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    """What one load committed."""

    realm_id: str
    rows_by_entity: dict[str, int]  # landed rows read per entity (duplicates included)
    tombstoned: int  # rows newly marked deleted (CDC deletes and re-baseline)
    cursors_advanced: bool
    manifests: int  # complete manifests applied


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
