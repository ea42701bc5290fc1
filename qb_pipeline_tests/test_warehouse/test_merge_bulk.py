"""The merge as a bulk load: bounded memory, no pandas, and the rules that read payloads.

Real: emulator companies (in-process books), the real LandingWriter, merge, load_realm and DuckDB
file, a fresh Python process for what a load imports. Faked: extraction (sync_fixture reads the
books), manifests written by hand, and hand-made Parquet files for malformed landings.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import (
    LandingBatch,
    LandingWriter,
    MergeError,
    Warehouse,
    merge,
    pending_batches,
)
from qb_pipeline.warehouse.landing import LANDING_SCHEMA
from qb_pipeline.warehouse.manifest import (
    EntityExtract,
    ExtractManifest,
    new_manifest_path,
    write_manifest,
)
from qb_pipeline.warehouse.warehouse import BULK_THREADS
from qb_pipeline_tests.test_warehouse.sync_fixture import (
    all_cursors,
    full_load,
    land_full,
    moment_after_everything,
    raw_state,
)


def _rebaseline_manifest(books: Books, root: Path, at: datetime, leave_out: str) -> None:
    """A complete full extract of every entity, whose JournalEntry listing misses one Id."""
    entities = {}
    for entity, by_id in books.objects.items():
        ids = frozenset(i for i in by_id if not (entity == "JournalEntry" and i == leave_out))
        entities[entity] = EntityExtract(entity, "full", len(by_id), 0, at, ids, at)
    write_manifest(
        ExtractManifest(
            realm_id=books.realm_id,
            mode="full",
            entities=entities,
            api_calls=1,
            started_at=at,
            finished_at=at,
            path=new_manifest_path(root, books.realm_id, at),
        )
    )


def test_a_load_with_a_rebaseline_never_imports_pandas(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    """Importing pandas costs seconds and ~60 MB: a load (and its tombstoning) must not."""
    root = tmp_path / "landing"
    at = moment_after_everything(books)
    land_full(books, root)
    gone = next(iter(books.objects["JournalEntry"]))
    _rebaseline_manifest(books, root, at, leave_out=gone)
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import datetime
        from pathlib import Path
        from qb_pipeline.warehouse import Warehouse, tombstone_missing
        from qb_pipeline.warehouse.load import load_realm
        wh = Warehouse({str(warehouse.path)!r})
        result = load_realm(wh, Path({str(root)!r}), {books.realm_id!r})
        assert result.tombstoned == 1, result
        at = datetime.fromisoformat({at.isoformat()!r})
        assert tombstone_missing(wh, {books.realm_id!r}, "Vendor", [], at) > 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "pandas")
        assert not loaded, loaded
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with warehouse.connect(read_only=True) as con:
        row = con.execute("SELECT deleted FROM raw.journal_entry WHERE id = ?", [gone]).fetchone()
    assert row == (True,)


def _land_one(root: Path, realm_id: str, obj: dict, extracted_at: datetime) -> list[LandingBatch]:
    with LandingWriter(root, realm_id, "Vendor") as writer:
        writer.write_page([obj], extracted_at=extracted_at)
    return writer.batches


def _stored(warehouse: Warehouse, vendor_id: str) -> tuple:
    with warehouse.connect(read_only=True) as con:
        row = con.execute(
            "SELECT payload->>'AcctNum', batch_id FROM raw.vendor WHERE id = ?", [vendor_id]
        ).fetchone()
    assert row is not None
    return row


def test_an_exact_tie_takes_the_payload_only_if_it_differs_and_was_read_later(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    """Same LastUpdatedTime and SyncToken as stored: the fold has to compare payloads."""
    root = tmp_path / "landing"
    start = full_load(books, root, warehouse)
    vendor = dict(next(iter(books.objects["Vendor"].values())))
    stored_num, stored_batch = _stored(warehouse, vendor["Id"])
    edited = vendor | {"AcctNum": "tie-1"}  # same version keys, another payload

    stale = _land_one(root, books.realm_id, edited, extracted_at=start - timedelta(days=1))
    result = merge(warehouse, books.realm_id, stale, {}, "cdc")
    assert result.rows_written == 0  # read before the stored row was loaded: not fresher
    assert _stored(warehouse, vendor["Id"]) == (stored_num, stored_batch)

    fresh = _land_one(root, books.realm_id, edited, extracted_at=datetime.now(UTC))
    result = merge(warehouse, books.realm_id, fresh, {}, "cdc")
    (vendors,) = [e for e in result.entities if e.entity == "Vendor"]
    assert (vendors.inserted, vendors.updated, result.rows_written) == (0, 1, 1)
    assert _stored(warehouse, vendor["Id"]) == ("tie-1", fresh[0].batch_id)

    same = _land_one(root, books.realm_id, edited, extracted_at=datetime.now(UTC))
    assert merge(warehouse, books.realm_id, same, {}, "cdc").rows_written == 0
    assert _stored(warehouse, vendor["Id"]) == ("tie-1", fresh[0].batch_id)


def _hand_made_batch(root: Path, realm_id: str, entity: str, rows: list[dict]) -> LandingBatch:
    """A landing file written without LandingWriter (so it can be wrong)."""
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    batch_id = f"batch-{created:%Y%m%dT%H%M%S%f}Z-000000-0badf11e"
    path = root / f"realm={realm_id}" / f"entity={entity}" / f"{batch_id}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {
        "realm_id": realm_id,
        "entity": entity,
        "sync_token": 0,
        "last_updated_at": created,
        "deleted": False,
        "extracted_at": created,
    }
    pq.write_table(pa.Table.from_pylist([base | r for r in rows], schema=LANDING_SCHEMA), path)
    return LandingBatch(batch_id, realm_id, entity, path, len(rows), created)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "1", "payload": None}, "has no payload"),
        ({"id": "1", "payload": '{"Id": "1", '}, "Malformed JSON"),
        ({"id": "1", "payload": '{"Id": "1"}', "entity": "Vendor"}, "another realm or entity"),
        ({"id": "1", "payload": '{"Id": "1"}', "realm_id": "42"}, "another realm or entity"),
    ],
)
def test_a_malformed_landing_file_is_refused_by_name_and_changes_nothing(
    tmp_path: Path, warehouse: Warehouse, books: Books, row: dict, message: str
) -> None:
    root = tmp_path / "landing"
    full_load(books, root, warehouse)
    before = raw_state(warehouse)
    bad = _hand_made_batch(root, books.realm_id, "Customer", [row])
    good = land_full(books, root)  # merged in the same call: rolled back with it

    with pytest.raises(MergeError, match=message) as raised:
        merge(warehouse, books.realm_id, [*good, bad], all_cursors(datetime.now(UTC)), "full")
    assert bad.batch_id in str(raised.value)
    assert raw_state(warehouse) == before
    pending = {b.batch_id for b in pending_batches(root, warehouse, books.realm_id)}
    assert bad.batch_id in pending and {b.batch_id for b in good} <= pending


def test_the_merge_runs_under_the_bulk_settings_and_leaves_the_defaults_behind(
    tmp_path: Path, warehouse: Warehouse, books: Books
) -> None:
    """Inside the merge's transaction the instance has the bulk settings; after it, defaults."""
    defaults = _settings(duckdb.connect())
    seen: dict[str, object] = {}

    def look(step: str) -> None:
        if step == "batches_marked":  # a reader of this process shares the writer's instance
            with warehouse.connect(read_only=True) as con:
                seen.update(_settings(con))

    batches = land_full(books, tmp_path / "landing")
    merge(warehouse, books.realm_id, batches, {}, "full", checkpoint=look)
    assert seen == {
        "memory_limit": _formatted_limit(warehouse.bulk_memory_limit),
        "threads": min(BULK_THREADS, int(str(defaults["threads"]))),
        "preserve_insertion_order": False,
        "temp_directory": str(warehouse.temp_directory),  # DuckDB's default: beside the file
    }
    with warehouse.connect() as con:
        con.execute("SET threads = 16")  # many threads (cores) must not outlive ...
        with warehouse.connect(bulk=True) as bulk:  # (one thread may nest writers: one lock)
            assert _settings(bulk)["threads"] == BULK_THREADS  # ... nor enter a bulk load
        after = _settings(con)
    assert {k: v for k, v in after.items() if k != "temp_directory"} == {
        k: v for k, v in defaults.items() if k != "temp_directory"
    }


