"""Batch: up to 30 creates, updates, deletes, voids, queries and CDC queries in one call.

Real (API_FACTS 1.15): ``{"BatchItemRequest": [{"bId", "operation", "<Entity>": {...}} |
{"bId", "Query"}]}`` answered by ``{"BatchItemResponse": [...]}`` with HTTP 200 whatever the
items' faults; items run in order and cannot see each other's new objects. A void is an
``update`` with ``optionsData: "void"`` (documented, not observed on the wire). A change data
capture item is ``{"bId", "CDCQuery": {"Entities": "A,B", "ChangedSince": ...}}`` answered by
``{"bId", "CDCResponse": {"QueryResponse": [...]}}`` (Intuit's Java SDK,
``BatchOperation.addCDCQuery``; not observed on the wire, so callers keep a plain ``/cdc``
fallback). Each item's answer becomes a :class:`BatchResult` holding the object or a typed
:class:`QBOError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qb_pipeline.qbo.entities import entity
from qb_pipeline.qbo.errors import QBOError, from_response
from qb_pipeline.qbo.query import Query, entity_of

MAX_BID_LENGTH = 36  # python-quickbooks sends uuid4 bIds and real QBO takes them

BATCH_OPERATIONS = frozenset({"create", "update", "delete", "void", "query", "cdc"})
READ_OPERATIONS = frozenset({"query", "cdc"})


@dataclass(frozen=True)
class BatchItem:
    """One operation of a batch; build it with ``create``/``update``/``delete``/``void``/
    ``select``/``cdc``. ``bid`` names the item in the answer (unique, at most 36 characters)."""

    bid: str
    operation: str
    entity: str
    payload: Mapping[str, Any] | None = None
    query: str = ""  # a query's text; a CDC item's entities, comma-separated
    changed_since: str = ""  # a CDC item's start (ISO 8601 with an offset)

    def __post_init__(self) -> None:
        if not 1 <= len(self.bid) <= MAX_BID_LENGTH or self.operation not in BATCH_OPERATIONS:
            raise ValueError(f"bad batch item {self.bid!r}: {self.operation!r}")
        object.__setattr__(self, "entity", entity(self.entity).name)

    @classmethod
    def create(cls, bid: str, entity_name: str, obj: Mapping[str, Any]) -> BatchItem:
        return cls(bid, "create", entity_name, dict(obj))

    @classmethod
    def update(
        cls, bid: str, entity_name: str, obj: Mapping[str, Any], *, sparse: bool = True
    ) -> BatchItem:
        return cls(bid, "update", entity_name, {**obj, "sparse": sparse})

    @classmethod
    def delete(cls, bid: str, entity_name: str, object_id: str, sync_token: str) -> BatchItem:
        return cls(bid, "delete", entity_name, {"Id": object_id, "SyncToken": str(sync_token)})

    @classmethod
    def void(cls, bid: str, entity_name: str, object_id: str, sync_token: str) -> BatchItem:
        return cls(bid, "void", entity_name, {"Id": object_id, "SyncToken": str(sync_token)})

    @classmethod
    def select(cls, bid: str, query: Query | str) -> BatchItem:
        text = query.sql if isinstance(query, Query) else query
        return cls(bid, "query", entity_of(text), query=text)

    @classmethod
    def cdc(cls, bid: str, entities: Sequence[str], changed_since: str) -> BatchItem:
        """Every change to ``entities`` since ``changed_since`` (one CDC answer, its cap)."""
        names = [entity(name) for name in entities]
        refused = [e.name for e in names if not e.cdc]
        if refused or not names:
            raise ValueError(f"change data capture does not serve {refused or 'no entities'}")
        joined = ",".join(e.name for e in names)
        return cls(bid, "cdc", names[0].name, query=joined, changed_since=changed_since)

    def as_json(self) -> dict[str, Any]:
        """The item as QBO's BatchItemRequest wants it (void: update + optionsData)."""
        if self.operation == "query":
            return {"bId": self.bid, "Query": self.query}
        if self.operation == "cdc":
            cdc = {"Entities": self.query, "ChangedSince": self.changed_since}
            return {"bId": self.bid, "CDCQuery": cdc}
        item = {
            "bId": self.bid,
            "operation": "update" if self.operation == "void" else self.operation,
        }
        if self.operation == "void":
            item["optionsData"] = "void"
        return {**item, self.entity: dict(self.payload or {})}


@dataclass(frozen=True)
class BatchResult:
    """One item's answer: the object (a QueryResponse for a query) or its error."""

    bid: str
    entity: str
    value: dict[str, Any] | QBOError

    @property
    def ok(self) -> bool:
        return not isinstance(self.value, QBOError)

    @property
    def error(self) -> QBOError | None:
        return self.value if isinstance(self.value, QBOError) else None


def batch_results(
    data: Mapping[str, Any], items: Sequence[BatchItem], realm_id: str, intuit_tid: str
) -> list[BatchResult]:
    """Pair each item with its answer in a BatchItemResponse (faults become typed errors)."""
    answers = {str(a.get("bId")): a for a in data.get("BatchItemResponse") or []}
    results = []
    for item in items:
        answer = answers.get(item.bid)
        value: dict[str, Any] | QBOError
        if answer is None:
            value = QBOError("QBO gave no answer for this batch item", realm_id=realm_id)
        elif "Fault" in answer:
            body = json.dumps({"Fault": answer["Fault"]}).encode()
            value = from_response(400, body, realm_id=realm_id, intuit_tid=intuit_tid)
        elif item.operation == "query":
            value = answer.get("QueryResponse") or {}
        elif item.operation == "cdc":
            value = answer.get("CDCResponse") or {}
        else:
            value = answer.get(entity(item.entity).key) or {}
        results.append(BatchResult(item.bid, item.entity, value))
    return results
