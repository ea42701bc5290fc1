"""Sync benchmarks: the extract/load engine against the emulator with QBO's real limits.

1. Initial sync of a bench-size company (~120,000 transactions) with 100 ms injected latency:
   wall time (extract and load apart: the extract merges long listings as they complete, and
   ``merged_early`` counts those rows; the load does the rest), rows/s, API calls, and the
   ratio to the least time the limits allow for those calls (goal <= 1.2x); peak RSS of the
   syncing process (goal <= 500 MB).
   ``safe_bound_s`` is the least time for a client that never risks a 429: it cannot see when
   QBO counted a request, so a request holds its place in the 1-second window from sending
   until a second after its answer (see qbo/ratelimit.py): R * (1.01 s + latency) / 10.
2. Incremental syncs after a simulated business day (0.3% of the rows change) and after four
   more (over 1%, more than one CDC answer's 1,000 objects in all): API calls as a share of
   the initial sync's (goal <= 1%);
   ``rows`` is what was landed (the capped path reads some rows twice), ``changed`` the rows the
   load inserted, updated or deleted as a share of the company's.
3. 20 demo-size companies synced at once (one thread each, one warehouse): aggregate rows/s.
The emulator runs in its own process; each sync runs in a fresh spawned process so its RSS is
its own.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.client_bench import LIMITS, bound_seconds
from bench.common import emulator_process, report

LATENCY_S = 0.1


def _token(base: str, realm: str) -> str:
    return httpx.post(f"{base}/_emulator/realms/{realm}/tokens", json={}).json()["access_token"]


def _sync_once(base: str, realm: str, token: str, home: str) -> dict:
    """Extract + load one realm (runs in a child process); figures and peak RSS."""
    from qb_pipeline.qbo.client import QBOClient
    from qb_pipeline.qbo.tokens import StaticTokenProvider
    from qb_pipeline.warehouse import Warehouse
    from qb_pipeline.warehouse.extract import SYNC_ENTITIES, extract_realm
    from qb_pipeline.warehouse.load import load_realm
    from qb_pipeline.warehouse.schema import raw_table

    warehouse = Warehouse(Path(home) / "warehouse.duckdb")
    warehouse.ensure_schema()
    client = QBOClient(realm, StaticTokenProvider({realm: token}), base_url=base)
    loaded = datetime.now(UTC)  # before the extract: a first sync merges while it extracts
    started = time.perf_counter()
    manifest = extract_realm(client, warehouse, Path(home) / "landing")
    extracted = time.perf_counter()
    load_realm(warehouse, Path(home) / "landing", realm)
    rows = sum(e.rows + e.deleted for e in manifest.entities.values())
    finished = time.perf_counter()
    with warehouse.connect(read_only=True) as con:  # rows this load inserted, changed or deleted
        written = sum(
            con.execute(
                f"SELECT count(*) FROM {raw_table(name)} WHERE realm_id = ? AND loaded_at >= ?",
                [realm, loaded],
            ).fetchone()[0]
            for name in SYNC_ENTITIES
        )
    return {
        "rows": rows,
        "written": written,
        "calls": manifest.api_calls,
        "mode": manifest.mode,
        "seconds": finished - started,
        "extract_s": extracted - started,  # with the early merges of a first sync
        "load_s": finished - extracted,
        "merged_early": sum(manifest.merged_early.values()),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def _in_child(*args: str) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_sync_once, args)


def single_realm() -> list[dict]:
    out = []
    with emulator_process(
        "--companies",
        "1",
        "--size",
        "bench",
        "--multi-currency",
        "0",
        "--latency-ms",
        str(int(LATENCY_S * 1000)),
    ) as info:
        base, realm = info["url"], info["realms"][0]
        home = tempfile.mkdtemp(prefix="qb-sync-bench-")
        full = _in_child(base, realm, _token(base, realm), home)
        bound = bound_seconds(full["calls"], LATENCY_S)
        safe_bound = full["calls"] * (LIMITS.second_window + LATENCY_S) / LIMITS.per_second
        ratio = full["seconds"] / bound if bound else 0.0
        out.append(
            {
                "benchmark": "initial sync, bench company, 100 ms",
                "rows": full["rows"],
                "calls": full["calls"],
                "seconds": round(full["seconds"], 1),
                "extract_s": round(full["extract_s"], 1),
                "load_s": round(full["load_s"], 1),
                "merged_early": full["merged_early"],
                "rows_per_s": round(full["rows"] / full["seconds"]),
                "bound_s": round(bound, 1),
                "ratio": round(ratio, 2),
                "goal": "<= 1.2",
                "ok": ratio <= 1.2,
                "safe_bound_s": round(safe_bound, 1),
                "safe_ratio": round(full["seconds"] / safe_bound, 2),
                "rss_mb": full["rss_mb"],
                "rss_ok": full["rss_mb"] <= 500,
            }
        )
        for days, label in ((1, "one business day"), (4, "four more days")):
            httpx.post(
                f"{base}/_emulator/realms/{realm}/simulate",
                json={"days": days, "seed": 5 + days},
                timeout=300,
            ).raise_for_status()
            incremental = _in_child(base, realm, _token(base, realm), home)
            share = incremental["calls"] / full["calls"]
            out.append(
                {
                    "benchmark": f"incremental sync after {label}",
                    "rows": incremental["rows"],
                    "changed": f"{incremental['written'] / full['written']:.2%}",
                    "calls": incremental["calls"],
                    "seconds": round(incremental["seconds"], 1),
                    "mode": incremental["mode"],
                    "calls_share": f"{share:.1%}",
                    "goal": "<= 1% of full",
                    "ok": share <= 0.01,
                }
            )
    return out


def many_realms(count: int = 20) -> dict:
    with emulator_process(
        "--companies", str(count), "--size", "demo", "--multi-currency", "1"
    ) as info:
        base, realms = info["url"], info["realms"]
        home = tempfile.mkdtemp(prefix="qb-sync-bench-many-")
        tokens = {realm: _token(base, realm) for realm in realms}
        started = time.perf_counter()
        with ThreadPoolExecutor(count) as pool:
            results = list(pool.map(lambda r: _sync_once(base, r, tokens[r], home), realms))
        seconds = time.perf_counter() - started
    rows = sum(r["rows"] for r in results)
    return {
        "benchmark": f"{count} demo companies at once",
        "rows": rows,
        "calls": sum(r["calls"] for r in results),
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
    }


def main() -> None:
    rows = [*single_realm(), many_realms()]
    path = report("sync", rows)
    print(f"written {path}")


if __name__ == "__main__":
    main()