def _settings(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    names = ("memory_limit", "threads", "preserve_insertion_order", "temp_directory")
    row = con.execute(
        "SELECT " + ", ".join(f"current_setting('{name}')" for name in names)
    ).fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def _formatted_limit(limit: str) -> str:
    """How DuckDB shows a memory limit it was given as ``limit``."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{limit}'")
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def test_an_entity_larger_than_the_memory_limit_spills_and_merges_whole(
    tmp_path: Path,
) -> None:
    """~130 MB of payloads in one entity, merged by a DuckDB allowed 128 MB (some 80 MB of which
    its readers and writers need as working memory): the uncommitted rows spill to
    ``<warehouse>.tmp`` instead of failing or growing the process, and every row arrives intact."""
    realm_id = "4620816365"
    at = datetime(2026, 3, 1, tzinfo=UTC)
    stamp = "2026-02-01T10:00:00-08:00"
    objects = [
        {"Id": str(i), "SyncToken": "0", "MetaData": {"LastUpdatedTime": stamp}, "Memo": memo}
        for i in range(40_000)
        for memo in [f"{i:08d}" * 400]  # 3.2 kB each, all different
    ]
    with LandingWriter(tmp_path / "landing", realm_id, "Invoice") as writer:
        for start in range(0, len(objects), 1000):
            writer.write_page(objects[start : start + 1000], extracted_at=at)
    small = Warehouse(tmp_path / "warehouse.duckdb", bulk_memory_limit="128MB")
    spilled: list[int] = []

    def look(step: str) -> None:
        if step == "merged:Invoice":
            with small.connect(read_only=True) as con:
                row = con.execute("SELECT sum(size) FROM duckdb_temporary_files()").fetchone()
            spilled.append(int(row[0] or 0) if row else 0)

    result = merge(small, realm_id, writer.batches, {"Invoice": at}, "full", checkpoint=look)

    assert result.rows_read == len(objects) and result.rows_written == len(objects)
    assert spilled and spilled[0] > 0
    expected = sum(len(orjson.dumps(obj)) for obj in objects)
    with small.connect(read_only=True) as con:
        row = con.execute(
            "SELECT count(*), sum(strlen(payload::VARCHAR)), "
            "count(*) FILTER (WHERE payload->>'Memo' = repeat(lpad(id, 8, '0'), 400)) "
            "FROM raw.invoice"
        ).fetchone()
    assert row == (len(objects), expected, len(objects))
    assert str(small.temp_directory).endswith("warehouse.duckdb.tmp")
