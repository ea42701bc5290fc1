"""Test-only extract stand-in for the raw layer: emulator books -> landing batches, as QBO would.

Real: landing batches written by the real LandingWriter, merged by the real merge; a full listing
is every live object (no tombstones, as query paging gives); a CDC answer is every object and
every ``status: Deleted`` stub changed at or after ``since`` (inclusive, as QBO's changedSince),
so a cursor moved back by an overlap re-delivers duplicates. Faked: no HTTP and no paging (the
books are read in-process), no 1,000-object CDC cap and no 30-day window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import (
    RAW_ENTITIES,
    LandingBatch,
    LandingWriter,
    Warehouse,
    compare_raw_with_objects,
    merge,
    raw_table,
)

OVERLAP = timedelta(minutes=2)


def moment_after_everything(books: Books, seconds: float = 3600) -> datetime:
    """A time later than every stamp in the books (generated companies reach into 'today')."""
    stamps = [s for by_id in books.updated_at.values() for s in by_id.values()]
    stamps += [s for by_id in books.tombstones.values() for s, _text in by_id.values()]
    return datetime.fromtimestamp(max(stamps), UTC).replace(microsecond=0) + timedelta(
        seconds=seconds
    )


def snapshot_objects(books: Books) -> dict[str, dict[str, dict]]:
    """A deep copy of the books' live objects (the stored dicts change in place)."""
    return orjson.loads(orjson.dumps(books.objects))


def snapshot_tombstones(books: Books) -> dict[str, dict[str, Any]]:
    return {entity: dict(by_id) for entity, by_id in books.tombstones.items()}


def tombstone_stub(object_id: str, text: str) -> dict[str, Any]:
    """A CDC delete stub, as QBO sends it."""
    return {
        "domain": "QBO",
        "status": "Deleted",
        "Id": object_id,
        "MetaData": {"LastUpdatedTime": text},
    }


def land_full(
    books: Books, root: Path, *, max_rows: int = 400, extracted_at: datetime | None = None
) -> list[LandingBatch]:
    """Every live object of every entity, one writer per entity (query paging's answer)."""
    batches: list[LandingBatch] = []
    for entity, by_id in books.objects.items():
        if by_id:
            batches += _land(
                root, books.realm_id, entity, list(by_id.values()), [], max_rows, extracted_at
            )
    return batches


def land_changes(
    books: Books,
    root: Path,
    since: datetime,
    *,
    max_rows: int = 400,
    extracted_at: datetime | None = None,
) -> list[LandingBatch]:
    """Objects and delete stubs changed at or after ``since`` (a CDC answer, overlap included)."""
    cutoff = since.timestamp()
    batches: list[LandingBatch] = []
    for entity in books.objects:
        live = [
            books.objects[entity][object_id]
            for object_id, stamp in books.updated_at[entity].items()
            if stamp >= cutoff
        ]
        stubs = [
            tombstone_stub(object_id, text)
            for object_id, (stamp, text) in books.tombstones.get(entity, {}).items()
            if stamp >= cutoff
        ]
        if live or stubs:
            batches += _land(root, books.realm_id, entity, live, stubs, max_rows, extracted_at)
    return batches


def _land(
    root: Path,
    realm_id: str,
    entity: str,
    live: list[dict],
    stubs: list[dict],
    max_rows: int,
    extracted_at: datetime | None,
) -> list[LandingBatch]:
    with LandingWriter(root, realm_id, entity, max_rows_per_file=max_rows) as writer:
        for start in range(0, len(live), 250):  # pages, as the API would hand them over
            writer.write_page(live[start : start + 250], extracted_at=extracted_at)
        if stubs:
            writer.write_page(stubs, deleted=True, extracted_at=extracted_at)
    return writer.batches


def all_cursors(at: datetime) -> dict[str, datetime]:
    """The same cursor for every entity the books know."""
    return dict.fromkeys(RAW_ENTITIES, at)


def raw_state(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """Every row of every raw and meta table (to prove that something changed nothing)."""
    state = {}
    with warehouse.connect(read_only=True) as con:
        for entity in RAW_ENTITIES:
            state[entity] = con.execute(
                f"SELECT * FROM {raw_table(entity)} ORDER BY realm_id, id"
            ).fetchall()
        for table in ("meta.sync_cursor", "meta.landing_batch"):
            state[table] = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    return state


def _open_invoice(books: Books, at: datetime) -> dict:
    """An unpaid invoice to void, for companies whose history left none open."""
    customer = next(c for c in books.objects["Customer"].values() if c.get("Active", True))
    item = next(i for i in books.objects["Item"].values() if i.get("Type") == "Service")
    line = {
        "Amount": 120.0,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
    }
    payload = {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}
    return books.create("Invoice", payload, at=at)


def change_the_books(books: Books, at: datetime) -> dict[str, str]:
    """Creates, sparse updates, a void, deletes and two edits in one second; what was touched."""
    touched = _create_and_edit(books, at)
    open_invoice = next(
        (
            i
            for i in books.objects["Invoice"].values()
            if float(i.get("Balance", 0)) > 0 and i["Id"] != touched["created"]
        ),
        None,
    ) or _open_invoice(books, at + timedelta(seconds=6))
    books.void("Invoice", _version(open_invoice), at=at + timedelta(seconds=7))
    purchase = next(iter(books.objects["Purchase"].values()))
    books.delete("Purchase", _version(purchase), at=at + timedelta(seconds=8))
    payment = next(iter(books.objects["Payment"].values()))
    books.delete("Payment", _version(payment), at=at + timedelta(seconds=8))
    return touched | {
        "voided": open_invoice["Id"],
        "deleted_purchase": purchase["Id"],
        "deleted_payment": payment["Id"],
    }


def _create_and_edit(books: Books, at: datetime) -> dict[str, str]:
    customer = next(c for c in books.objects["Customer"].values() if c.get("Active", True))
    item = next(i for i in books.objects["Item"].values() if i.get("Type") == "Service")
    line = {
        "Amount": 125.5,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 125.5},
    }
    created = books.create(
        "Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}, at=at
    )
    later = at + timedelta(seconds=5)
    first = books.update("Invoice", _version(created) | {"PrivateNote": "a"}, at=later)
    # The same second as the edit before: only the SyncToken tells the two versions apart.
    books.update("Invoice", _version(first) | {"PrivateNote": "b"}, at=later)
    vendor = next(v for v in books.objects["Vendor"].values() if v.get("Active", True))
    books.update("Vendor", _version(vendor) | {"AcctNum": "X-1"}, at=at + timedelta(seconds=6))
    return {"created": created["Id"], "customer": customer["Id"], "vendor": vendor["Id"]}


def _version(obj: dict) -> dict[str, Any]:
    """What a sparse update, a void or a delete sends to name the version it changes."""
    return {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "sparse": True}


def differences(warehouse: Warehouse, books: Books) -> list[str]:
    """Every difference between the realm's raw tables and its books, as text."""
    return [
        str(d)
        for d in compare_raw_with_objects(
            warehouse, books.realm_id, books.objects, books.tombstones
        )
    ]


def full_load(books: Books, root: Path, warehouse: Warehouse) -> datetime:
    """Land and merge a full listing; returns the cursor it set."""
    at = moment_after_everything(books, seconds=60)
    merge(warehouse, books.realm_id, land_full(books, root), all_cursors(at - OVERLAP), "full")
    return at - OVERLAP
