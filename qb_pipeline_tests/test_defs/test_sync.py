"""The sync code location in-process: partitions, extract -> load -> staging -> marts -> publish.

Real: ``dg.materialize`` of the location's own assets and checks with its default resources
(they read the QB_* environment), on a test instance; the emulator over HTTP; TokenManager tokens
from the store and vault; DuckDB files under a temp QB_HOME; an analyst in another process
holding ``analytics.duckdb`` open read-only. Faked: OAuth consent (see sync_env). Not covered
here: ``dagster dev`` and the daemon (qb_pipeline_tests/e2e/).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest

from qb_pipeline.defs.sync.assets import CATALOGUE_KEY, LANDING_KEY, RAW_KEYS
from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import Warehouse, compare_raw_with_objects
from qb_pipeline.warehouse import extract as extract_module
from qb_pipeline_tests.test_defs.run_partition import materialize_realm
from qb_pipeline_tests.test_defs.sync_env import SyncEnv, sync_env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncEnv]:
    with sync_env(tmp_path_factory.mktemp("qb_home")) as running:
        yield running


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def sync(instance: dg.DagsterInstance, realm_id: str) -> dg.ExecuteInJobResult:
    return materialize_realm(instance, realm_id)


@pytest.fixture(scope="module")
def first_sync(env: SyncEnv, instance: dg.DagsterInstance) -> tuple[Books, dg.ExecuteInJobResult]:
    """A tiny company synced end to end (the later tests read what it published); its lists of
    20 rows or more are merged during the extract, as a large company's would be."""
    books = env.new_realm("tiny")
    env.connect(books.realm_id)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(extract_module, "EARLY_MERGE_ROWS", 20)
        return books, sync(instance, books.realm_id)


def failed_checks(result: dg.ExecuteInJobResult) -> list[str]:
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name} {e.metadata}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]


def materialization(result: dg.ExecuteInJobResult, key: dg.AssetKey) -> dg.AssetMaterialization:
    found = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key
    ]
    assert len(found) == 1, key
    return found[0]


def test_one_partition_end_to_end(env: SyncEnv, first_sync: tuple) -> None:
    books, result = first_sync
    assert result.success
    assert failed_checks(result) == []
    checks = {e.check_name for e in result.get_asset_check_evaluations()}
    assert {"unique_keys", "debits_equal_credits", "matches_api_count", "fresh"} <= checks
    assert {"ties_out_with_qbo_trial_balance", "ties_out_with_qbo_aged_receivables"} <= checks
    landing = materialization(result, LANDING_KEY).metadata
    assert landing["mode"].value == "full" and landing["api_calls"].value > 0
    assert "| entity | mode |" in landing["preview"].value
    raw = {key: materialization(result, key).metadata for key in RAW_KEYS.values()}
    early = sum(m["rows_merged_during_extract"].value for m in raw.values())
    assert early >= len(books.objects["Invoice"])  # Invoice at least was merged early
    assert sum(m["rows_merged"].value for m in raw.values()) == landing["rows"].value
    warehouse = Warehouse(env.home / "warehouse" / "warehouse.duckdb")
    differences = compare_raw_with_objects(
        warehouse, books.realm_id, books.objects, books.tombstones
    )
    assert [str(d) for d in differences] == []
    with duckdb.connect(str(env.analytics), read_only=True) as con:
        invoices = con.execute(
            "SELECT count(*) FROM marts.ap_ar_enhanced WHERE realm_id = ? "
            "AND transaction_type = 'invoice'",
            [books.realm_id],
        ).fetchall()[0][0]
    assert invoices == len(books.objects["Invoice"])


def test_disconnected_realm_is_skipped_with_a_reason(
    env: SyncEnv, instance: dg.DagsterInstance
) -> None:
    books = env.new_realm(size=None)
    env.connect(books.realm_id)
    with env.manager() as manager:
        manager.revoke(books.realm_id)
    calls_before = env.server.emulator.request_counts.get(books.realm_id, 0)
    result = sync(instance, books.realm_id)
    assert result.success  # skipped, not failed: nothing to retry
    assert result.get_asset_materialization_events() == []
    observations = [
        e.event_specific_data.asset_observation
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert observations[0].asset_key == LANDING_KEY
    assert "revoked" in observations[0].metadata["skipped"].value
    assert env.server.emulator.request_counts.get(books.realm_id, 0) == calls_before


ANALYST = textwrap.dedent(
    """
    import pathlib, sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    stop = pathlib.Path(sys.argv[2])
    print("ready", flush=True)
    queries = 0
    while not stop.exists():
        con.execute("SELECT count(*), sum(debit_amount) FROM marts.general_ledger").fetchall()
        queries += 1
        time.sleep(0.01)
    print("queries", queries, flush=True)
    """
)
ROOT = Path(__file__).resolve().parents[2]
# Checks are covered above; here only the writers matter: each run's loads, and the early
# merges of its extract (lists of 20 rows or more), which must never wait or break another's.
OPTIONS = ("--no-checks", "--early-merge-rows=20")


def test_five_realms_concurrently_while_an_analyst_reads(env: SyncEnv, first_sync: tuple) -> None:
    stop = env.home / "analyst.stop"
    first, _result = first_sync  # published: the analyst has something to open
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(env.analytics), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert analyst.stdout is not None and analyst.stdout.readline().strip() == "ready"
        new = [env.new_realm() for _ in range(5)]
        for books in new:
            env.connect(books.realm_id)
        logs = [env.home / f"run-{b.realm_id}.log" for b in new]
        runs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "qb_pipeline_tests.test_defs.run_partition",
                    b.realm_id,
                    *OPTIONS,
                ],
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
            for b, log in zip(new, logs, strict=True)
        ]
        codes = [run.wait(timeout=150) for run in runs]
        stop.touch()
        out, err = analyst.communicate(timeout=60)
    finally:
        if analyst.poll() is None:
            analyst.kill()
    texts = [log.read_text() for log in logs]
    assert codes == [0] * 5, [t[-2000:] for t in texts]
    assert not any("WarehouseBusyError" in t or "IOException" in t for t in texts)
    assert analyst.returncode == 0, err
    assert int(out.split()[-1]) > 0
    with duckdb.connect(str(env.analytics), read_only=True) as con:
        realms_published = {
            r
            for (r,) in con.execute("SELECT DISTINCT realm_id FROM marts.general_ledger").fetchall()
        }
    assert realms_published >= {b.realm_id for b in [first, *new]}
    merged_early = [  # contended runs may leave theirs to the load; not all of them
        orjson.loads(path.read_bytes()).get("merged_early")
        for b in new
        for path in (env.home / "landing" / f"realm={b.realm_id}" / "manifests").glob("*.applied")
    ]
    assert len(merged_early) == 5 and any(merged_early), merged_early


def test_catalogue_publication_points_at_parquet(env: SyncEnv, first_sync: tuple) -> None:
    with duckdb.connect(str(env.analytics), read_only=True) as con:
        views = con.execute(
            "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    assert {(s, v) for s, v, _ in views} >= {("marts", "general_ledger"), ("staging", "invoice")}
    assert all("read_parquet" in sql for _s, _v, sql in views)
    assert not any(v.startswith("int_") for _s, v, _ in views)
    assert CATALOGUE_KEY.path[-1] == "catalogue"
    assert Path(env.analytics).exists()
