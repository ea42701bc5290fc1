"""Crashes and concurrency around the merge: nothing lost, nothing doubled, nothing corrupted.

Real: emulator companies, the real landing writer, merge and DuckDB file, a real process killed
inside the merge's transaction (os._exit), two threads writing one file. Faked: extraction
(sync_fixture reads the books), and a "crash" that is an exception raised at a merge step.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import (
    Warehouse,
    WarehouseBusyError,
    cursor,
    merge,
    pending_batches,
)
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    OVERLAP,
    all_cursors,
    change_the_books,
    differences,
    full_load,
    land_changes,
    moment_after_everything,
    raw_state,
)


class InjectedCrash(RuntimeError):
    pass


def test_batches_landed_but_never_merged_are_found_and_merged_once(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    change_the_books(books, start + OVERLAP + timedelta(minutes=1))
    crashed = land_changes(books, root, start)  # the run dies here: no merge, cursor unmoved

    rerun_warehouse = Warehouse(warehouse.path)  # a new process would start from scratch
    pending = pending_batches(root, rerun_warehouse, books.realm_id)
    assert [b.batch_id for b in pending] == sorted(b.batch_id for b in crashed)
    assert cursor(rerun_warehouse, books.realm_id, "Invoice") == start
    again = land_changes(books, root, start)  # the re-run re-reads from the old cursor
    merge(rerun_warehouse, books.realm_id, pending + again, {}, "cdc")

    assert differences(rerun_warehouse, books) == []
    assert pending_batches(root, rerun_warehouse, books.realm_id) == []


@pytest.mark.parametrize(
    "crash_at", ["merged:Customer", "batches_marked", "cursors_written", "commit"]
)
def test_a_failure_inside_the_merge_changes_nothing_and_the_rerun_completes(
    tmp_path: Path, warehouse: Warehouse, books: Books, crash_at: str
) -> None:
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    change_the_books(books, start + OVERLAP + timedelta(minutes=1))
    batches = land_changes(books, root, start)
    before = raw_state(warehouse)

    def crash(step: str) -> None:
        if step == crash_at:
            raise InjectedCrash(step)

    later = start + timedelta(hours=1)
    with pytest.raises(InjectedCrash):
        merge(warehouse, books.realm_id, batches, all_cursors(later), "cdc", checkpoint=crash)
    assert raw_state(warehouse) == before
    assert len(pending_batches(root, warehouse, books.realm_id)) == len(batches)

    merge(warehouse, books.realm_id, batches, all_cursors(later), "cdc")
    assert differences(warehouse, books) == []
    assert cursor(warehouse, books.realm_id, "Customer") == later


def test_a_process_killed_mid_merge_loses_and_doubles_nothing(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    change_the_books(books, start + OVERLAP + timedelta(minutes=1))
    land_changes(books, root, start)
    before = raw_state(warehouse)
    script = textwrap.dedent(
        f"""
        import os
        from datetime import datetime
        from qb_pipeline.warehouse import Warehouse, merge, pending_batches
        wh = Warehouse({str(warehouse.path)!r})
        batches = pending_batches({str(root)!r}, wh, {books.realm_id!r})
        cursors = {{"Invoice": datetime.fromisoformat("2099-01-01T00:00:00+00:00")}}
        def die(step):
            if step == "cursors_written":
                os._exit(9)
        merge(wh, {books.realm_id!r}, batches, cursors, "cdc", checkpoint=die)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False)
    assert done.returncode == 9

    assert raw_state(warehouse) == before
    assert cursor(warehouse, books.realm_id, "Invoice") == start
    pending = pending_batches(root, warehouse, books.realm_id)
    merge(warehouse, books.realm_id, pending, {}, "cdc")
    assert differences(warehouse, books) == []


def test_two_threads_merging_two_realms_into_one_file(tmp_path: Path) -> None:
    """Each thread sets the schema up and merges; unserialised, DuckDB reports a write-write
    conflict (seen at schema setup). Other processes are kept out by the Dagster pool."""
    emulator = Emulator()
    realms = [emulator.create_realm(size="tiny", seed=seed) for seed in (1, 2)]
    path = tmp_path / "warehouse.duckdb"
    errors: list[BaseException] = []

    def sync_rounds(books: Books) -> None:
        warehouse = Warehouse(path)  # its own object and connections; one file
        try:
            root = tmp_path / "landing"
            position = full_load(books, root, warehouse)
            for _round in range(4):
                change_the_books(books, position + OVERLAP + timedelta(minutes=1))
                batches = land_changes(books, root, position)
                position = moment_after_everything(books, seconds=60) - OVERLAP
                merge(warehouse, books.realm_id, batches, all_cursors(position), "cdc")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sync_rounds, args=(books,)) for books in realms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    warehouse = Warehouse(path)
    for books in realms:
        assert differences(warehouse, books) == []
        assert cursor(warehouse, books.realm_id, "Invoice") is not None


def test_a_reader_in_a_writing_process_gets_a_read_only_snapshot(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", busy_timeout=0.2)
    warehouse.ensure_schema()
    with warehouse.connect() as writer, warehouse.connect(read_only=True) as reader:
        writer.execute("INSERT INTO meta.sync_cursor VALUES ('1', 'Invoice', now(), 'x', now())")
        assert reader.execute("SELECT count(*) FROM meta.sync_cursor").fetchone() == (1,)
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.execute("DELETE FROM meta.sync_cursor")
    with warehouse.connect(read_only=True) as reader:  # the file opened read-only ...
        with pytest.raises(WarehouseBusyError), warehouse.connect():  # ... keeps writers out
            pass
        assert reader.execute("SELECT count(*) FROM meta.sync_cursor").fetchone() == (1,)
    with warehouse.connect() as writer:
        assert writer.execute("SELECT count(*) FROM meta.sync_cursor").fetchone() == (1,)
