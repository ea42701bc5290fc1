"""Moving a company in and out of the emulator as QBO-shaped JSON files.

Real: the files hold the API's own shapes, one file per entity: a list of objects, a
``{"<Entity>": [...]}`` map, or a whole ``{"QueryResponse": {"<Entity>": [...]}}`` answer;
``.jsonl`` files of one object per line (optionally wrapped as ``{"data": {...}}``, as the
recorded samples are) are read too. Loaded objects keep their Ids, SyncTokens and MetaData;
nothing is recomputed, so a loaded company answers exactly what was recorded.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.clock import parse_qbo_datetime
from qb_pipeline.emulator.entities import ENTITY_TYPES, Kind, entity_type
from qb_pipeline.emulator.namelists import name_space, unique_key

# Recorded ExchangeRates carry no Id/SyncToken/domain (keyed by currency and date): a loaded
# one is stored under an internal key and answered exactly as recorded.
KEYLESS = ("ExchangeRate",)


def read_entity_file(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(entity name, objects) from one file named after its entity (Customer.json...)."""
    et = entity_type(path.stem)
    if et is None:
        raise ValueError(f"{path.name}: the file name is not a QBO entity")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return et.name, [row.get("data", row) for row in rows]
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "QueryResponse" in data:
        data = data["QueryResponse"]
    if isinstance(data, dict):
        data = data.get(et.name, [data] if "Id" in data else [])
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: expected a list of {et.name} objects")
    return et.name, data


def load_directory(books: Books, directory: Path) -> dict[str, int]:
    """Load every <Entity>.json / .jsonl file of a directory; counts per entity."""
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a directory")
    counts: dict[str, int] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".json", ".jsonl"):
            continue
        entity, objects = read_entity_file(path)
        for obj in objects:
            load_object(books, entity, obj)
        counts[entity] = counts.get(entity, 0) + len(objects)
    return counts


def load_object(books: Books, entity: str, obj: dict[str, Any]) -> None:
    """Store one recorded object as it is (Id, SyncToken, MetaData kept)."""
    et = ENTITY_TYPES[entity]
    with books.lock:
        obj = json.loads(json.dumps(obj))
        object_id = str(obj.get("Id") or books._next_id(entity))
        if entity not in KEYLESS:
            obj["Id"] = object_id
            obj.setdefault("SyncToken", "0")
            obj.setdefault("domain", "QBO")
            obj.setdefault("sparse", False)
        stamp = obj.setdefault("MetaData", {}).get("LastUpdatedTime")
        moment = parse_qbo_datetime(stamp) if stamp else books.clock.now()
        books.objects[entity][object_id] = obj
        books.updated_at[entity][object_id] = moment.timestamp()
        if object_id.isdigit():
            space = "txn" if et.kind == Kind.TRANSACTION else name_space(entity)
            books._ids[space] = max(books._ids[space], int(object_id))
        if et.kind == Kind.NAME_LIST and (obj.get(et.name_field or "Name") or obj.get("Name")):
            with contextlib.suppress(KeyError):
                books._names[name_space(entity)][unique_key(et, obj)] = f"{entity}:{object_id}"
        books.version += 1


def export_directory(books: Books, directory: Path) -> dict[str, int]:
    """Write one <Entity>.json per non-empty entity, as a QueryResponse answer."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with books.lock:
        snapshot = {name: list(objs.values()) for name, objs in books.objects.items() if objs}
    for name, objects in snapshot.items():
        body = {"QueryResponse": {name: objects, "startPosition": 1, "maxResults": len(objects)}}
        (directory / f"{name}.json").write_text(json.dumps(body, indent=1))
        counts[name] = len(objects)
    return counts
