"""The analysts' catalogue: Parquet generations and an atomically replaced analytics.duckdb.

Real: a DuckDB warehouse file with staging and mart tables, ``publish`` writing Parquet and the
catalogue, and a reader that holds the old catalogue open (read-only) across a republication.
Faked: the tables are tiny hand-made ones, not built from QBO data (test_sync does that).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from qb_pipeline.warehouse import Warehouse
from qb_pipeline.warehouse.publish import catalogue_path, prune_generations, publish


def make_warehouse(path: Path, invoices: int) -> Warehouse:
    warehouse = Warehouse(path)
    with warehouse.connect() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS staging")
        con.execute(
            "CREATE OR REPLACE TABLE staging.invoice AS "
            f"SELECT 'r1' AS realm_id, i::VARCHAR AS invoice_id FROM range({invoices}) t(i)"
        )
        con.execute("CREATE OR REPLACE TABLE marts.int_helper AS SELECT 1 AS x")
        con.execute(
            "CREATE OR REPLACE TABLE marts.general_ledger AS SELECT 'r1' AS realm_id, "
            f"{invoices}::DECIMAL(18,2) AS debit_amount"
        )
    return warehouse


def test_publish_writes_views_over_parquet_and_leaves_int_tables_out(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", invoices=3)
    result = publish(warehouse, tmp_path / "analytics")
    assert result.catalogue == catalogue_path(tmp_path / "analytics")
    assert result.row_counts == {"marts.general_ledger": 1, "staging.invoice": 3}
    with duckdb.connect(str(result.catalogue), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.invoice").fetchall() == [(3,)]
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert sorted(v for (v,) in views) == ["general_ledger", "invoice"]
    assert not list((tmp_path / "analytics").glob(".*.tmp"))


def count_in_another_process(catalogue: Path) -> int:
    """A new analyst session (another process: DuckDB shares one open file per process)."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute('SELECT count(*) FROM staging.invoice').fetchall()[0][0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(catalogue)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_a_reader_of_the_old_catalogue_is_neither_blocked_nor_broken(tmp_path: Path) -> None:
    analytics = tmp_path / "analytics"
    publish(make_warehouse(tmp_path / "w.duckdb", invoices=3), analytics)
    reader = duckdb.connect(str(catalogue_path(analytics)), read_only=True)
    try:
        again = publish(make_warehouse(tmp_path / "w.duckdb", invoices=5), analytics)
        # The old session still reads its own generation, the new one sees the new data.
        assert reader.execute("SELECT count(*) FROM staging.invoice").fetchall() == [(3,)]
        assert count_in_another_process(again.catalogue) == 5
    finally:
        reader.close()


def test_prune_keeps_the_newest_and_the_recent_generations(tmp_path: Path) -> None:
    parquet = tmp_path / "parquet"
    names = [f"2026010{i}T000000000000Z-abc" for i in range(1, 7)]
    for name in names:
        (parquet / name).mkdir(parents=True)
    old = time.time() - 7200
    for name in names[:4]:
        os.utime(parquet / name, (old, old))
    removed = prune_generations(tmp_path, keep=2, retention=timedelta(hours=1))
    assert removed == 4
    assert sorted(p.name for p in parquet.iterdir()) == names[4:]
    assert prune_generations(tmp_path, keep=0, retention=timedelta(hours=1)) == 0  # recent ones
