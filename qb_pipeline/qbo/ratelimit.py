"""Per-realm request budget shared by every thread of a process, with priorities.

QBO's limits per realm and app (API_FACTS 5): 500 requests per rolling minute, 10 per second,
10 concurrent, 40 batch calls per minute. A caller takes a slot before each HTTP request and
gives it back when the answer is in; when the budget is spent it waits. Waiters are served
by priority class, then in arrival order: writes before reads before reports, so an invoice
push is never queued behind a long run of report calls. A waiter held up only by the batch
budget does not block the others.

QBO counts a request when it *arrives*, which this process cannot see: somewhere between
sending it and reading the answer, later by a variable queueing delay. So a request counts
here from the moment it is sent until a window's length after its answer came back; at any
instant the server's window then holds no request this one does not, whatever the delays
(a fixed send-time window does not have that property: a request held up on the way lands in
the next second and the server answers 429). The windows also carry a small margin.
After a 429 ``pause`` holds the whole realm for the server's wait.

Counters per realm (``counters(realm_id)``) feed health metrics: calls by kind, metered
"CorePlus" calls (reads, queries, CDC, reports), waits, pauses, peaks.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from qb_pipeline import settings


class Priority(IntEnum):
    """Lower is served first."""

    WRITE = 0
    READ = 1
    REPORT = 2


class CallKind(StrEnum):
    WRITE = "write"  # create, update, delete, void, send
    READ = "read"  # read by id, PDF
    QUERY = "query"
    CDC = "cdc"
    BATCH = "batch"
    REPORT = "report"


DEFAULT_PRIORITY = {
    CallKind.WRITE: Priority.WRITE,
    CallKind.BATCH: Priority.WRITE,
    CallKind.READ: Priority.READ,
    CallKind.QUERY: Priority.READ,
    CallKind.CDC: Priority.READ,
    CallKind.REPORT: Priority.REPORT,
}
METERED_KINDS = frozenset({CallKind.READ, CallKind.QUERY, CallKind.CDC, CallKind.REPORT})


@dataclass(frozen=True)
class RateLimits:
    """The budget of one realm; margins widen the windows (see the module docstring)."""

    per_minute: int = settings.REQUESTS_PER_MINUTE
    per_second: int = settings.REQUESTS_PER_SECOND
    in_flight: int = settings.MAX_IN_FLIGHT
    batch_per_minute: int = settings.BATCH_CALLS_PER_MINUTE
    minute_margin: float = 0.5
    second_margin: float = 0.01

    def __post_init__(self) -> None:
        if min(self.per_minute, self.per_second, self.in_flight, self.batch_per_minute) < 1:
            raise ValueError("every limit must allow at least one request")

    @property
    def minute_window(self) -> float:
        return 60.0 + self.minute_margin

    @property
    def second_window(self) -> float:
        return 1.0 + self.second_margin


@dataclass
class _Waiter:
    priority: int
    seq: int
    kind: CallKind
    granted: bool = False

    @property
    def batch(self) -> bool:
        return self.kind == CallKind.BATCH


@dataclass
class _RealmBudget:
    answered: deque[float] = field(default_factory=deque)  # answer times, last minute
    batches_answered: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    batches_in_flight: int = 0
    paused_until: float = 0.0
    waiting: list[_Waiter] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def trim(self, now: float, limits: RateLimits) -> None:
        horizon = now - limits.minute_window
        for window in (self.answered, self.batches_answered):
            while window and window[0] <= horizon:
                window.popleft()

    def wait_needed(self, now: float, limits: RateLimits, batch: bool) -> float | None:
        """0 if a request may start now, else seconds until one may; None = until a release."""
        self.trim(now, limits)
        if self.in_flight >= limits.in_flight:
            return None
        windows = [
            (self.answered, limits.minute_window, limits.per_minute, self.in_flight),
            (self.answered, limits.second_window, limits.per_second, self.in_flight),
        ]
        if batch:
            busy = self.batches_in_flight
            windows.append(
                (self.batches_answered, limits.minute_window, limits.batch_per_minute, busy)
            )
        waits = [self.paused_until - now]
        for window, length, limit, busy in windows:
            wait = _window_wait(window, now, length, limit, busy)
            if wait is None:
                return None
            waits.append(wait)
        return max(0.0, *waits)

    def admit(self, now: float, kind: CallKind, priority: int) -> None:
        self.in_flight += 1
        self.batches_in_flight += int(kind == CallKind.BATCH)
        c = self.counts
        c["requests"] += 1
        c[str(kind)] += 1
        c[f"priority_{Priority(priority).name.lower()}"] += 1
        c["metered"] += int(kind in METERED_KINDS)
        c["peak_in_flight"] = max(c["peak_in_flight"], self.in_flight)
        for name, length in (("peak_per_minute", 60.0), ("peak_per_second", 1.0)):
            seen = self.in_flight + _count_since(self.answered, now - length)
            c[name] = max(c[name], seen)

    def release(self, now: float, batch: bool) -> None:
        self.in_flight -= 1
        self.answered.append(now)
        if batch:
            self.batches_in_flight -= 1
            self.batches_answered.append(now)


def _window_wait(
    answered: deque[float], now: float, length: float, limit: int, busy: int
) -> float | None:
    """0 if one more request fits (``busy`` in flight + answers within ``length`` s < limit),
    else seconds until enough answers age out; None when only a release can make room."""
    recent = _count_since(answered, now - length)
    excess = busy + recent - limit + 1  # answers that must leave the window first
    if excess <= 0:
        return 0.0
    if excess > recent:
        return None
    return answered[len(answered) - recent + excess - 1] + length - now


class Slot:
    """Permission for one HTTP request; ``release()`` (or leave the ``with``) when answered."""

    def __init__(self, limiter: RateLimiter, realm_id: str, batch: bool) -> None:
        self._limiter, self._realm_id, self._batch = limiter, realm_id, batch
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self._realm_id, self._batch)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class RateLimiter:
    """Budgets for any number of realms; thread-safe. ``clock`` is injectable for tests."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = 1.0,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock
        self._max_wait = max_wait  # longest single sleep before looking again
        self._cond = threading.Condition()
        self._realms: dict[str, _RealmBudget] = {}
        self._seq = itertools.count()

    def acquire(self, realm_id: str, kind: CallKind, priority: Priority | None = None) -> Slot:
        """Wait for a slot of ``realm_id``'s budget; served by priority, then arrival."""
        rank = DEFAULT_PRIORITY[kind] if priority is None else priority
        waiter = _Waiter(int(rank), next(self._seq), kind)
        with self._cond:
            budget = self._realms.setdefault(realm_id, _RealmBudget())
            budget.waiting.append(waiter)
            budget.waiting.sort(key=lambda w: (w.priority, w.seq))
            try:
                self._wait_for_grant(budget, waiter)
            except BaseException:  # interrupted: leave the queue, or give the slot back
                if waiter.granted:
                    budget.release(self._clock(), waiter.batch)
                else:
                    budget.waiting.remove(waiter)
                self._cond.notify_all()
                raise
        return Slot(self, realm_id, waiter.batch)

    def _wait_for_grant(self, budget: _RealmBudget, waiter: _Waiter) -> None:
        waited = False
        while True:
            wake_in = self._dispatch(budget)
            if waiter.granted:
                break
            waited = True
            self._cond.wait(self._max_wait if wake_in is None else min(wake_in, self._max_wait))
        budget.counts["waited"] += int(waited)

    def try_acquire(
        self, realm_id: str, kind: CallKind, priority: Priority | None = None
    ) -> Slot | None:
        """A slot now if the budget allows and nobody is waiting, else None (never blocks)."""
        rank = DEFAULT_PRIORITY[kind] if priority is None else priority
        with self._cond:
            budget = self._realms.setdefault(realm_id, _RealmBudget())
            now = self._clock()
            if budget.waiting or budget.wait_needed(now, self.limits, kind == CallKind.BATCH) != 0:
                return None
            budget.admit(now, kind, int(rank))
        return Slot(self, realm_id, kind == CallKind.BATCH)

    def _dispatch(self, budget: _RealmBudget) -> float | None:
        """Grant slots to waiters in priority order; seconds until the next may go, if known."""
        now, soonest, granted = self._clock(), None, False
        for waiter in list(budget.waiting):
            wait = budget.wait_needed(now, self.limits, waiter.batch)
            if wait == 0.0:
                budget.waiting.remove(waiter)
                waiter.granted = granted = True
                budget.admit(now, waiter.kind, waiter.priority)
                continue
            if wait is not None:
                soonest = wait if soonest is None else min(soonest, wait)
            if not (waiter.batch and budget.wait_needed(now, self.limits, False) == 0.0):
                break  # blocked by the shared budget: nobody behind it may overtake
        if granted:
            self._cond.notify_all()
        return soonest

    def _release(self, realm_id: str, batch: bool) -> None:
        with self._cond:
            self._realms[realm_id].release(self._clock(), batch)
            self._cond.notify_all()

    def pause(self, realm_id: str, seconds: float) -> None:
        """Hold every request of the realm for ``seconds`` (after a 429)."""
        with self._cond:
            budget = self._realms.setdefault(realm_id, _RealmBudget())
            budget.paused_until = max(budget.paused_until, self._clock() + seconds)
            budget.counts["pauses"] += 1

    def wake(self) -> None:
        """Make waiters look at the clock again (tests that move a fake clock)."""
        with self._cond:
            self._cond.notify_all()

    def waiting(self, realm_id: str) -> int:
        """How many callers wait for a slot of the realm now."""
        with self._cond:
            budget = self._realms.get(realm_id)
            return len(budget.waiting) if budget else 0

    def counters(self, realm_id: str) -> dict[str, int]:
        """Calls by kind and priority, metered calls, waits, pauses, in flight and peaks."""
        with self._cond:
            budget = self._realms.get(realm_id) or _RealmBudget()
            names = [str(k) for k in CallKind] + [f"priority_{p.name.lower()}" for p in Priority]
            base = dict.fromkeys(["requests", *names, "metered", "waited", "pauses"], 0)
            peaks = dict.fromkeys(["peak_in_flight", "peak_per_minute", "peak_per_second"], 0)
            return {**base, **peaks, **budget.counts, "in_flight": budget.in_flight}


def _count_since(window: deque[float], horizon: float) -> int:
    """How many stamps in ``window`` (ascending) are later than ``horizon``."""
    count = 0
    for stamp in reversed(window):
        if stamp <= horizon:
            break
        count += 1
    return count


_default: tuple[int, RateLimiter] | None = None
_default_lock = threading.Lock()


def default_limiter() -> RateLimiter:
    """The process-wide limiter every QBOClient shares unless given one (new after a fork)."""
    global _default  # noqa: PLW0603 - one budget per process is the point
    with _default_lock:
        if _default is None or _default[0] != os.getpid():
            _default = (os.getpid(), RateLimiter())
        return _default[1]
