"""``qb-pipeline demo`` (``make demo``): the whole pipeline on three emulated companies.

Starts the QBO emulator with three demo companies (one multi-currency), connects each through
Intuit's authorization-code flow (state + PKCE, tokens sealed in the vault), materializes every
asset of the code location per realm (extract -> load -> staging -> marts -> analytics catalogue,
checks included), simulates a day of business, runs the incremental sync, and prints a summary.
Everything talks over real HTTP; all state lives under ``.demo/`` (QB_HOME).
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from qb_pipeline import settings
from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline.emulator.generator import simulate_days

DEMO_HOME = Path(".demo")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
SHOWN_TABLES = (
    "customer",
    "vendor",
    "item",
    "account",
    "invoice",
    "payment",
    "bill",
    "bill_payment",
    "purchase",
    "journal_entry",
    "estimate",
    "deposit",
)


@dataclass
class RealmRun:
    realm_id: str
    name: str
    calls: dict[str, int] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def say(text: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {text}", flush=True)


def _environment(home: Path, server: EmulatorServer) -> None:
    client = server.emulator.config.clients[0]
    os.environ.update(
        {
            settings.ENV_HOME: str(home.resolve()),
            settings.ENV_STATE_URL: f"sqlite:///{(home / 'state.sqlite').resolve()}",
            settings.ENV_VAULT_KEY: "demo:" + base64.b64encode(os.urandom(32)).decode(),
            settings.ENV_QBO_BASE_URL: server.url,
            settings.ENV_DISCOVERY_URL: server.discovery_url,
            settings.ENV_CLIENT_ID: client.client_id,
            settings.ENV_CLIENT_SECRET: client.client_secret,
            settings.ENV_USE_PKCE: "1",
        }
    )
    os.environ.pop(settings.ENV_REDIRECT_URI, None)


def _connect(realm_id: str) -> str:
    from qb_pipeline.qbo.loopback import connect_realm

    record = connect_realm(realm_hint=realm_id, follow=True, timeout=60, actor="demo")
    return record.company_name


def _sync(instance: dg.DagsterInstance, run: RealmRun, emulator: Emulator, phase: str) -> None:
    from qb_pipeline.definitions import defs

    job = defs.resolve_job_def("qbo_sync_job")
    before = emulator.request_counts.get(run.realm_id, {}).get("total", 0)
    started = time.monotonic()
    result = job.execute_in_process(
        partition_key=run.realm_id, instance=instance, raise_on_error=False, run_config=QUIET
    )
    run.seconds[phase] = time.monotonic() - started
    run.calls[phase] = emulator.request_counts.get(run.realm_id, {}).get("total", 0) - before
    evaluations = result.get_asset_check_evaluations()
    run.checks[f"{phase}_passed"] = sum(1 for e in evaluations if e.passed)
    run.checks[f"{phase}_failed"] = sum(1 for e in evaluations if not e.passed)
    if not result.success:
        raise RuntimeError(f"the {phase} sync of realm {run.realm_id} failed; see the log above")
    say(
        f"{phase} sync of {run.realm_id}: {run.calls[phase]} API calls, "
        f"{run.seconds[phase]:.1f} s, checks {run.checks[f'{phase}_passed']} passed / "
        f"{run.checks[f'{phase}_failed']} failed"
    )


def run(companies: int = 3, size: str = "demo") -> int:
    started = time.monotonic()
    shutil.rmtree(DEMO_HOME, ignore_errors=True)
    DEMO_HOME.mkdir(parents=True)
    emulator = Emulator()
    with EmulatorServer(emulator) as server:
        say(f"QBO emulator serving at {server.url} (QBO's limits on)")
        _environment(DEMO_HOME, server)
        runs = _connect_companies(emulator, companies, size)
        dagster_home = (DEMO_HOME / "dagster").resolve()
        dagster_home.mkdir(parents=True, exist_ok=True)
        (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        instance = dg.DagsterInstance.local_temp(str(dagster_home))
        instance.add_dynamic_partitions("realm", [r.realm_id for r in runs])
        for realm_run in runs:
            _sync(instance, realm_run, emulator, "full")
        _simulate_a_day(emulator, runs)
        for realm_run in runs:
            _sync(instance, realm_run, emulator, "incremental")
        _print_summary(runs, time.monotonic() - started)
    return 0


def _connect_companies(emulator: Emulator, companies: int, size: str) -> list[RealmRun]:
    runs = []
    for index in range(companies):
        books = emulator.create_realm(size=size, seed=index, multi_currency=index == 0)
        name = _connect(books.realm_id)
        currency = " (multi-currency)" if index == 0 else ""
        say(
            f"realm {books.realm_id} {name}{currency}: "
            f"{sum(books.counts().values())} objects, connected through OAuth"
        )
        runs.append(RealmRun(books.realm_id, name))
    return runs


def _simulate_a_day(emulator: Emulator, runs: list[RealmRun]) -> None:
    start = emulator.clock.now()
    for index, realm_run in enumerate(runs):
        books = emulator.realms[realm_run.realm_id]
        before = sum(books.counts().values())
        simulate_days(books, days=1, seed=100 + index, start=start)
        say(
            f"simulated a day of business in {realm_run.realm_id}: "
            f"{sum(books.counts().values()) - before:+d} objects, plus edits, voids and deletes"
        )
    emulator.clock.advance(86400)  # the simulated day is now in the past


def _table_counts(warehouse_path: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        for table in SHOWN_TABLES:
            rows = con.execute(
                f"SELECT realm_id, count(*) FROM raw.{table} WHERE NOT deleted GROUP BY 1"
            ).fetchall()
            for realm_id, count in rows:
                counts.setdefault(realm_id, {})[table] = count
    return counts


def _print_summary(runs: list[RealmRun], seconds: float) -> None:
    home = DEMO_HOME.resolve()
    counts = _table_counts(home / "warehouse" / "warehouse.duckdb")
    print("\nrows in the warehouse (raw, current, not deleted)")
    print(f"{'realm':<18}" + "".join(f"{t[:9]:>10}" for t in SHOWN_TABLES))
    for realm_run in runs:
        row = counts.get(realm_run.realm_id, {})
        print(f"{realm_run.realm_id:<18}" + "".join(f"{row.get(t, 0):>10}" for t in SHOWN_TABLES))
    print(
        f"\n{'realm':<18}{'company':<34}{'full calls':>11}{'incr. calls':>12}"
        f"{'checks ok':>10}{'failed':>8}"
    )
    for r in runs:
        passed = r.checks.get("full_passed", 0) + r.checks.get("incremental_passed", 0)
        failed = r.checks.get("full_failed", 0) + r.checks.get("incremental_failed", 0)
        print(
            f"{r.realm_id:<18}{r.name[:33]:<34}{r.calls['full']:>11}"
            f"{r.calls['incremental']:>12}{passed:>10}{failed:>8}"
        )
    print(
        f"\nanalytics catalogue: {home / 'analytics' / 'analytics.duckdb'}"
        f"  (duckdb -readonly; views over Parquet)\nwarehouse: "
        f"{home / 'warehouse' / 'warehouse.duckdb'}\nall in {seconds:.0f} s"
    )


def run_ui(companies: int = 3, size: str = "demo", port: int = 8765) -> int:
    """``make ui``: the emulator with the demo companies connected, plus ``dagster dev``.

    State lives under ``.demo/`` (QB_HOME; the Dagster instance in ``.demo/dagster``, SQLite).
    Every asset can be materialized from the UI; Ctrl-C stops both.
    """
    import signal
    import subprocess
    import sys

    DEMO_HOME.mkdir(parents=True, exist_ok=True)
    emulator = Emulator()
    with EmulatorServer(emulator, port=port) as server:
        say(f"QBO emulator serving at {server.url}")
        _environment(DEMO_HOME, server)
        _connect_companies(emulator, companies, size)
        dagster_home = (DEMO_HOME / "dagster").resolve()
        dagster_home.mkdir(parents=True, exist_ok=True)
        (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        command = [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml"]
        say("starting dagster dev on http://127.0.0.1:3000 (Ctrl-C stops it and the emulator)")
        # dagster dev answers SIGTERM the way it answers SIGINT; started in the background by a
        # shell, we may have SIGINT ignored, and an ignored signal stays ignored across exec:
        # give the child the default so that it stops when told (DAGSTER_NOTES 4.1).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        process = subprocess.Popen(
            command,
            env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
            start_new_session=True,
        )
        signal.signal(signal.SIGTERM, _interrupt)  # stop dagster too when we are terminated
        try:
            return process.wait()
        except KeyboardInterrupt:
            # a second Ctrl-C or SIGTERM must not cut the shutdown short and orphan dagster
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
