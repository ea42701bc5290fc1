"""POST /batch: up to 30 create/update/delete/query/CDC items run in order, faults per item.

Real (API_FACTS 1.15): ``{"BatchItemRequest": [{"bId", "operation", "<Entity>": {...}} |
{"bId", "Query"}]}`` -> ``{"BatchItemResponse": [{"bId", "<Entity>" | "QueryResponse" |
"Fault"}]}`` with HTTP 200 whatever the items' faults; more than the limit -> 1040; an empty
batch -> 400. ``optionsData: "void"`` on an update voids.
From Intuit's Java SDK, not observed on the wire: ``{"bId", "CDCQuery": {"Entities": "A,B",
"ChangedSince": "<ISO datetime>"}}`` -> ``{"bId", "CDCResponse": {"QueryResponse": [...]}}``,
the same answer as ``GET /cdc`` (its cap, order and 30-day refusal) per item. A server
without it (``config.batch_cdc = False``) answers such an item as an unknown property.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.cdc import run_cdc
from qb_pipeline.emulator.entities import ENTITY_TYPES, entity_type
from qb_pipeline.emulator.querying import run_query_text

if TYPE_CHECKING:
    from qb_pipeline.emulator.backend import Emulator
    from qb_pipeline.emulator.books import Books

ITEM_KEYS = ("bId", "operation", "optionsData")
# python-quickbooks sends uuid4 bIds (36 chars) and works against real QBO; the "10 chars"
# of Intuit's blog does not hold for bId, so only longer ones are refused.
MAX_BID_LENGTH = 36


def run_batch(emulator: Emulator, books: Books, body: Any) -> list[dict[str, Any]]:
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise exc.FaultError("400", "MalformedRequest", "Batch Request is Empty")
    limit = emulator.config.limits.batch_max_items
    if len(items) > limit:
        raise exc.BatchTooLarge(limit)
    return [_run_item(emulator, books, item) for item in items]


def _run_item(emulator: Emulator, books: Books, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"Fault": exc.MalformedJson("batch item must be an object").fault()}
    bid = str(item.get("bId", ""))
    try:
        if not bid:
            raise exc.RequiredParam("bId")
        if len(bid) > MAX_BID_LENGTH:
            raise exc.FaultError(
                "2050",
                "Invalid String Length",
                f"bId is longer than {MAX_BID_LENGTH} characters: {bid}",
                "bId",
            )
        return {**_execute(emulator, books, item), "bId": bid}
    except exc.FaultError as fault:
        return {"Fault": fault.fault(), "bId": bid}


def _execute(emulator: Emulator, books: Books, item: dict[str, Any]) -> dict[str, Any]:
    if "Query" in item:
        return {"QueryResponse": run_query_text(emulator, books, str(item["Query"]))}
    if "CDCQuery" in item and emulator.config.batch_cdc:
        return {"CDCResponse": _cdc(emulator, books, item["CDCQuery"])}
    entity_keys = [k for k in item if k not in ITEM_KEYS]
    if len(entity_keys) != 1:
        raise exc.RequiredParam("<Entity>")
    et = entity_type(entity_keys[0])
    if et is None:
        raise exc.UnknownProperty("BatchItemRequest", entity_keys[0])
    name = ENTITY_TYPES[et.name].name
    payload = item[entity_keys[0]]
    if not isinstance(payload, dict):
        raise exc.MalformedJson(f"{name} must be an object")
    operation = str(item.get("operation", "")).lower()
    if operation == "create":
        return {name: books.create(name, payload)}
    if operation == "update" and str(item.get("optionsData", "")).lower() == "void":
        return {name: books.void(name, payload)}
    if operation == "update":
        return {name: books.update(name, payload)}
    if operation == "delete":
        return {name: books.delete(name, payload)}
    raise exc.InvalidValue(
        "2170",
        "Invalid Enumeration",
        f"Invalid Enumeration : operation {operation or '(none)'}",
        "operation",
    )


def _cdc(emulator: Emulator, books: Books, query: Any) -> dict[str, Any]:
    if not isinstance(query, dict):
        raise exc.MalformedJson("CDCQuery must be an object")
    since = query.get("ChangedSince")
    params = {"entities": str(query.get("Entities") or ""), "changedSince": str(since or "")}
    return run_cdc(emulator, books, params)[0]
