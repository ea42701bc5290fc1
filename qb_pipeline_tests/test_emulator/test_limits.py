"""RealmLimiter: QBO's documented throttles and the counters that prove a client's behaviour."""

from __future__ import annotations

from qb_pipeline.emulator.config import FaultsConfig, LimitsConfig
from qb_pipeline.emulator.faults import NONE, THROTTLE, FaultInjector
from qb_pipeline.emulator.limits import RealmLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ten_in_flight_then_429_until_one_finishes() -> None:
    limiter = RealmLimiter(LimitsConfig(), FakeTime())
    permits = [limiter.acquire("r1") for _ in range(10)]
    assert all(permits)
    assert limiter.acquire("r1") is None
    assert limiter.acquire("r2") is not None  # limits are per realm
    permits[0].release()
    clock_limited = limiter.acquire("r1")
    assert clock_limited is None  # 11 admitted in the same second > 10 per second
    counters = limiter.counters("r1")
    assert counters["peak_in_flight"] == 11
    assert counters["throttled"] == 2


def test_per_second_and_per_minute_windows_roll() -> None:
    clock = FakeTime()
    limiter = RealmLimiter(LimitsConfig(requests_per_minute=25, requests_per_second=10), clock)
    admitted = 0
    for _ in range(30):  # 30 s, 2 requests every second
        for _ in range(2):
            permit = limiter.acquire("r")
            if permit:
                admitted += 1
                permit.release()
        clock.now += 1
    assert admitted == 25  # the minute's budget is spent after 12.5 s
    clock.now = 1000.0 + 60.5  # the first second's two requests have left the window
    assert limiter.acquire("r") is not None
    assert limiter.acquire("r") is not None
    assert limiter.acquire("r") is None
    counters = limiter.counters("r")
    assert counters["peak_per_second"] == 3
    assert counters["peak_per_minute"] == 61  # arrivals in (t-60, t], throttled or not


def test_batch_calls_have_their_own_budget() -> None:
    clock = FakeTime()
    limiter = RealmLimiter(LimitsConfig(batch_per_minute=3), clock)
    results = []
    for _ in range(5):
        permit = limiter.acquire("r", batch=True)
        results.append(permit is not None)
        if permit:
            permit.release()
        clock.now += 2
    assert results == [True, True, True, False, False]
    assert limiter.acquire("r") is not None  # plain calls still pass


def test_disabled_limits_admit_everything_but_still_count() -> None:
    limiter = RealmLimiter(LimitsConfig(enabled=False), FakeTime())
    permits = [limiter.acquire("r") for _ in range(50)]
    assert all(permits)
    assert limiter.counters("r")["peak_in_flight"] == 50


def test_fault_injector_is_reproducible_and_storms_are_runs() -> None:
    config = FaultsConfig(
        error_500_rate=0.3, seed=7, throttle_storm_every=10, throttle_storm_length=3
    )
    first = [FaultInjector(config).decide().action for _ in range(1)]
    injector_a, injector_b = FaultInjector(config), FaultInjector(config)
    seq_a = [injector_a.decide().action for _ in range(40)]
    seq_b = [injector_b.decide().action for _ in range(40)]
    assert seq_a == seq_b
    assert first[0] == seq_a[0]
    assert seq_a[9:12] == [THROTTLE] * 3
    assert 0 < seq_a.count("500") < 40
    assert FaultInjector(FaultsConfig()).decide().action == NONE
