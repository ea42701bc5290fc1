"""End to end: ``dagster dev`` on PostgreSQL storage syncs a realm launched through GraphQL.

Real: the project's own dagster.yaml (copied into a temp DAGSTER_HOME) on the PostgreSQL server
at 127.0.0.1:5432 (user postgres, trust auth) in a database created for this run and dropped
after it; ``dagster dev -w workspace.yaml`` (webserver, daemon, code server) as a process
group stopped by its handle; the GraphQL API (add the realm's partition, submit the partitioned
sync job, poll the run); the emulator over HTTP; a realm connected through TokenManager.connect.
Faked: OAuth consent (see test_defs/sync_env). Skipped, with the reason, when PostgreSQL is
unreachable, except under CI=true, where that fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import psycopg2
import pytest
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from qb_pipeline.defs.partitions import REALM_TAG, realms
from qb_pipeline_tests.test_defs.sync_env import SyncEnv, sync_env

# dagster-graphql's client calls gql with arguments gql has deprecated; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")
ROOT = Path(__file__).resolve().parents[2]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
LOCATION = "qb_pipeline"
DONE = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
ADD_PARTITION = """
mutation Add($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name,
                      partitionKey: $key) {
    __typename
    ... on PythonError { message }
  }
}
"""


def _admin() -> psycopg2.extensions.connection:
    con = psycopg2.connect(connect_timeout=3, **PG)
    con.autocommit = True
    return con


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database for Dagster's storage, dropped afterwards."""
    try:
        admin = _admin()
    except psycopg2.OperationalError as error:
        reason = f"PostgreSQL unreachable at 127.0.0.1:5432 ({error.__class__.__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true, so a missing PostgreSQL is a failure")
        pytest.skip(reason)
    name = f"qb_e2e_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[SyncEnv]:
    with sync_env(tmp_path / "qb_home") as running:
        yield running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reset_sigint() -> None:
    # dagster dev maps SIGTERM to SIGINT's handler; an inherited "ignore" would make it deaf.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group, SIGKILL if it outlives 30 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def dagster_dev(tmp_path: Path, database: str, env: SyncEnv) -> Iterator[int]:
    """``dagster dev`` with the project's dagster.yaml on the fresh database; its port."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    environ = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": PG["host"],
        "DAGSTER_PG_PORT": str(PG["port"]),
        "DAGSTER_PG_USER": PG["user"],
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": database,
    }
    dagster = Path(sys.executable).with_name("dagster")
    log = (tmp_path / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_reset_sigint,  # noqa: PLW1509 - only resets a signal before exec
    )
    try:
        _wait_for_server(port, process, tmp_path / "dagster_dev.log")
        yield port
    finally:
        _stop(process)
        log.close()


def _wait_for_server(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster dev did not answer in 90 s:\n{log.read_text()[-3000:]}")


def test_partitioned_sync_launched_through_graphql_succeeds(dagster_dev: int, env: SyncEnv) -> None:
    books = env.new_realm("tiny")
    env.connect(books.realm_id)
    client = DagsterGraphQLClient("127.0.0.1", port_number=dagster_dev)
    info = client._execute("{ instance { info } }")["instance"]["info"]
    assert "PostgresRunStorage" in info
    added = client._execute(
        ADD_PARTITION,
        {
            "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"},
            "name": realms.name,
            "key": books.realm_id,
        },
    )["addDynamicPartition"]
    assert added["__typename"] in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError")
    run_id = client.submit_job_execution(
        "qbo_sync_job",
        repository_location_name=LOCATION,
        tags={"dagster/partition": books.realm_id, REALM_TAG: books.realm_id},
    )
    deadline = time.monotonic() + 120
    while (status := client.get_run_status(run_id)) not in DONE:
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(1)
    assert status == DagsterRunStatus.SUCCESS
    with duckdb.connect(str(env.analytics), read_only=True) as con:
        invoices = con.execute(
            "SELECT count(*) FROM marts.ap_ar_enhanced WHERE realm_id = ? "
            "AND transaction_type = 'invoice'",
            [books.realm_id],
        ).fetchall()[0][0]
    assert invoices == len(books.objects["Invoice"])
