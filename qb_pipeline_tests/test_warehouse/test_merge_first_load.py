"""A realm's first load: the fold against no stored row, and the re-baseline it can skip.

The merge folds every entity in one pass and scans the stored rows only of the entities the realm
already has; a listing's tombstones are applied only to entities with stored rows or with new
rows the listing lacks. These tests hold that shortcut to the general path's result.

Real: emulator companies (in-process books), the real LandingWriter, merge and DuckDB files.
Faked: extraction (sync_fixture reads the books); "the general path" is the same merge told
that every entity already has stored rows (so it scans every table and re-baselines every
listed entity), which is what it does for a realm loaded before.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import RAW_ENTITIES, LandingWriter, Warehouse, merge, raw_table
from qb_pipeline.warehouse.warehouse import ROW_GROUP_SIZE
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    all_cursors,
    change_the_books,
    land_changes,
    land_full,
    moment_after_everything,
    tombstone_stub,
)

# the module (the package's ``merge`` is the function)
merge_impl = importlib.import_module("qb_pipeline.warehouse.merge")


def _state(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """Every raw and meta row, less the columns that only say when the merge ran."""
    state = {}
    with warehouse.connect(read_only=True) as con:
        for entity in RAW_ENTITIES:
            state[entity] = con.execute(
                "SELECT * EXCLUDE (loaded_at) FROM " + raw_table(entity) + " ORDER BY ALL"
            ).fetchall()
        state["cursors"] = con.execute(
            "SELECT * EXCLUDE (updated_at) FROM meta.sync_cursor ORDER BY ALL"
        ).fetchall()
        state["batches"] = con.execute(
            "SELECT * EXCLUDE (merged_at) FROM meta.landing_batch ORDER BY ALL"
        ).fetchall()
    return state


def test_a_first_load_writes_exactly_what_the_general_path_writes(
    tmp_path: Path, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates across batches, same-second edits, CDC deletes, a stub never seen alive, and
    a listing that lacks one old row (tombstoned) and one new row (spared): one merge each way."""
    root = tmp_path / "landing"
    at = moment_after_everything(books)
    listed = {entity: list(by_id) for entity, by_id in books.objects.items()}
    gone = listed["JournalEntry"].pop()  # hard-deleted as far as the listing knows
    listing_began = at + timedelta(seconds=30)
    batches = land_full(books, root)  # the listing's pages
    touched = change_the_books(books, at + timedelta(minutes=1))  # after the listing began
    batches += land_changes(books, root, at)  # CDC: new versions and delete stubs
    batches += land_full(books, root, max_rows=97)  # the same objects again, cut elsewhere
    with LandingWriter(root, books.realm_id, "Invoice") as writer:
        writer.write_page([tombstone_stub("999999", "2026-01-02T03:04:05-08:00")])
    batches += writer.batches
    cursors = all_cursors(at)
    first = Warehouse(tmp_path / "first.duckdb")
    general = Warehouse(tmp_path / "general.duckdb")

    tombstone_runs: list[str] = []
    real_tombstone = merge_impl._tombstone_missing

    def counted(con: duckdb.DuckDBPyConnection, realm_id: str, entity: str, *rest: object) -> int:
        tombstone_runs.append(entity)
        return real_tombstone(con, realm_id, entity, *rest)

    monkeypatch.setattr(merge_impl, "_tombstone_missing", counted)
    fast = merge(
        first, books.realm_id, batches, cursors, "full",
        live_ids=listed, live_ids_at=listing_began,
    )  # fmt: skip
    assert tombstone_runs == ["JournalEntry"]  # the only listing that lacks a row just written

    tombstone_runs.clear()
    monkeypatch.setattr(merge_impl, "_stored_entities", lambda _con, _realm, names: set(names))
    slow = merge(
        general, books.realm_id, batches, cursors, "full",
        live_ids=listed, live_ids_at=listing_began,
    )  # fmt: skip
    assert sorted(tombstone_runs) == sorted(listed)  # every listed table scanned

    assert _state(first) == _state(general)
    assert fast.entities == slow.entities
    assert fast.tombstoned_missing == slow.tombstoned_missing == 1
    with first.connect(read_only=True) as con:
        rows = dict(
            con.execute(
                "SELECT 'gone', deleted FROM raw.journal_entry WHERE id = $gone "
                "UNION ALL SELECT 'created', deleted FROM raw.invoice WHERE id = $created "
                "UNION ALL SELECT 'stub', deleted AND payload IS NULL FROM raw.invoice "
                "WHERE id = '999999' "
                "UNION ALL SELECT 'purchase', deleted AND payload IS NOT NULL FROM raw.purchase "
                "WHERE id = $purchase",
                {
                    "gone": gone,
                    "created": touched["created"],
                    "purchase": touched["deleted_purchase"],
                },
            ).fetchall()
        )
        note, token = con.execute(
            "SELECT payload->>'PrivateNote', sync_token FROM raw.invoice WHERE id = ?",
            [touched["created"]],
        ).fetchone()
    # absent from the listing but changed after it began: spared
    assert rows == {"gone": True, "created": False, "stub": True, "purchase": True}
    assert (note, token) == ("b", 2)  # the later of two same-second edits


