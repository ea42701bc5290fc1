"""Manifests and load planning without HTTP: atomic files, forward-only cursors, no-op loads.

Real: manifest files on disk, the warehouse's cursors, merge. Faked: manifests are written by
hand instead of by an extract (the sync tests cover the real producer).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from qb_pipeline.warehouse import Warehouse, cursor
from qb_pipeline.warehouse.load import load_realm
from qb_pipeline.warehouse.manifest import (
    EntityExtract,
    ExtractManifest,
    new_manifest_path,
    read_manifests,
    write_manifest,
)

REALM = "4620816365"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def manifest(root: Path, at: datetime, ids: frozenset[str] | None = None) -> ExtractManifest:
    extract = EntityExtract("Customer", "full", 0, 0, at, live_ids=ids, live_ids_at=at)
    return ExtractManifest(
        realm_id=REALM,
        mode="full",
        entities={"Customer": extract},
        api_calls=3,
        started_at=at,
        finished_at=at + timedelta(seconds=1),
        path=new_manifest_path(root, REALM, at),
    )


def test_a_manifest_round_trips_and_half_written_ones_are_invisible(tmp_path: Path) -> None:
    written = manifest(tmp_path, T0, frozenset({"1", "2"}))
    write_manifest(written)
    (written.path.parent / ".manifest-x.json.tmp").write_text("{not json")

    (read,) = read_manifests(tmp_path, REALM)
    assert read == written
    assert read.entities["Customer"].live_ids == frozenset({"1", "2"})


def test_cursors_only_move_forward_and_applied_manifests_are_not_reapplied(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    write_manifest(manifest(tmp_path, T0 + timedelta(hours=1)))
    assert load_realm(warehouse, tmp_path, REALM).cursors_advanced
    assert cursor(warehouse, REALM, "Customer") == T0 + timedelta(hours=1)

    write_manifest(manifest(tmp_path, T0))  # an older extract, found late
    result = load_realm(warehouse, tmp_path, REALM)

    assert result.manifests == 1 and not result.cursors_advanced
    assert cursor(warehouse, REALM, "Customer") == T0 + timedelta(hours=1)
    assert load_realm(warehouse, tmp_path, REALM).manifests == 0
