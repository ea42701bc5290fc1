"""Merging landing batches into raw: the warehouse equals the books after every sync.

Real: emulator companies (in-process books), the real LandingWriter, merge and DuckDB file.
Faked: extraction (sync_fixture reads the books instead of calling the API). Crashes and
concurrency are in test_merge_recovery.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import (
    MergeError,
    Warehouse,
    cursor,
    cursors,
    merge,
    pending_batches,
    tombstone_missing,
)
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    OVERLAP,
    all_cursors,
    change_the_books,
    differences,
    full_load,
    land_changes,
    land_full,
    moment_after_everything,
    raw_state,
    snapshot_objects,
    tombstone_stub,
)


def test_initial_and_incremental_sync_of_a_demo_company_equal_the_books(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    books = Emulator().create_realm(size="demo", seed=0)
    root = tmp_path / "landing"
    first_cursor = full_load(books, root, warehouse)
    assert differences(warehouse, books) == []
    assert cursor(warehouse, books.realm_id, "Invoice") == first_cursor

    touched = change_the_books(books, first_cursor + OVERLAP + timedelta(minutes=5))
    batches = land_changes(books, root, since=first_cursor)  # overlap: old rows come again
    new_cursor = moment_after_everything(books, seconds=60) - OVERLAP
    result = merge(warehouse, books.realm_id, batches, all_cursors(new_cursor), "cdc")

    assert differences(warehouse, books) == []
    assert cursor(warehouse, books.realm_id, "Invoice") == new_cursor
    assert cursors(warehouse, books.realm_id)["Invoice"].mode == "cdc"
    by_entity = {e.entity: e for e in result.entities}
    assert by_entity["Invoice"].inserted == 1  # the new invoice; the void is an update
    assert by_entity["Purchase"].tombstoned == 1 and by_entity["Payment"].tombstoned == 1
    with warehouse.connect(read_only=True) as con:
        note, token = con.execute(
            "SELECT payload->>'PrivateNote', sync_token FROM raw.invoice WHERE id = ?",
            [touched["created"]],
        ).fetchone()
        deleted_payload = con.execute(
            "SELECT deleted, payload->>'Id' FROM raw.purchase WHERE id = ?",
            [touched["deleted_purchase"]],
        ).fetchone()
    assert (note, token) == ("b", 2)  # the second of two same-second edits
    assert deleted_payload == (True, touched["deleted_purchase"])  # the last payload is kept


def test_same_second_edits_across_two_syncs_take_the_higher_sync_token(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    edit_at = start + OVERLAP + timedelta(minutes=1)
    vendor = next(iter(books.objects["Vendor"].values()))
    first = books.update(
        "Vendor",
        {"Id": vendor["Id"], "SyncToken": vendor["SyncToken"], "sparse": True, "AcctNum": "one"},
        at=edit_at,
    )
    merge(warehouse, books.realm_id, land_changes(books, root, start), all_cursors(edit_at), "cdc")
    books.update(  # committed in the very second the cursor points at
        "Vendor",
        {"Id": first["Id"], "SyncToken": first["SyncToken"], "sparse": True, "AcctNum": "two"},
        at=edit_at,
    )
    since = edit_at - OVERLAP
    merge(warehouse, books.realm_id, land_changes(books, root, since), all_cursors(edit_at), "cdc")
    assert differences(warehouse, books) == []


def test_balance_change_without_sync_token_bump_is_merged(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    """QBO bumps a customer's LastUpdatedTime, not its SyncToken, when its Balance changes."""
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    touched = change_the_books(books, start + OVERLAP + timedelta(minutes=1))
    customer = books.objects["Customer"][touched["customer"]]
    assert customer["SyncToken"] == "0"  # unchanged, yet the Balance moved
    merge(warehouse, books.realm_id, land_changes(books, root, start), {}, "cdc")
    with warehouse.connect(read_only=True) as con:
        (balance,) = con.execute(
            "SELECT (payload->>'Balance')::DOUBLE FROM raw.customer WHERE id = ?", [customer["Id"]]
        ).fetchone()
    assert balance == customer["Balance"]
    assert differences(warehouse, books) == []


