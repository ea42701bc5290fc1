"""Row-for-row comparison of a realm's raw tables with a known set of QBO objects.

Used by tests and reconciliation checks to prove the warehouse equals the source: the same Ids,
the same SyncTokens, the same payloads (compared as parsed JSON), and deleted flags exactly where
the source has tombstones. Only the entities named in either mapping are compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from qb_pipeline.warehouse.schema import canonical_entity, raw_table
from qb_pipeline.warehouse.warehouse import Warehouse

_MAX_DETAIL = 200


@dataclass(frozen=True)
class Difference:
    """One way a raw row disagrees with the source.

    kind: ``missing`` (live in the source, absent from raw), ``unexpected`` (in raw, unknown to
    the source), ``deleted`` (live in the source, deleted in raw), ``not_deleted`` (tombstoned in
    the source, live in raw), ``sync_token`` or ``payload`` (live on both sides, different).
    """

    entity: str
    id: str
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.entity} {self.id}: {self.kind} {self.detail}".rstrip()


@dataclass(frozen=True)
class _RawRow:
    sync_token: int | None
    deleted: bool
    payload: Any


def compare_raw_with_objects(
    warehouse: Warehouse,
    realm_id: str,
    objects_by_entity: Mapping[str, Mapping[str, Mapping[str, Any]]],
    tombstones_by_entity: Mapping[str, Mapping[str, Any]],
) -> list[Difference]:
    """Every difference between raw and the source objects/tombstones ({entity: {id: ...}})."""
    entities = {canonical_entity(e) for e in (*objects_by_entity, *tombstones_by_entity)}
    differences: list[Difference] = []
    with warehouse.connect(read_only=True) as con:
        for entity in sorted(entities):
            rows = con.execute(
                f"SELECT id, sync_token, deleted, payload FROM {raw_table(entity)} "
                "WHERE realm_id = ?",
                [realm_id],
            ).fetchall()
            raw = {
                r[0]: _RawRow(r[1], r[2], orjson.loads(r[3]) if r[3] is not None else None)
                for r in rows
            }
            objects = _by_entity(objects_by_entity, entity)
            tombstones = _by_entity(tombstones_by_entity, entity)
            differences += _compare_entity(entity, raw, objects, tombstones)
    return differences


def _by_entity(mapping: Mapping[str, Mapping[str, Any]], entity: str) -> Mapping[str, Any]:
    for name, values in mapping.items():
        if canonical_entity(name) == entity:
            return values
    return {}


def _compare_entity(
    entity: str,
    raw: dict[str, _RawRow],
    objects: Mapping[str, Mapping[str, Any]],
    tombstones: Mapping[str, Any],
) -> list[Difference]:
    out = []
    for object_id, obj in objects.items():
        row = raw.get(str(object_id))
        if row is None:
            out.append(Difference(entity, str(object_id), "missing"))
            continue
        out += _compare_live(entity, str(object_id), obj, row)
    for object_id in tombstones:
        row = raw.get(str(object_id))
        if row is not None and not row.deleted:
            out.append(Difference(entity, str(object_id), "not_deleted"))
    known = {str(i) for i in objects} | {str(i) for i in tombstones}
    out += [Difference(entity, i, "unexpected") for i in sorted(set(raw) - known)]
    return out


def _compare_live(
    entity: str, object_id: str, obj: Mapping[str, Any], row: _RawRow
) -> list[Difference]:
    if row.deleted:
        return [Difference(entity, object_id, "deleted")]
    out = []
    token = obj.get("SyncToken")
    expected = int(token) if token not in (None, "") else None
    if row.sync_token != expected:
        out.append(Difference(entity, object_id, "sync_token", f"{row.sync_token} != {expected}"))
    source = orjson.loads(orjson.dumps(obj))  # the source as JSON would carry it
    if row.payload != source:
        out.append(
            Difference(entity, object_id, "payload", _first_key_difference(row.payload, source))
        )
    return out


def _first_key_difference(raw: Any, source: Any) -> str:
    """A short pointer at what differs, for the report."""
    if isinstance(raw, dict) and isinstance(source, dict):
        for key in sorted(set(raw) | set(source)):
            if raw.get(key) != source.get(key):
                ours, theirs = str(raw.get(key))[:_MAX_DETAIL], str(source.get(key))[:_MAX_DETAIL]
                return f"{key}: raw={ours} source={theirs}"
    return f"raw={str(raw)[:_MAX_DETAIL]}"
