"""Client benchmarks: QBOClient pull throughput against the emulator with QBO's real limits.

The emulator runs in its own process with one bench-size company (~120,000 transactions) and
QBO's throttles on (500 requests per rolling minute, 10 per second, 10 in flight per realm).
Each run pulls whole entities page by page (1,000 rows a page) through one QBOClient and one
RateLimiter, with 0 ms and 100 ms of injected latency, from one thread or four (one per entity);
a last run keeps four threads busy past 500 requests so the per-minute cap binds.

The bound column is the fastest the limits allow for the same number of requests R and rows:
R requests need at least ``60 * (R-1) // 500 + ((R-1) % 500) / 10`` seconds (the minute and
second caps), and with latency L at least ``R * L / 10`` (10 in flight), plus one L for the
last answer. At full pages the sustained ceiling is 500 req/min * 1000 rows = 8,333 rows/s;
bursts under 500 requests may reach 10 req/s = 10,000 rows/s. Before each run the emulator's
counters and throttle windows are reset through its back door, so runs do not share a minute.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.common import emulator_process, report
from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.qbo.query import select
from qb_pipeline.qbo.ratelimit import RateLimiter, RateLimits
from qb_pipeline.qbo.tokens import StaticTokenProvider

ENTITIES = ("Invoice", "Payment", "Purchase", "Bill")
LIMITS = RateLimits()
SUSTAINED_PASSES = 7  # 4 entities x 7 passes ~ 660 requests: past the 500/min cap


def bound_seconds(requests: int, latency_s: float) -> float:
    """The least time QBO's limits allow for ``requests`` calls at ``latency_s`` each."""
    if requests <= 0:
        return 0.0
    minutes, rest = divmod(requests - 1, LIMITS.per_minute)
    windows = minutes * 60.0 + rest / LIMITS.per_second
    in_flight = requests * latency_s / LIMITS.in_flight
    return max(windows, in_flight) + latency_s


def _pull_entity(client: QBOClient, entity: str, passes: int) -> int:
    rows = 0
    for _ in range(passes):
        rows += sum(len(page.rows) for page in client.query(select(entity).order_by("Id")))
    return rows


def _run(base: str, realm: str, token: str, *, latency_ms: int, threads: int, passes: int) -> dict:
    with httpx.Client(base_url=f"{base}/_emulator") as admin:
        admin.put("/config/faults", json={"latency_ms": latency_ms}).raise_for_status()
        admin.delete("/stats").raise_for_status()
        limiter = RateLimiter()
        client = QBOClient(
            realm, StaticTokenProvider({realm: token}), base_url=base, limiter=limiter
        )
        started = time.perf_counter()
        if threads == 1:
            rows = sum(_pull_entity(client, entity, passes) for entity in ENTITIES)
        else:
            with ThreadPoolExecutor(threads) as pool:
                rows = sum(pool.map(lambda e: _pull_entity(client, e, passes), ENTITIES))
        seconds = time.perf_counter() - started
        served = admin.get("/stats").json()["realms"][realm]["limits"]
    requests = limiter.counters(realm)["requests"]
    return _row(latency_ms, threads, passes, rows, requests, seconds, served)


def _row(
    latency_ms: int,
    threads: int,
    passes: int,
    rows: int,
    requests: int,
    seconds: float,
    served: dict[str, Any],
) -> dict[str, Any]:
    bound = bound_seconds(requests, latency_ms / 1000.0)
    mode = "sustained, " if passes > 1 else ""
    return {
        "benchmark": f"client pull ({mode}{threads} thread{'s' * (threads > 1)}, {latency_ms} ms)",
        "rows": rows,
        "requests": requests,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "requests_per_s": round(requests / seconds, 2),
        "bound_rows_per_s": round(rows / bound) if bound else None,
        "bound_requests_per_s": round(requests / bound, 2) if bound else None,
        "share_of_bound": f"{bound / seconds:.0%}",
        "emulator_429s": served["throttled"],
        "peak_in_flight": served["peak_in_flight"],
        "peak_per_minute": served["peak_per_minute"],
    }


def pulls() -> list[dict[str, Any]]:
    """Pull throughput at 0 and 100 ms latency, 1 and 4 threads, then a sustained run."""
    rows = []
    with emulator_process("--companies", "1", "--size", "bench") as info:
        base, realm = info["url"], info["realms"][0]
        token = httpx.post(f"{base}/_emulator/realms/{realm}/tokens", json={}).json()
        for latency_ms in (0, 100):
            for threads in (1, len(ENTITIES)):
                run = _run(
                    base, realm, token["access_token"], latency_ms=latency_ms, threads=threads,
                    passes=1,
                )  # fmt: skip
                rows.append(run)
        sustained = _run(
            base, realm, token["access_token"], latency_ms=0, threads=len(ENTITIES),
            passes=SUSTAINED_PASSES,
        )  # fmt: skip
        rows.append(sustained)
    return rows


def main() -> None:
    path = report("client", pulls())
    print(f"written {path}")


if __name__ == "__main__":
    main()