def test_merging_the_same_batches_twice_changes_nothing(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    at = moment_after_everything(books)
    batches = land_full(books, root)
    merge(warehouse, books.realm_id, batches, all_cursors(at), "full")
    before = raw_state(warehouse)

    again = merge(warehouse, books.realm_id, batches, all_cursors(at), "full")
    assert again.merged_batch_ids == () and len(again.skipped_batch_ids) == len(batches)
    relanded = merge(warehouse, books.realm_id, land_full(books, root), all_cursors(at), "full")
    assert relanded.rows_read == sum(b.rows for b in batches) and relanded.rows_written == 0

    after = raw_state(warehouse)
    after["meta.landing_batch"] = after["meta.landing_batch"][: len(before["meta.landing_batch"])]
    assert after == before


def test_older_payloads_never_overwrite_newer_ones(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    at = moment_after_everything(books)
    old_batches = land_full(books, root)  # extracted first ...
    invoice = next(iter(books.objects["Invoice"].values()))
    books.update(
        "Invoice",
        {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True, "Memo": "x"},
        at=at,
    )
    new_batches = land_changes(books, root, at)
    # ... merged last, alone and together in the wrong order.
    merge(warehouse, books.realm_id, new_batches, {}, "cdc")
    merge(warehouse, books.realm_id, old_batches, {}, "full")
    assert differences(warehouse, books) == []

    other = Warehouse(tmp_path / "other.duckdb")
    merge(other, books.realm_id, new_batches + old_batches, {}, "full")
    assert differences(other, books) == []


def test_a_tombstone_outranks_older_versions_in_any_order(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    at = moment_after_everything(books)
    bill = next(iter(books.objects["Bill"].values()))
    last_seen = snapshot_objects(books)["Bill"][bill["Id"]]
    books.delete("Bill", {"Id": bill["Id"], "SyncToken": bill["SyncToken"]}, at=at)
    stub_batches = land_changes(books, root, at)  # the stub only: we never saw the bill
    merge(warehouse, books.realm_id, stub_batches, {}, "cdc")
    with warehouse.connect(read_only=True) as con:
        row = con.execute("SELECT deleted, payload FROM raw.bill WHERE id = ?", [bill["Id"]])
        assert row.fetchone() == (True, None)

    from qb_pipeline.warehouse import LandingWriter

    with LandingWriter(root, books.realm_id, "Bill") as writer:  # a late page of the old bill
        writer.write_page([last_seen])
    merge(warehouse, books.realm_id, writer.batches, {}, "cdc")
    with warehouse.connect(read_only=True) as con:
        deleted, payload_id = con.execute(
            "SELECT deleted, payload->>'Id' FROM raw.bill WHERE id = ?", [bill["Id"]]
        ).fetchone()
    assert (deleted, payload_id) == (True, bill["Id"])  # still deleted, last payload kept

    repeat = land_changes(books, root, at)  # the overlap delivers the stub again
    assert merge(warehouse, books.realm_id, repeat, {}, "cdc").rows_written == 0


def test_tombstone_missing_marks_ids_absent_from_a_rebaseline(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    at = start + timedelta(days=40)  # beyond CDC's reach: the deletes come as no stub at all
    gone = list(books.objects["JournalEntry"].values())[:3]
    for entry in gone:
        books.delete("JournalEntry", {"Id": entry["Id"], "SyncToken": entry["SyncToken"]}, at=at)
    listing_began = at + timedelta(minutes=1)
    merge(warehouse, books.realm_id, land_full(books, root), {}, "full")  # the re-baseline
    assert sorted(d.split(":")[0] for d in differences(warehouse, books)) == sorted(
        f"JournalEntry {entry['Id']}" for entry in gone
    )  # a listing shows no deletes: raw still has them live

    live = list(books.objects["JournalEntry"])
    count = tombstone_missing(warehouse, books.realm_id, "JournalEntry", live, listing_began)
    assert count == 3
    assert differences(warehouse, books) == []
    assert tombstone_missing(warehouse, books.realm_id, "JournalEntry", live, listing_began) == 0


def test_rebaseline_in_the_merge_spares_rows_changed_after_the_listing_began(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    listing_began = start + timedelta(days=40)
    entry = next(iter(books.objects["JournalEntry"].values()))
    books.delete(
        "JournalEntry",
        {"Id": entry["Id"], "SyncToken": entry["SyncToken"]},
        at=listing_began - timedelta(hours=1),
    )
    listing = land_full(books, root)
    lines = [{k: v for k, v in line.items() if k != "Id"} for line in entry["Line"]]
    late = books.create("JournalEntry", {"Line": lines}, at=listing_began + timedelta(minutes=5))
    late_batches = land_changes(books, root, listing_began)  # a CDC after the listing saw it
    live = {"JournalEntry": [i for i in books.objects["JournalEntry"] if i != late["Id"]]}
    result = merge(
        warehouse,
        books.realm_id,
        listing + late_batches,
        {},
        "full",
        live_ids=live,
        live_ids_at=listing_began,
    )
    assert result.tombstoned_missing == 1
    assert differences(warehouse, books) == []


def test_merge_refuses_what_it_cannot_merge_safely(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    batches = land_full(books, tmp_path / "landing")
    with pytest.raises(MergeError, match="not 42"):
        merge(warehouse, "42", batches, {}, "full")
    with pytest.raises(ValueError, match="timezone-aware"):
        merge(warehouse, books.realm_id, batches, {"Invoice": datetime(2026, 1, 1)}, "full")
    with pytest.raises(ValueError, match="unknown QBO entity"):
        merge(warehouse, books.realm_id, batches, {"Invoices": datetime.now(UTC)}, "full")
    assert cursor(warehouse, books.realm_id, "Invoice") is None
    assert len(pending_batches(tmp_path / "landing", warehouse, books.realm_id)) == len(batches)


def test_a_stub_for_an_object_never_seen_becomes_a_tombstone_row(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    from qb_pipeline.warehouse import LandingWriter

    with LandingWriter(tmp_path, books.realm_id, "Invoice") as writer:
        writer.write_page([tombstone_stub("999999", "2026-01-02T03:04:05-08:00")])
    merge(warehouse, books.realm_id, writer.batches, {}, "cdc")
    with warehouse.connect(read_only=True) as con:
        row = con.execute(
            "SELECT deleted, deleted_at, last_updated_at, sync_token, payload FROM raw.invoice"
        ).fetchone()
    stamp = datetime(2026, 1, 2, 11, 4, 5, tzinfo=UTC)
    assert row == (True, stamp, stamp, None, None)
