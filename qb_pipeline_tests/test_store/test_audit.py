"""The hash-chained audit log on SQLite and PostgreSQL: appends, concurrency, tamper detection.

Tampering is simulated the way an attacker with database access would do it: plain SQL UPDATE
and DELETE on the tables, bypassing the store.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from itertools import pairwise

from sqlalchemy import delete, update

from qb_pipeline.store import Store
from qb_pipeline.store.audit import canonical_json, row_hash
from qb_pipeline.store.schema import GENESIS_HASH, audit_log


def append_five(store: Store) -> list[int]:
    return [
        store.audit.append(
            "sync",
            "1",
            "update",
            entity="Invoice",
            entity_id=str(n),
            request_id=f"req-{n}",
            status="200",
            before={"TotalAmt": n},
            after={"TotalAmt": n + 1, "TxnDate": datetime(2025, 1, n, tzinfo=UTC)},
        )
        for n in range(1, 6)
    ]


def test_append_chains_rows_and_verifies(store: Store) -> None:
    assert store.audit.verify() is None  # an empty log is intact
    assert append_five(store) == [1, 2, 3, 4, 5]
    entries = store.audit.entries()
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(entries))
    assert entries[2].before == {"TotalAmt": 3}
    assert entries[2].after == {"TotalAmt": 4, "TxnDate": "2025-01-03 00:00:00+00:00"}
    assert (entries[2].entity, entries[2].entity_id, entries[2].request_id) == (
        "Invoice",
        "3",
        "req-3",
    )
    assert store.audit.verify() is None


def test_entries_filter_by_realm(store: Store) -> None:
    store.audit.append("a", "1", "create")
    store.audit.append("a", "2", "create")
    assert [e.realm_id for e in store.audit.entries("2")] == ["2"]
    assert store.audit.entries("2")[0].before is None


def test_modified_row_is_found(store: Store) -> None:
    append_five(store)
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 3).values(status="500"))
    assert store.audit.verify() == 3


def test_modified_row_with_recomputed_hash_breaks_the_next_link(store: Store) -> None:
    append_five(store)
    row = store.audit.entries()[2]
    # The attacker recomputes the row's hash over the stored (JSON text) form of its fields.
    forged = {**row.__dict__, "before": canonical_json(row.before), "after": '{"TotalAmt":999}'}
    with store.engine.begin() as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.id == 3)
            .values(after=forged["after"], hash=row_hash(row.prev_hash, forged))
        )
    assert store.audit.verify() == 4


def test_deleted_middle_row_is_found(store: Store) -> None:
    append_five(store)
    with store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    assert store.audit.verify() == 2


def test_deleted_tail_is_found(store: Store) -> None:
    append_five(store)
    with store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id >= 4))
    assert store.audit.verify() == 4


def test_concurrent_appends_keep_one_chain(store: Store) -> None:
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(10):
                store.audit.append(f"worker-{worker}", "1", "create", entity_id=str(n))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    entries = store.audit.entries()
    assert [e.id for e in entries] == list(range(1, 61))
    assert store.audit.verify() is None