def test_a_realm_with_rows_of_some_entities_folds_the_others_as_first_loads(
    tmp_path: Path, books: Books
) -> None:
    """One merge, two kinds of entity: stored (Vendor) and never seen (the rest)."""
    root = tmp_path / "landing"
    at = moment_after_everything(books)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    vendors = [b for b in land_full(books, root) if b.entity == "Vendor"]
    merge(warehouse, books.realm_id, vendors, {}, "full")
    change_the_books(books, at + timedelta(minutes=1))  # edits a vendor, among others
    batches = land_full(books, root) + land_changes(books, root, at)
    result = merge(warehouse, books.realm_id, batches, all_cursors(at), "cdc")

    by_entity = {e.entity: e for e in result.entities}
    assert by_entity["Vendor"].inserted == 0 and by_entity["Vendor"].updated == 1
    assert by_entity["Invoice"].inserted == len(books.objects["Invoice"])
    other = Warehouse(tmp_path / "other.duckdb")  # the same batches, every entity new
    merge(other, books.realm_id, vendors, {}, "full")
    merge(other, books.realm_id, batches, all_cursors(at), "cdc")
    assert _state(warehouse) == _state(other)


def test_a_listed_id_holding_the_separator_is_kept_whole(tmp_path: Path) -> None:
    """Listings reach DuckDB as one text per entity, split on a character no Id holds."""
    realm_id = "4620816365"
    stamp = "2026-02-01T10:00:00-08:00"
    ids = ["7\x1f8", "9", "10"]
    objects = [{"Id": i, "SyncToken": "0", "MetaData": {"LastUpdatedTime": stamp}} for i in ids]
    with LandingWriter(tmp_path / "landing", realm_id, "Vendor") as writer:
        writer.write_page(objects)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    at = datetime(2026, 3, 1, tzinfo=UTC)
    result = merge(
        warehouse, realm_id, writer.batches, {}, "full",
        live_ids={"Vendor": ["7\x1f8", "9"]}, live_ids_at=at,
    )  # fmt: skip
    assert result.tombstoned_missing == 1
    with warehouse.connect(read_only=True) as con:
        deleted = dict(con.execute("SELECT id, deleted FROM raw.vendor").fetchall())
    assert deleted == {"7\x1f8": False, "9": False, "10": True}


def test_rows_written_read_write_land_in_small_row_groups(tmp_path: Path) -> None:
    """A merge writes row groups of ROW_GROUP_SIZE rows (what lets a bulk insert compress on
    its own threads), and the file stays a plain DuckDB file for other processes."""
    realm_id = "4620816365"
    stamp = "2026-02-01T10:00:00-08:00"
    count = 2 * ROW_GROUP_SIZE + 100
    objects = [
        {"Id": str(i), "SyncToken": "0", "MetaData": {"LastUpdatedTime": stamp}}
        for i in range(count)
    ]
    with LandingWriter(tmp_path / "landing", realm_id, "Customer") as writer:
        writer.write_page(objects)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    merge(warehouse, realm_id, writer.batches, {}, "full")

    con = duckdb.connect(str(warehouse.path), read_only=True)
    try:
        groups = con.execute(
            "SELECT count(DISTINCT row_group_id), max(row_group_id) "
            "FROM pragma_storage_info('raw.customer')"
        ).fetchone()
        rows = con.execute("SELECT count(*) FROM raw.customer").fetchone()
    finally:
        con.close()
    assert groups == (3, 2) and rows == (count,)


def test_payloads_are_stored_zstd_compressed(tmp_path: Path) -> None:
    """The payload column is declared zstd: a bulk commit compresses it ~2x faster than the
    automatic choice (dictionary/FSST analysis) and the file is about half the size."""
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.ensure_schema()
    with warehouse.connect(read_only=True) as con:
        sql = con.execute(
            "SELECT sql FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'invoice'"
        ).fetchone()
    assert sql is not None and "payload JSON USING COMPRESSION ZSTD" in sql[0]
