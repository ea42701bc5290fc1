"""Unit tests of the per-realm budget (no network): rolling windows on a fake clock, in-flight
slots, the batch budget, pauses after a 429, priority order among waiters, counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from qb_pipeline.qbo.ratelimit import (
    CallKind,
    Priority,
    RateLimiter,
    RateLimits,
    Slot,
    default_limiter,
)

REALM = "123145"
ROOMY = {"per_minute": 10_000, "per_second": 10_000, "in_flight": 10_000}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def limiter_with(clock: FakeClock, **limits: float) -> RateLimiter:
    values = {**ROOMY, "minute_margin": 0.0, "second_margin": 0.0, **limits}
    return RateLimiter(RateLimits(**values), clock=clock, max_wait=0.005)


def take(limiter: RateLimiter, n: int, kind: CallKind = CallKind.READ) -> list[Slot]:
    slots = [limiter.try_acquire(REALM, kind) for _ in range(n)]
    assert all(slots), "the budget should have had room"
    return [s for s in slots if s is not None]


def test_ten_per_second_window_rolls() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, per_second=10)
    for slot in take(limiter, 10):
        slot.release()
    assert limiter.try_acquire(REALM, CallKind.READ) is None
    clock.now = 0.999
    assert limiter.try_acquire(REALM, CallKind.READ) is None
    clock.now = 1.0
    assert limiter.try_acquire(REALM, CallKind.READ) is not None


def test_a_request_counts_from_its_send_until_a_window_after_its_answer() -> None:
    """The server stamps a request on arrival, some time between send and answer: counting it
    from send to answer + window covers every possible stamp."""
    clock = FakeClock()
    limiter = limiter_with(clock, per_second=2)
    slow, fast = take(limiter, 2)
    clock.now = 5.0
    assert limiter.try_acquire(REALM, CallKind.READ) is None  # both still in flight
    fast.release()  # answered at t=5: counts until t=6
    assert limiter.try_acquire(REALM, CallKind.READ) is None
    clock.now = 5.999
    assert limiter.try_acquire(REALM, CallKind.READ) is None
    clock.now = 6.0
    third = limiter.try_acquire(REALM, CallKind.READ)
    assert third is not None
    assert limiter.counters(REALM)["peak_per_second"] == 2
    slow.release()
    third.release()


def test_per_minute_window_with_margin() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, per_minute=5, minute_margin=1.0)
    for i in range(5):
        clock.now = i * 10.0
        take(limiter, 1)[0].release()
    clock.now = 60.5  # the first request left the 60 s window, not the 61 s one
    assert limiter.try_acquire(REALM, CallKind.QUERY) is None
    clock.now = 61.0
    assert limiter.try_acquire(REALM, CallKind.QUERY) is not None
    assert limiter.try_acquire(REALM, CallKind.QUERY) is None  # the one from t=10 is still in


def test_default_limits_are_qbos() -> None:
    limits = RateLimits()
    assert (limits.per_minute, limits.per_second, limits.in_flight, limits.batch_per_minute) == (
        500,
        10,
        10,
        40,
    )
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    granted = 0
    for step in range(1200):  # two minutes at 100 tries per second
        clock.now = step / 10.0
        slot = limiter.try_acquire(REALM, CallKind.READ)
        if slot:
            granted += 1
            slot.release()
    counters = limiter.counters(REALM)
    assert counters["peak_per_minute"] <= 500
    assert counters["peak_per_second"] <= 10
    assert granted <= 2 * 500


def test_in_flight_slots_come_back_on_release() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, in_flight=2)
    first, _second = take(limiter, 2)
    assert limiter.try_acquire(REALM, CallKind.WRITE) is None
    first.release()
    first.release()  # twice is harmless
    assert limiter.try_acquire(REALM, CallKind.WRITE) is not None
    assert limiter.counters(REALM)["in_flight"] == 2


def test_batch_budget_is_separate() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, batch_per_minute=2)
    for slot in take(limiter, 2, CallKind.BATCH):
        slot.release()
    assert limiter.try_acquire(REALM, CallKind.BATCH) is None
    assert limiter.try_acquire(REALM, CallKind.READ) is not None
    clock.now = 60.0
    assert limiter.try_acquire(REALM, CallKind.BATCH) is not None


def test_pause_holds_the_realm_only() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock)
    limiter.pause(REALM, 5.0)
    assert limiter.try_acquire(REALM, CallKind.WRITE) is None
    assert limiter.try_acquire("999", CallKind.WRITE) is not None
    clock.now = 5.0
    assert limiter.try_acquire(REALM, CallKind.WRITE) is not None
    assert limiter.counters(REALM)["pauses"] == 1


def test_counters_by_kind_class_and_metered() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock)
    kinds = [CallKind.WRITE, CallKind.READ, CallKind.QUERY, CallKind.QUERY, CallKind.CDC]
    kinds += [CallKind.BATCH, CallKind.REPORT]
    for kind in kinds:
        take(limiter, 1, kind)[0].release()
    counters = limiter.counters(REALM)
    assert counters["requests"] == 7
    assert (counters["write"], counters["query"], counters["batch"]) == (1, 2, 1)
    assert counters["metered"] == 5  # read, 2 queries, cdc, report
    assert counters["priority_write"] == 2  # the write and the batch
    assert counters["priority_read"] == 4
    assert counters["priority_report"] == 1
    assert limiter.counters("unknown")["requests"] == 0


def _start_waiters(
    limiter: RateLimiter, order: list[str], kinds: list[tuple[str, CallKind]]
) -> list[threading.Thread]:
    """One thread per (label, kind), queued in that order; each records when it gets a slot."""
    threads = []
    for label, kind in kinds:

        def run(label: str = label, kind: CallKind = kind) -> None:
            with limiter.acquire(REALM, kind):
                order.append(label)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        queued = len(threads)
        _wait_until(lambda queued=queued: limiter.waiting(REALM) == queued)
    return threads


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_a_write_is_served_before_queued_reads_and_reports() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, in_flight=1)
    held = take(limiter, 1)[0]
    order: list[str] = []
    queued = [("report-1", CallKind.REPORT), ("report-2", CallKind.REPORT)]
    queued += [("read", CallKind.QUERY), ("write", CallKind.WRITE), ("cdc", CallKind.CDC)]
    threads = _start_waiters(limiter, order, queued)
    held.release()
    for thread in threads:
        thread.join(5)
    assert order == ["write", "read", "cdc", "report-1", "report-2"]
    assert limiter.counters(REALM)["waited"] == 5


def test_priority_also_orders_waiters_for_the_time_window() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, per_second=1)
    take(limiter, 1)[0].release()
    order: list[str] = []
    queued = [("report", CallKind.REPORT), ("read", CallKind.READ), ("write", CallKind.WRITE)]
    threads = _start_waiters(limiter, order, queued)
    for step in range(1, 4):
        clock.now = float(step)
        limiter.wake()
        _wait_until(lambda n=step: len(order) == n)
    for thread in threads:
        thread.join(5)
    assert order == ["write", "read", "report"]


def test_a_batch_held_by_its_own_budget_lets_others_pass() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, batch_per_minute=1)
    take(limiter, 1, CallKind.BATCH)[0].release()
    order: list[str] = []
    threads = _start_waiters(limiter, order, [("batch", CallKind.BATCH)])
    with limiter.acquire(REALM, CallKind.READ, Priority.REPORT):  # not blocked by the batch
        order.append("report")
    clock.now = 60.0
    limiter.wake()
    threads[0].join(5)
    assert order == ["report", "batch"]


def test_threads_sharing_a_limiter_never_exceed_in_flight() -> None:
    limiter = RateLimiter(RateLimits(per_minute=100_000, per_second=100_000, in_flight=3))
    inside, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        for _ in range(25):
            with limiter.acquire(REALM, CallKind.QUERY):
                with lock:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                time.sleep(0.0005)
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak[0] <= 3
    assert limiter.counters(REALM)["requests"] == 200
    assert limiter.counters(REALM)["peak_in_flight"] == peak[0]


def test_an_interrupted_waiter_leaves_the_queue() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, in_flight=1)
    held = take(limiter, 1)[0]
    errors: list[BaseException] = []

    def wait_and_fail() -> None:
        try:
            limiter.acquire(REALM, CallKind.READ)
        except RuntimeError as error:
            errors.append(error)

    original = limiter._cond.wait

    def interrupted(timeout: float | None = None) -> bool:
        raise RuntimeError("interrupted")

    limiter._cond.wait = interrupted  # type: ignore[method-assign]
    thread = threading.Thread(target=wait_and_fail)
    thread.start()
    thread.join(5)
    limiter._cond.wait = original  # type: ignore[method-assign]
    assert errors and limiter.waiting(REALM) == 0
    held.release()
    assert limiter.try_acquire(REALM, CallKind.READ) is not None


def test_limits_must_allow_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateLimits(in_flight=0)


def test_one_default_limiter_per_process() -> None:
    assert default_limiter() is default_limiter()
