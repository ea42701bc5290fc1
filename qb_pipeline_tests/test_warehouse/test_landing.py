"""Landing batches: bounded memory, whole files only, tombstones, layout and bad input.

Real: the LandingWriter, Parquet files read back with DuckDB's own reader, pending_batches
against a real warehouse file. Faked: nothing (objects are emulator-shaped dicts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.warehouse import (
    LandingError,
    LandingWriter,
    Warehouse,
    landed_batches,
    merge,
    pending_batches,
)
from qb_pipeline_tests.test_warehouse.sync_fixture import tombstone_stub


def customer(number: int, token: int = 0) -> dict:
    return {
        "Id": str(number),
        "SyncToken": str(token),
        "DisplayName": f"Customer {number}",
        "Balance": number * 1.5,
        "MetaData": {
            "CreateTime": "2026-01-01T09:00:00-08:00",
            "LastUpdatedTime": f"2026-01-01T09:{number % 60:02d}:00-08:00",
        },
    }


def read_back(paths: list[Path]) -> list[tuple]:
    return duckdb.execute(
        "SELECT realm_id, entity, id, sync_token, last_updated_at, deleted, payload "
        "FROM read_parquet(?) ORDER BY filename, file_row_number",
        [[str(p) for p in paths]],
    ).fetchall()


def test_background_writes_land_the_same_files_with_at_most_max_pending_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from qb_pipeline.warehouse import landing as landing_module

    gate, peak = threading.Event(), [0]
    real_write = landing_module._write_file

    def slow_write(lines: list[bytes], path: Path) -> None:
        gate.wait(5)  # the first file blocks until every submission has been tried
        real_write(lines, path)

    monkeypatch.setattr(landing_module, "_write_file", slow_write)
    background = landing_module.BackgroundWrites(max_pending=2)
    real_submit = background.submit

    def counting_submit(lines: list[bytes], path: Path) -> None:
        real_submit(lines, path)
        peak[0] = max(peak[0], len(background._pending))

    background.submit = counting_submit  # type: ignore[method-assign]
    writer = LandingWriter(tmp_path, "9130", "Customer", max_rows_per_file=3, background=background)
    threading.Timer(0.2, gate.set).start()
    writer.write_page(customer(n) for n in range(1, 11))
    batches = writer.close()
    background.close()

    assert peak[0] <= 2
    assert [b.rows for b in batches] == [3, 3, 3, 1]
    assert all(b.path.exists() for b in batches)
    assert [r[2] for r in read_back([b.path for b in batches])] == [str(n) for n in range(1, 11)]


def test_a_callback_after_background_writes_sees_their_files_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from qb_pipeline.warehouse import landing as landing_module

    gate, real_write = threading.Event(), landing_module._write_file

    def slow_write(lines: list[bytes], path: Path) -> None:
        gate.wait(5)
        real_write(lines, path)

    monkeypatch.setattr(landing_module, "_write_file", slow_write)
    background = landing_module.BackgroundWrites(max_pending=2)
    writer = LandingWriter(tmp_path, "9130", "Customer", max_rows_per_file=3, background=background)
    writer.write_page(customer(n) for n in range(1, 6))
    batches = writer.close()
    seen: list[bool] = []
    called = threading.Event()

    def callback() -> None:
        seen.extend(b.path.exists() for b in batches)
        called.set()

    background.then(callback)
    assert not called.wait(0.2)  # the files are still being written
    gate.set()
    assert called.wait(5)
    background.close()
    assert seen == [True, True]


def test_a_failed_background_write_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qb_pipeline.warehouse import landing as landing_module

    def broken(lines: list[bytes], path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(landing_module, "_write_file", broken)
    background = landing_module.BackgroundWrites()
    with LandingWriter(tmp_path, "9130", "Customer", background=background) as writer:
        writer.write_page([customer(1)])
    with pytest.raises(OSError, match="disk full"):
        background.close()


def test_pages_are_split_into_files_and_never_buffered_beyond_the_limit(tmp_path: Path) -> None:
    writer = LandingWriter(tmp_path, "9130", "Customer", max_rows_per_file=7)
    high_water = 0

    def page(first: int, count: int) -> Iterator[dict]:
        nonlocal high_water
        for number in range(first, first + count):
            high_water = max(high_water, writer.buffered)
            yield customer(number)

    writer.write_page(page(1, 3))
    writer.write_page(page(4, 20))  # one page larger than a file: flushed while it streams
    writer.write_page(page(24, 0))
    batches = writer.close()

    assert high_water <= 7
    assert [b.rows for b in batches] == [7, 7, 7, 2]
    assert [b.batch_id for b in batches] == sorted(b.batch_id for b in batches)
    rows = read_back([b.path for b in batches])
    assert [r[2] for r in rows] == [str(n) for n in range(1, 24)]
    assert orjson.loads(rows[4][6]) == customer(5)
    assert rows[4][:6] == (
        "9130",
        "Customer",
        "5",
        0,
        datetime(2026, 1, 1, 17, 5, tzinfo=UTC),
        False,
    )


def test_files_appear_whole_under_the_realm_and_entity_layout(tmp_path: Path) -> None:
    with LandingWriter(tmp_path, "9130", "journalentry") as writer:  # any case: catalogue name
        writer.write_page([customer(1) | {"Line": []}])
    (batch,) = writer.batches
    assert batch.entity == "JournalEntry"
    assert batch.path.parent == tmp_path / "realm=9130" / "entity=JournalEntry"
    assert batch.path.name == f"{batch.batch_id}.parquet"
    assert batch.batch_id.startswith("batch-")
    assert [p.name for p in batch.path.parent.iterdir()] == [batch.path.name]  # no temp left
    assert landed_batches(tmp_path, "9130") == [batch]


def test_tombstones_land_as_deleted_rows(tmp_path: Path) -> None:
    with LandingWriter(tmp_path, "9130", "Invoice") as writer:
        writer.write_page([tombstone_stub("12", "2026-02-01T10:00:00-08:00")])  # as CDC sends
        stub = {"Id": "13", "MetaData": {"LastUpdatedTime": "2026-02-01T10:00:01Z"}}
        writer.write_page([stub], deleted=True)  # a stub without the status field
    rows = read_back([b.path for b in writer.batches])
    assert [(r[2], r[3], r[5]) for r in rows] == [("12", None, True), ("13", None, True)]
    assert rows[1][4] == datetime(2026, 2, 1, 10, 0, 1, tzinfo=UTC)


def test_exchange_rates_are_keyed_by_currency(tmp_path: Path) -> None:
    books = Emulator().create_realm(multi_currency=True)
    rates = list(books.objects["ExchangeRate"].values())
    with LandingWriter(tmp_path, books.realm_id, "ExchangeRate") as writer:
        writer.write_page(rates)
    ids = [r[2] for r in read_back([b.path for b in writer.batches])]
    assert ids == [r["SourceCurrencyCode"] for r in rates] and ids


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            {"SyncToken": "0", "MetaData": {"LastUpdatedTime": "2026-01-01T00:00:00Z"}},
            "without an Id",
        ),
        ({"Id": "1", "SyncToken": "0"}, "LastUpdatedTime"),
        ({"Id": "1", "SyncToken": "x", "MetaData": {"LastUpdatedTime": "2026-01-01"}}, "SyncToken"),
        ({"Id": "1", "MetaData": {"LastUpdatedTime": "2026-01-01T00:00:00"}}, "offset"),
    ],
)
def test_objects_that_cannot_be_keyed_are_refused(tmp_path: Path, obj: dict, message: str) -> None:
    writer = LandingWriter(tmp_path, "9130", "Customer")
    with pytest.raises(LandingError, match=message):
        writer.write_page([obj])


def test_unsafe_realm_ids_and_unknown_entities_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="safe path segment"):
        LandingWriter(tmp_path, "../9130", "Customer")
    with pytest.raises(ValueError, match="unknown QBO entity"):
        LandingWriter(tmp_path, "9130", "Customers")
    with pytest.raises(ValueError, match=">= 1"):
        LandingWriter(tmp_path, "9130", "Customer", max_rows_per_file=0)


def test_pending_batches_are_the_landed_ones_not_yet_merged(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    root = tmp_path / "landing"
    with LandingWriter(root, "9130", "Customer", max_rows_per_file=2) as writer:
        writer.write_page([customer(n) for n in range(1, 6)])
    with LandingWriter(root, "9131", "Customer") as other_realm:
        other_realm.write_page([customer(1)])
    (root / "realm=9130" / "entity=Customer" / ".batch-x.parquet.tmp").write_bytes(b"partial")

    assert pending_batches(root, warehouse, "9130") == writer.batches
    merge(warehouse, "9130", writer.batches[:2], {}, "full")
    assert pending_batches(root, warehouse, "9130") == writer.batches[2:]
    assert pending_batches(root, warehouse, "9131") == other_realm.batches
    # merged history is skipped by name, never opened (a long-synced realm has thousands)
    writer.batches[0].path.write_bytes(b"not parquet any more")
    assert pending_batches(root, warehouse, "9130") == writer.batches[2:]
    assert pending_batches(root, warehouse, "9999") == []
