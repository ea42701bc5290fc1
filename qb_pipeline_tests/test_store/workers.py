"""Process entry points for the cross-process lock tests (importable, so the spawn context works).

The counter lives in ``connections.status_reason`` of one realm: a read-modify-write under
``locked()`` that loses updates unless the lock really excludes other processes and threads.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from qb_pipeline.store import Store

GRACE_SECONDS = 0.5  # time a waiting process gets to (wrongly) get in; no assertion is timed


def increment(store: Store, realm_id: str) -> str:
    """Add one to the realm's counter under its lock; returns the value seen before."""
    with store.connections.locked(realm_id) as locked:
        seen = locked.record.status_reason
        locked.save(replace(locked.record, status_reason=str(int(seen) + 1)))
        return seen


def hold_then_increment(url: str, realm_id: str, holding: Any, waiter_ready: Any) -> None:
    """Take the lock, wait until the other process is about to ask for it, then write and commit."""
    store = Store.from_url(url)
    try:
        with store.connections.locked(realm_id) as locked:
            holding.set()
            if not waiter_ready.wait(timeout=60):
                raise TimeoutError("the waiting process never started")
            time.sleep(GRACE_SECONDS)
            seen = locked.record.status_reason
            locked.save(replace(locked.record, status_reason=str(int(seen) + 1)))
    finally:
        store.close()


def wait_then_increment(url: str, realm_id: str, waiter_ready: Any, seen_values: Any) -> None:
    """Ask for the lock while the other process holds it; report the counter value it saw."""
    store = Store.from_url(url)
    try:
        waiter_ready.set()
        seen_values.put(increment(store, realm_id))
    finally:
        store.close()


def hammer(url: str, realm_id: str, threads: int, rounds: int) -> None:
    """``threads`` threads each incrementing the counter ``rounds`` times."""
    store = Store.from_url(url)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(rounds):
                increment(store, realm_id)
        except BaseException as exc:  # reported by the parent through the exit code
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()
    if errors:
        raise errors[0]
