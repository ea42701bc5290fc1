"""Per-realm throttles as QBO documents them, with counters that prove a client's behaviour.

Real (API_FACTS 5): 500 requests per rolling minute and 10 per second per realm and app,
no more than 10 concurrent requests, 40 batch calls per minute; over any of them -> 429 with
fault 3001. Counters record the *offered* load (every arrival, throttled or not): peak requests
in any rolling 60 s and 1 s window and peak in flight, so a test can show a client stayed
inside the limits. Time is the machine's monotonic clock (throttles are wall-time), not the
emulator's business clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from qb_pipeline.emulator.config import LimitsConfig


@dataclass
class RealmCounters:
    requests: int = 0
    throttled: int = 0
    batch_requests: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    peak_per_minute: int = 0
    peak_per_second: int = 0
    arrivals: deque[float] = field(default_factory=deque)  # last 60 s of arrivals
    admitted: deque[float] = field(default_factory=deque)  # last 60 s of admitted requests
    batch_admitted: deque[float] = field(default_factory=deque)

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "batch_requests": self.batch_requests,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "peak_per_minute": self.peak_per_minute,
            "peak_per_second": self.peak_per_second,
        }


class Permit:
    """An admitted request; release() when its response is done."""

    def __init__(self, limiter: RealmLimiter, realm_id: str) -> None:
        self._limiter, self._realm_id, self._released = limiter, realm_id, False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self._realm_id)


class RealmLimiter:
    def __init__(self, config: LimitsConfig, now: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._now = now
        self._lock = threading.Lock()
        self._realms: dict[str, RealmCounters] = {}

    def acquire(self, realm_id: str, *, batch: bool = False) -> Permit | None:
        """Admit a request (a Permit) or refuse it (None: answer 429)."""
        now = self._now()
        with self._lock:
            c = self._realms.setdefault(realm_id, RealmCounters())
            c.requests += 1
            c.batch_requests += int(batch)
            _trim(c.arrivals, now - 60)
            c.arrivals.append(now)
            c.peak_per_minute = max(c.peak_per_minute, len(c.arrivals))
            c.peak_per_second = max(c.peak_per_second, _count_since(c.arrivals, now - 1))
            c.peak_in_flight = max(c.peak_in_flight, c.in_flight + 1)
            if self.config.enabled and self._over(c, now, batch):
                c.throttled += 1
                return None
            c.admitted.append(now)
            if batch:
                c.batch_admitted.append(now)
            c.in_flight += 1
            return Permit(self, realm_id)

    def _over(self, c: RealmCounters, now: float, batch: bool) -> bool:
        cfg = self.config
        _trim(c.admitted, now - 60)
        _trim(c.batch_admitted, now - 60)
        return (
            c.in_flight >= cfg.max_in_flight
            or len(c.admitted) >= cfg.requests_per_minute
            or _count_since(c.admitted, now - 1) >= cfg.requests_per_second
            or (batch and len(c.batch_admitted) >= cfg.batch_per_minute)
        )

    def _release(self, realm_id: str) -> None:
        with self._lock:
            self._realms[realm_id].in_flight -= 1

    def counters(self, realm_id: str) -> dict[str, int]:
        with self._lock:
            return self._realms.get(realm_id, RealmCounters()).as_dict()

    def all_counters(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {realm: c.as_dict() for realm, c in self._realms.items()}

    def reset(self) -> None:
        with self._lock:
            self._realms = {
                r: RealmCounters(in_flight=c.in_flight) for r, c in self._realms.items()
            }


def _trim(window: deque[float], horizon: float) -> None:
    while window and window[0] <= horizon:
        window.popleft()


def _count_since(window: deque[float], horizon: float) -> int:
    count = 0
    for stamp in reversed(window):
        if stamp <= horizon:
            break
        count += 1
    return count
