"""Outbound webhooks: every change in a connected realm's books reaches the configured endpoints.

Real (API_FACTS section 7): only realms with a valid OAuth connection generate events; events
are grouped over a window (production: minutes, sandbox: near real time) into legacy
``eventNotifications`` bodies, one realm per POST, or CloudEvents arrays of up to 100 events
mixing realms; each body is signed with ``intuit-signature``; a delivery that is not answered
2xx in time is retried on Intuit's schedule (10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h),
and later deliveries to that endpoint wait behind it until it is acknowledged or given up.
Faked: the optional files target (each delivery also written as a file); ``flush()`` and the
back door's ``outbox()``; a flush attempt counts as an attempt of the retry schedule.
Not implemented: per-app entity/operation filters, "every 6 h" retries after the schedule ends,
Intuit's deactivation of endpoints that keep failing, and the portal's "send test events".
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from qb_pipeline.emulator.clock import Clock
from qb_pipeline.emulator.config import WebhookConfig
from qb_pipeline.emulator.webhook_delivery import (
    DELIVERED,
    FAILED,
    FILE_TARGET,
    URL_TARGET,
    AttemptResult,
    Delivery,
    post,
    write_file,
)
from qb_pipeline.emulator.webhook_payloads import (
    OPERATIONS,
    PAYLOAD_FORMATS,
    Payload,
    WebhookEvent,
    build_payloads,
    cloudevents_source,
    sign,
)

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 10_000  # finished deliveries kept for the back door; pending ones never dropped
STOP_TIMEOUT_SECONDS = 2.0
ERROR_BACKOFF_SECONDS = 1.0


class WebhookDispatcher:
    """Collects change notifications and delivers them in the background, Intuit-style."""

    def __init__(
        self,
        config: WebhookConfig,
        clock: Clock,
        is_connected: Callable[[str], bool],
        *,
        app_id: str = "emulator-app",
    ) -> None:
        self._config = dataclasses.replace(config, **_normalise(dataclasses.asdict(config)))
        self._clock = clock
        self._is_connected = is_connected
        self._source = cloudevents_source(app_id)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._send_lock = threading.Lock()  # one sender at a time: keeps per-URL order
        self._pending: list[WebhookEvent] = []
        self._pending_since: float | None = None
        self._queues: dict[tuple[str, str], deque[Delivery]] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._finished: deque[str] = deque()
        self._seq = itertools.count(1)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self.enabled = _is_enabled(self._config)

    @property
    def config(self) -> WebhookConfig:
        """A copy of the configuration in force."""
        with self._lock:
            return dataclasses.replace(self._config)

    def notify(
        self,
        realm_id: str,
        entity: str,
        entity_id: str,
        operation: str,
        last_updated: datetime,
        deleted_id: str | None = None,
    ) -> None:
        """Record one change; cheap, never blocks on the network."""
        if not self.enabled:
            return
        if operation not in OPERATIONS:
            raise ValueError(f"unknown webhook operation {operation!r}")
        if not self._is_connected(realm_id):
            return
        event = WebhookEvent(realm_id, entity, entity_id, operation, last_updated, deleted_id)
        with self._lock:
            self._pending.append(event)
            if self._pending_since is None:
                self._pending_since = time.monotonic()
                self._wake.notify()

    def configure(self, **changes: Any) -> WebhookConfig:
        """Change urls, payload_format, verifier_token, windows or schedule at run time."""
        known = {f.name for f in dataclasses.fields(WebhookConfig)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown webhook setting(s): {', '.join(unknown)}")
        changes = _normalise(changes)
        with self._lock:
            self._config = dataclasses.replace(self._config, **changes)
            self.enabled = _is_enabled(self._config)
            self._wake.notify_all()
            return dataclasses.replace(self._config)

    def start(self) -> None:
        """Start the background delivery thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="qbo-emulator-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
        """Stop the thread, make one last delivery attempt; True when nothing is left pending."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        drained = self.flush(max(0.1, deadline - time.monotonic()))
        if thread is None or not thread.is_alive():
            self._close_client()
        return drained

    def flush(self, timeout: float = 5.0) -> bool:
        """Group everything pending now and attempt each due endpoint once; True if none left."""
        deadline = time.monotonic() + timeout
        if not self._send_lock.acquire(timeout=max(0.0, timeout)):
            return False
        try:
            self._group(force=True)
            self._deliver(force=True, deadline=deadline)
        finally:
            self._send_lock.release()
        with self._lock:
            return not self._pending and not any(self._queues.values())

    def outbox(self, realm_id: str | None = None) -> list[dict[str, Any]]:
        """Every delivery kept (oldest first), optionally only those carrying ``realm_id``."""
        now, now_mono = self._clock.now(), time.monotonic()
        with self._lock:
            deliveries = list(self._deliveries.values())
            return [
                delivery.to_dict(now, now_mono)
                for delivery in deliveries
                if realm_id is None or realm_id in delivery.payload.realm_ids
            ]

    # -- background thread -------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._background_pass():
                self._stopping.wait(ERROR_BACKOFF_SECONDS)  # no busy loop on a persistent bug
            with self._wake:
                if self._stopping.is_set():
                    break
                self._wake.wait(self._seconds_until_due())

    def _background_pass(self) -> bool:
        """Group and deliver what is due; False (and logged) if the pass failed unexpectedly."""
        with self._send_lock:
            try:
                self._group(force=False)
                self._deliver(force=False, deadline=None)
            except Exception:  # the thread must outlive one bad pass; the error is logged
                logger.exception("webhook delivery pass failed")
                return False
        return True

    def _seconds_until_due(self) -> float | None:
        """How long the thread may sleep; called with the lock held. None: until woken."""
        now = time.monotonic()
        moments = [queue[0].next_attempt_mono for queue in self._queues.values() if queue]
        if self._pending_since is not None:
            moments.append(self._pending_since + self._config.group_window_seconds)
        if not moments:
            return None
        return max(0.0, min(moments) - now)

    # -- grouping and delivery (callers hold the send lock) ------------------------------

    def _group(self, force: bool) -> None:
        """Turn pending events into deliveries once the grouping window has passed."""
        with self._lock:
            since = self._pending_since
            if since is None:
                return
            if not force and time.monotonic() - since < self._config.group_window_seconds:
                return
            events, self._pending, self._pending_since = self._pending, [], None
            config = dataclasses.replace(self._config)
        payloads = build_payloads(events, config.payload_format, self._source)
        self._enqueue(payloads, config)

    def _enqueue(self, payloads: list[Payload], config: WebhookConfig) -> None:
        targets = [(URL_TARGET, url) for url in config.urls]
        if config.files_dir is not None:
            targets.append((FILE_TARGET, str(config.files_dir)))
        if payloads and not targets:
            logger.warning("webhook endpoints removed; %d payload(s) dropped", len(payloads))
        now, now_mono = self._clock.now(), time.monotonic()
        with self._lock:
            for payload in payloads:
                signature = sign(payload.body, config.verifier_token)
                for kind, target in targets:
                    delivery = Delivery(
                        delivery_id=str(uuid.uuid4()),
                        seq=next(self._seq),
                        target_kind=kind,
                        target=target,
                        payload=payload,
                        signature=signature,
                        created_at=now,
                        next_attempt_mono=now_mono,
                    )
                    self._deliveries[delivery.delivery_id] = delivery
                    self._queues.setdefault((kind, target), deque()).append(delivery)

    def _deliver(self, force: bool, deadline: float | None) -> None:
        """Attempt each endpoint's due deliveries in order, stopping at its first failure."""
        with self._lock:
            targets = [key for key, queue in self._queues.items() if queue]
        for key in targets:
            while (delivery := self._due_head(key, force)) is not None:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                result = self._attempt(delivery, deadline)
                if not self._record(key, delivery, result):
                    break

    def _due_head(self, key: tuple[str, str], force: bool) -> Delivery | None:
        with self._lock:
            queue = self._queues.get(key)
            if not queue:
                return None
            head = queue[0]
            if force or head.next_attempt_mono <= time.monotonic():
                return head
            return None

    def _attempt(self, delivery: Delivery, deadline: float | None) -> AttemptResult:
        if delivery.target_kind == FILE_TARGET:
            return write_file(delivery, self._clock.now())
        with self._lock:
            timeout = self._config.timeout_seconds
        if deadline is not None:
            timeout = max(0.05, min(timeout, deadline - time.monotonic()))
        return post(self._http_client(), delivery, timeout)

    def _record(self, key: tuple[str, str], delivery: Delivery, result: AttemptResult) -> bool:
        """Store an attempt's outcome; True when the endpoint may go on to its next delivery."""
        now = self._clock.now()
        with self._lock:
            delivery.attempts += 1
            delivery.last_attempt_at = now
            if result.ok:
                delivery.status, delivery.file, delivery.finished_at = DELIVERED, result.file, now
                self._finish(key, delivery)
                return True
            delivery.last_error = result.error
            schedule = self._config.retry_schedule_seconds
            retry = delivery.attempts - 1
            if retry < len(schedule):
                delivery.next_attempt_mono = time.monotonic() + schedule[retry]
                logger.info(
                    "webhook %s failed (%s); retry in %ss", key[1], result.error, schedule[retry]
                )
                return False
            delivery.status, delivery.finished_at = FAILED, now
            logger.warning("webhook %s gave up after %d attempts", key[1], delivery.attempts)
            self._finish(key, delivery)
            return True

    def _finish(self, key: tuple[str, str], delivery: Delivery) -> None:
        """Take a finished delivery off its queue; keep a bounded history. Lock held."""
        self._queues[key].popleft()
        self._finished.append(delivery.delivery_id)
        while len(self._finished) > HISTORY_LIMIT:
            self._deliveries.pop(self._finished.popleft(), None)

    def _http_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(headers={"accept": "application/json"})
            return self._client

    def _close_client(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def _is_enabled(config: WebhookConfig) -> bool:
    return bool(config.urls or config.files_dir)


def _normalise(changes: dict[str, Any]) -> dict[str, Any]:
    """Coerce run-time settings (from JSON, say) to the config's types; reject bad values."""
    result = dict(changes)
    if "payload_format" in result and result["payload_format"] not in PAYLOAD_FORMATS:
        raise ValueError(f"payload_format must be one of {sorted(PAYLOAD_FORMATS)}")
    if "urls" in result:
        result["urls"] = [str(url) for url in result["urls"] or []]
    if "retry_schedule_seconds" in result:
        result["retry_schedule_seconds"] = tuple(float(s) for s in result["retry_schedule_seconds"])
    if result.get("files_dir") is not None:
        result["files_dir"] = Path(result["files_dir"])
    return result
