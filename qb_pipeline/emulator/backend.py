"""The emulator as one object: realms (books), OAuth, throttles, faults, webhooks, replays.

Real: everything a QBO app sees of Intuit across many companies. Faked: all state lives in
memory; a realm is created through the back door (or the CLI) instead of by signing up.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.clock import Clock, company_today
from qb_pipeline.emulator.config import EmulatorConfig
from qb_pipeline.emulator.faults import FaultInjector
from qb_pipeline.emulator.limits import RealmLimiter
from qb_pipeline.emulator.oauth import OAuthServer
from qb_pipeline.emulator.webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)


class Replay:
    """A response kept for a (realm, requestid) pair: QBO answers a repeat with it."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status, self.body, self.headers = status, body, headers


class Emulator:
    def __init__(self, config: EmulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock or Clock()
        self.realms: dict[str, Books] = {}
        self.oauth = OAuthServer(self.config, self.clock)
        self.limiter = RealmLimiter(self.config.limits)
        self.faults = FaultInjector(self.config.faults)
        self.webhooks = WebhookDispatcher(
            self.config.webhooks, self.clock, lambda realm: realm in self.oauth.connected_realms()
        )
        self.request_counts: dict[str, dict[str, int]] = {}
        self.ground_truth: dict[str, Any] = {}
        self._replays: OrderedDict[tuple[str, str], Replay] = OrderedDict()
        self._replay_locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[tuple, list[dict]] = OrderedDict()
        self._query_cache_rows = 0  # rows listed by the cached results
        self._rng = random.Random(0)

    # -- realms ------------------------------------------------------------------------------
    def realm_ids(self) -> list[str]:
        with self._lock:
            return list(self.realms)

    def new_realm_id(self) -> str:
        with self._lock:
            while True:
                realm_id = str(self._rng.randrange(9130_0000_0000_0000, 9341_9999_9999_9999))
                if realm_id not in self.realms:
                    return realm_id

    def create_realm(
        self,
        realm_id: str | None = None,
        *,
        name: str | None = None,
        size: str | None = None,
        seed: int = 0,
        multi_currency: bool = False,
        end: date | None = None,
    ) -> Books:
        """A new company: empty with the starter chart, or generated at a size."""
        realm_id = realm_id or self.new_realm_id()
        if realm_id in self.realms:
            raise ValueError(f"realm {realm_id} already exists")
        if size is None:
            books = Books(
                realm_id,
                self.clock,
                name=name or f"Sandbox Company_US_{len(self.realms) + 1}",
                multi_currency=multi_currency,
            )
        else:
            from qb_pipeline.emulator.generator import company_name, generate_company

            books = Books(
                realm_id,
                self.clock,
                name=name or company_name(seed, len(self.realms)),
                multi_currency=multi_currency,
                starter_chart=False,
            )
            # History ends yesterday, so every generated change lies in the emulator's past.
            last_day = end or company_today(self.clock) - timedelta(days=1)
            truth = generate_company(
                books, size=size, seed=seed, multi_currency=multi_currency, end=last_day
            )
            self.ground_truth[realm_id] = truth
        books.listener = self.webhooks.notify
        with self._lock:
            self.realms[realm_id] = books
        return books

    def books(self, realm_id: str) -> Books:
        books = self.realms.get(realm_id)
        if books is None:
            raise exc.FaultError(
                "3100",
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                f"Company {realm_id} does not exist or this app is not connected to it",
                fault_type="AuthorizationFault",
                status=403,
            )
        return books

    def delete_realm(self, realm_id: str) -> None:
        with self._lock:
            self.realms.pop(realm_id, None)
        self.oauth.revoke_realm(realm_id)

    # -- request bookkeeping --------------------------------------------------------------------
    def count_request(self, realm_id: str, kind: str) -> None:
        with self._lock:
            counts = self.request_counts.setdefault(realm_id, {})
            counts[kind] = counts.get(kind, 0) + 1
            counts["total"] = counts.get("total", 0) + 1

    def replay_lock(self, realm_id: str, request_id: str) -> threading.Lock:
        with self._lock:
            return self._replay_locks.setdefault((realm_id, request_id), threading.Lock())

    def replay(self, realm_id: str, request_id: str) -> Replay | None:
        with self._lock:
            return self._replays.get((realm_id, request_id))

    def remember(self, realm_id: str, request_id: str, replay: Replay) -> None:
        with self._lock:
            self._replays[(realm_id, request_id)] = replay
            while len(self._replays) > self.config.requestid_cache_size:
                old, _ = self._replays.popitem(last=False)
                self._replay_locks.pop(old, None)

    def cached_rows(self, key: tuple, compute: Any) -> list[dict]:
        """Filtered+sorted query rows per (realm, books version, query); pages reuse them."""
        with self._lock:
            rows = self._query_cache.get(key)
            if rows is not None:
                self._query_cache.move_to_end(key)
                return rows
        rows = compute()
        with self._lock:
            if key not in self._query_cache:
                self._query_cache[key] = rows
                self._query_cache_rows += len(rows)
            while self._query_cache_rows > self.config.query_cache_rows and self._query_cache:
                _key, old = self._query_cache.popitem(last=False)
                self._query_cache_rows -= len(old)
        return rows

    def stats(self) -> dict[str, Any]:
        realms = self.realm_ids()
        return {
            "realms": {
                realm: {
                    "requests": dict(self.request_counts.get(realm, {})),
                    "limits": self.limiter.counters(realm),
                    "oauth": self.oauth.counters(realm),
                    "objects": self.realms[realm].counts() if realm in self.realms else {},
                }
                for realm in realms
            },
            "faults_injected": dict(self.faults.injected),
        }

    def reset_stats(self) -> None:
        with self._lock:
            self.request_counts = {}
        self.limiter.reset()
        self.faults.injected.clear()
