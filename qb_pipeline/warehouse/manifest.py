"""Extract manifests: what one extract run landed and how far it may move the realm's cursors.

An extract writes its manifest only after every landing batch it produced is closed, under a
temp name renamed into place, so a manifest on disk means "this extract is complete". Loading
then reads every manifest of the realm: cursors advance only from manifests, and a complete
listing's Ids (a re-baseline) tombstone what QBO no longer has. Batches without a manifest (a
crash mid-extract) are still merged, but move no cursor. Layout::

    <root>/realm=<realm_id>/manifests/manifest-<utc ts>-<token>.json

After a load commits, its manifests are renamed ``*.json.applied`` (kept for the audit trail).
Re-applying a manifest (a crash between commit and rename) is harmless: cursors only move
forward and re-baseline tombstones spare rows changed after the listing began.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from qb_pipeline.warehouse.landing import realm_dir

logger = logging.getLogger(__name__)

_TS_FORMAT = "%Y%m%dT%H%M%S%fZ"
APPLIED_SUFFIX = ".applied"


@dataclass(frozen=True)
class EntityExtract:
    """One entity of an extract: how it was read, rows landed, deletes seen, its new cursor."""

    entity: str
    mode: str  # "full" | "cdc" | "fallback"
    rows: int
    deleted: int
    cursor_at: datetime
    # A complete listing (mode "full"): every live Id, and when the listing began.
    live_ids: frozenset[str] | None = field(default=None, repr=False, compare=False)
    live_ids_at: datetime | None = None


@dataclass(frozen=True)
class ExtractManifest:
    """One complete extract of a realm."""

    realm_id: str
    mode: str  # "full" (some entity was re-listed) | "cdc"
    entities: dict[str, EntityExtract]
    api_calls: int
    started_at: datetime
    finished_at: datetime
    path: Path
    batch_ids: tuple[str, ...] = ()
    merged_early: dict[str, int] = field(default_factory=dict)  # rows merged during the extract


def manifest_dir(root: Path | str, realm_id: str) -> Path:
    return realm_dir(root, realm_id) / "manifests"


def new_manifest_path(root: Path | str, realm_id: str, at: datetime) -> Path:
    """A fresh manifest name; names sort in creation order."""
    stamp = at.astimezone(UTC).strftime(_TS_FORMAT)
    return manifest_dir(root, realm_id) / f"manifest-{stamp}-{secrets.token_hex(4)}.json"


def write_manifest(manifest: ExtractManifest) -> None:
    """Write atomically (temp name, fsync, rename): a reader sees the whole manifest or none."""
    manifest.path.parent.mkdir(parents=True, exist_ok=True)
    temp = manifest.path.with_name(f".{manifest.path.name}.tmp")
    with open(temp, "wb") as handle:
        handle.write(orjson.dumps(_to_json(manifest)))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, manifest.path)


def read_manifests(root: Path | str, realm_id: str) -> list[ExtractManifest]:
    """The realm's complete manifests not applied yet, oldest first."""
    directory = manifest_dir(root, realm_id)
    if not directory.is_dir():
        return []
    return [_from_json(path) for path in sorted(directory.glob("manifest-*.json"))]


def mark_applied(manifest: ExtractManifest) -> None:
    """Rename a loaded manifest out of the pending set."""
    os.replace(manifest.path, manifest.path.with_name(manifest.path.name + APPLIED_SUFFIX))


def _to_json(manifest: ExtractManifest) -> dict[str, Any]:
    return {
        "realm_id": manifest.realm_id,
        "mode": manifest.mode,
        "api_calls": manifest.api_calls,
        "started_at": manifest.started_at.isoformat(),
        "finished_at": manifest.finished_at.isoformat(),
        "batch_ids": list(manifest.batch_ids),
        "merged_early": dict(manifest.merged_early),
        "entities": {name: _entity_json(e) for name, e in manifest.entities.items()},
    }


def _entity_json(extract: EntityExtract) -> dict[str, Any]:
    return {
        "mode": extract.mode,
        "rows": extract.rows,
        "deleted": extract.deleted,
        "cursor_at": extract.cursor_at.isoformat(),
        "live_ids": sorted(extract.live_ids) if extract.live_ids is not None else None,
        "live_ids_at": extract.live_ids_at.isoformat() if extract.live_ids_at else None,
    }


def _from_json(path: Path) -> ExtractManifest:
    data = orjson.loads(path.read_bytes())
    entities = {}
    for name, item in data["entities"].items():
        ids = item.get("live_ids")
        at = item.get("live_ids_at")
        entities[name] = EntityExtract(
            entity=name,
            mode=item["mode"],
            rows=int(item["rows"]),
            deleted=int(item["deleted"]),
            cursor_at=datetime.fromisoformat(item["cursor_at"]),
            live_ids=frozenset(ids) if ids is not None else None,
            live_ids_at=datetime.fromisoformat(at) if at else None,
        )
    return ExtractManifest(
        realm_id=data["realm_id"],
        mode=data["mode"],
        entities=entities,
        api_calls=int(data["api_calls"]),
        started_at=datetime.fromisoformat(data["started_at"]),
        finished_at=datetime.fromisoformat(data["finished_at"]),
        path=path,
        batch_ids=tuple(data.get("batch_ids") or ()),
        merged_early={name: int(rows) for name, rows in (data.get("merged_early") or {}).items()},
    )
