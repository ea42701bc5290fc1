"""The client on a bench-size company (~120,000 transactions, generated once: ~35 s).

Real: paging over HTTP with QBO's limits on; fault injection (10% HTTP 500, 429 storms with
Retry-After, 200 ms latency) while 12 threads share one client and one limiter; real sleeping
with short backoff settings. The emulator's own counters (it counts every arrival) prove the
client stayed inside 500 requests per minute, 10 per second and 10 in flight: the emulator's
limiter never had to refuse a request (all 429s seen were the injected storms).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.config import FaultsConfig
from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.qbo.query import select
from qb_pipeline.qbo.ratelimit import RateLimiter
from qb_pipeline.qbo.retry import RetryPolicy

pytestmark = pytest.mark.slow

PULL_ROWS, THREADS, PAGE = 10_000, 12, 334
SHORT_BACKOFF = RetryPolicy(max_attempts=10, initial_delay=0.05, max_delay=2.0, throttle_wait=2.0)


@pytest.fixture(scope="module")
def bench_books(emulator_server: EmulatorServer) -> Iterator[Books]:
    books = emulator_server.emulator.create_realm(size="bench", seed=0)
    yield books
    emulator_server.emulator.delete_realm(books.realm_id)


def test_paging_a_bench_realm_returns_every_row_exactly_once(
    connect: Callable[..., QBOClient], bench_books: Books
) -> None:
    client = connect(bench_books)
    for name in ("Invoice", "Customer"):
        query = select(name).order_by("Id")
        pages = list(client.query(query))
        ids = [row["Id"] for page in pages for row in page.rows]
        assert len(ids) == len(set(ids)), f"{name}: rows served twice"
        assert set(ids) == set(bench_books.objects[name]), f"{name}: rows missing"
        assert all(len(page.rows) <= 1000 for page in pages)
    assert len(bench_books.objects["Invoice"]) > 20_000


def _pull_slices(client: QBOClient) -> list[dict[str, Any]]:
    """PULL_ROWS payments, ordered by Id, in THREADS slices pulled at once."""
    share = -(-PULL_ROWS // THREADS)
    slices: list[list[dict[str, Any]]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def pull(k: int) -> None:
        rows = min(share, PULL_ROWS - k * share)
        query = select("Payment").order_by("Id")
        try:
            slices[k] = list(
                client.rows(query, page_size=PAGE, start_position=1 + k * share, max_rows=rows)
            )
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=pull, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return [row for part in slices for row in part]


def test_a_10000_row_pull_under_faults_stays_inside_qbos_limits(
    connect: Callable[..., QBOClient],
    bench_books: Books,
    emulator_server: EmulatorServer,
    clean_faults: FaultsConfig,
) -> None:
    em = emulator_server.emulator
    em.limiter.reset()
    before = dict(em.faults.injected)
    clean_faults.error_500_rate = 0.10
    clean_faults.latency_ms = 200
    clean_faults.throttle_storm_every, clean_faults.throttle_storm_length = 15, 2
    em.faults.reseed()
    em.config.limits.retry_after_seconds = 1  # QBO's 60 s would outlast the test
    limiter = RateLimiter()
    client = connect(bench_books, limiter=limiter, retry=SHORT_BACKOFF)
    try:
        rows = _pull_slices(client)
    finally:
        em.config.limits.retry_after_seconds = 60
    ids = [row["Id"] for row in rows]
    expected = sorted(bench_books.objects["Payment"], key=int)[:PULL_ROWS]
    assert len(ids) == PULL_ROWS and ids == expected
    injected = {k: v - before.get(k, 0) for k, v in em.faults.injected.items()}
    assert injected.get("500", 0) > 0 and injected.get("throttle", 0) > 0  # faults did happen
    served = em.limiter.counters(bench_books.realm_id)
    assert served["peak_per_minute"] <= 500
    assert served["peak_in_flight"] <= 10
    assert served["peak_per_second"] <= 10
    assert served["throttled"] == 0  # every 429 the client saw was an injected storm
    ours = limiter.counters(bench_books.realm_id)
    assert ours["peak_in_flight"] <= 10 and ours["pauses"] >= 1
    assert ours["requests"] == served["requests"]  # every attempt went through the limiter
