"""EarlyMerges: listings merged while the extract goes on, never waiting, never moving a cursor.

Real: emulator books landed by the real LandingWriter, the real merge and DuckDB file, a writer
connection held open on another thread. Faked: extraction (sync_fixture reads the books), and a
landing file overwritten with garbage.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import MergeError, Warehouse, cursor, merge, pending_batches, raw_table
from qb_pipeline.warehouse.load import EarlyMerges
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    OVERLAP,
    all_cursors,
    differences,
    land_full,
    moment_after_everything,
)


def live_rows(warehouse: Warehouse, realm_id: str, entity: str) -> int:
    with warehouse.connect(read_only=True) as con:
        row = con.execute(
            f"SELECT count(*) FROM {raw_table(entity)} WHERE realm_id = ? AND NOT deleted",
            [realm_id],
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_offered_batches_are_merged_and_no_cursor_moves(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    batches = land_full(books, root, max_rows=100)
    invoices = [b for b in batches if b.entity == "Invoice"]
    customers = [b for b in batches if b.entity == "Customer"]
    warehouse.ensure_schema()

    early = EarlyMerges(warehouse, books.realm_id)
    early.offer(invoices + customers)
    merged = early.close()

    assert merged == {
        "Invoice": len(books.objects["Invoice"]),
        "Customer": len(books.objects["Customer"]),
    }
    assert live_rows(warehouse, books.realm_id, "Invoice") == len(books.objects["Invoice"])
    assert cursor(warehouse, books.realm_id, "Invoice") is None
    pending = pending_batches(root, warehouse, books.realm_id)
    assert not {b.batch_id for b in invoices + customers} & {b.batch_id for b in pending}

    # what the load then does: the rest, and the cursors; the early rows are not doubled
    at = moment_after_everything(books)
    merge(warehouse, books.realm_id, pending, all_cursors(at - OVERLAP), "full")
    assert differences(warehouse, books) == []


def test_a_busy_warehouse_leaves_the_batches_to_the_load(
    tmp_path: Path, warehouse: Warehouse, books: Books, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "landing"
    invoices = [b for b in land_full(books, root) if b.entity == "Invoice"]
    warehouse.ensure_schema()
    holding, release = threading.Event(), threading.Event()

    def another_writer() -> None:  # e.g. another realm's load in this process
        with warehouse.connect():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=another_writer)
    thread.start()
    try:
        assert holding.wait(10)
        early = EarlyMerges(warehouse, books.realm_id)
        with caplog.at_level(logging.INFO, logger="qb_pipeline.warehouse.load"):
            early.offer(invoices)
            merged = early.close()
        assert thread.is_alive()  # the other writer still holds it: the merge did not wait
    finally:
        release.set()
        thread.join(10)

    assert merged == {}
    assert "left to the load" in caplog.text
    pending = {b.batch_id for b in pending_batches(root, warehouse, books.realm_id)}
    assert {b.batch_id for b in invoices} <= pending
    assert live_rows(warehouse, books.realm_id, "Invoice") == 0


def test_a_batch_that_cannot_be_merged_is_left_for_the_load_to_fail_on(
    tmp_path: Path, warehouse: Warehouse, books: Books, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "landing"
    invoices = [b for b in land_full(books, root) if b.entity == "Invoice"]
    table = pq.read_table(invoices[0].path)
    garbage = pa.array(["{not json"] * table.num_rows, pa.string())
    table = table.set_column(table.schema.get_field_index("payload"), "payload", garbage)
    pq.write_table(table, invoices[0].path)
    warehouse.ensure_schema()

    early = EarlyMerges(warehouse, books.realm_id)
    early.offer(invoices)
    assert early.close() == {}

    assert "early merge of" in caplog.text and "left to the load" in caplog.text
    pending = pending_batches(root, warehouse, books.realm_id)
    assert {b.batch_id for b in invoices} <= {b.batch_id for b in pending}
    with pytest.raises(MergeError, match="cannot merge Invoice"):
        merge(warehouse, books.realm_id, pending, {}, "full")


def test_nothing_is_merged_once_closed(tmp_path: Path, warehouse: Warehouse, books: Books) -> None:
    invoices = [b for b in land_full(books, tmp_path / "landing") if b.entity == "Invoice"]
    warehouse.ensure_schema()
    early = EarlyMerges(warehouse, books.realm_id)
    assert early.close() == {}
    early.offer(invoices)
    assert live_rows(warehouse, books.realm_id, "Invoice") == 0
