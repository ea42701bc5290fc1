"""The connections table and its lock, on SQLite and PostgreSQL (real databases, no fakes).

The lock tests use real threads and real processes (multiprocessing, spawn context): a
read-modify-write counter under ``locked()`` ends at exactly the number of increments, and a
process asking for a held lock sees the holder's committed write once it gets in.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qb_pipeline import settings
from qb_pipeline.store import ConnectionRecord, Store
from qb_pipeline_tests.test_store import workers

REALM = "9130350000000001"
NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def make_record(realm_id: str = REALM, **changes: object) -> ConnectionRecord:
    record = ConnectionRecord(
        realm_id=realm_id,
        status="connected",
        key_id="k1",
        access_token_ct=b"\x01sealed-access",
        refresh_token_ct=b"\x01sealed-refresh",
        access_expires_at=NOW + timedelta(hours=1),
        refresh_expires_at=NOW + timedelta(days=100),
        refresh_hard_expires_at=None,
        company_name="Cool Cars",
        client_id="emulator-client-id",
        scopes="com.intuit.quickbooks.accounting",
        status_reason="0",
    )
    return replace(record, **changes)


def test_save_and_get_round_trip(store: Store) -> None:
    store.connections.save(make_record())
    got = store.connections.get(REALM)
    assert got is not None
    assert got.access_token_ct == b"\x01sealed-access"
    assert got.refresh_token_ct == b"\x01sealed-refresh"
    assert got.access_expires_at == NOW + timedelta(hours=1)
    assert got.access_expires_at.tzinfo == UTC
    assert got.refresh_expires_at == NOW + timedelta(days=100)
    assert got.refresh_hard_expires_at is None
    assert (got.company_name, got.client_id, got.status) == (
        "Cool Cars",
        "emulator-client-id",
        "connected",
    )
    assert got.connected_at is not None and got.updated_at is not None
    assert got.updated_at.tzinfo == UTC


def test_save_is_an_upsert_and_list_is_ordered(store: Store) -> None:
    store.connections.save(make_record("2"))
    store.connections.save(make_record("1"))
    first = store.connections.get("1")
    store.connections.save(replace(make_record("1"), status="revoked", status_reason="user"))
    realms = store.connections.list()
    assert [r.realm_id for r in realms] == ["1", "2"]
    assert (realms[0].status, realms[0].status_reason) == ("revoked", "user")
    assert first is not None and realms[0].updated_at is not None
    assert realms[0].updated_at >= first.updated_at  # type: ignore[operator]


def test_get_missing_realm_is_none(store: Store) -> None:
    assert store.connections.get("nope") is None
    assert store.connections.list() == []


def test_times_in_other_zones_come_back_as_utc(store: Store) -> None:
    tokyo = datetime(2025, 3, 1, 21, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    store.connections.save(make_record(access_expires_at=tokyo))
    got = store.connections.get(REALM)
    assert got is not None and got.access_expires_at == tokyo
    assert got.access_expires_at.tzinfo == UTC


def test_bad_records_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="status"):
        store.connections.save(make_record(status="paused"))
    with pytest.raises(ValueError, match="naive"):
        store.connections.save(make_record(access_expires_at=datetime(2025, 1, 1)))
    with pytest.raises(TypeError, match="ciphertext"):
        store.connections.save(make_record(refresh_token_ct="plain refresh token"))
    assert store.connections.get(REALM) is None


def test_record_repr_hides_ciphertexts() -> None:
    assert "sealed" not in repr(make_record())


def test_locked_commits_record_and_event_together(store: Store) -> None:
    store.connections.save(make_record())
    with store.connections.locked(REALM) as locked:
        assert locked.record.status == "connected"
        locked.save(replace(locked.record, status="disconnected", status_reason="invalid_grant"))
        assert locked.record.status == "disconnected"
        locked.event(
            REALM, "disconnected", actor="token-manager", detail={"error": "invalid_grant"}
        )
        locked.alert(REALM, "disconnected", "reconnect the company")
    got = store.connections.get(REALM)
    assert got is not None and (got.status, got.status_reason) == ("disconnected", "invalid_grant")
    assert [e.event for e in store.events.list(REALM)] == ["disconnected"]
    assert [a.kind for a in store.alerts.open(REALM)] == ["disconnected"]


def test_locked_rolls_back_on_exception(store: Store) -> None:
    store.connections.save(make_record())
    with pytest.raises(RuntimeError), store.connections.locked(REALM) as locked:
        locked.save(replace(locked.record, key_id="k2"))
        locked.event(REALM, "key_rotated", actor="test")
        raise RuntimeError("refresh failed midway")
    got = store.connections.get(REALM)
    assert got is not None and got.key_id == "k1"
    assert store.events.list() == []


def test_locked_missing_realm_raises_key_error_naming_it(store: Store) -> None:
    with pytest.raises(KeyError, match="4620816365"), store.connections.locked("4620816365"):
        pass


def test_locked_refuses_to_save_another_realm(store: Store) -> None:
    store.connections.save(make_record())
    with pytest.raises(ValueError, match="cannot save"), store.connections.locked(REALM) as locked:
        locked.save(make_record("other"))
    assert store.connections.get("other") is None


@pytest.mark.parametrize(
    "write",
    [
        lambda store: store.connections.save(make_record()),
        lambda store: store.events.record(REALM, "refreshed", actor="t"),
        lambda store: store.alerts.raise_(REALM, "disconnected", "m"),
        lambda store: store.audit.append("t", REALM, "refresh"),
        lambda store: store.connections.locked("other").__enter__(),
    ],
    ids=["save", "event", "alert", "audit", "nested-locked"],
)
def test_writes_beside_the_held_lock_fail_fast_instead_of_deadlocking(
    store: Store, write: Callable[[Store], object]
) -> None:
    store.connections.save(make_record())
    with (
        pytest.raises(RuntimeError, match=r"inside store\.connections\.locked\(\)"),
        store.connections.locked(REALM),
    ):
        write(store)
    store.events.record(REALM, "refreshed", actor="t")  # fine again once the lock is released
    assert [e.event for e in store.events.list()] == ["refreshed"]


def test_locked_excludes_threads(store: Store) -> None:
    store.connections.save(make_record())
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                workers.increment(store, REALM)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    got = store.connections.get(REALM)
    assert got is not None and got.status_reason == "40"  # no lost update


def test_locked_waits_for_the_other_process_to_commit(store: Store, store_url: str) -> None:
    store.connections.save(make_record())
    spawn = multiprocessing.get_context("spawn")
    holding, waiter_ready, seen = spawn.Event(), spawn.Event(), spawn.Queue()
    holder = spawn.Process(
        target=workers.hold_then_increment, args=(store_url, REALM, holding, waiter_ready)
    )
    waiter = spawn.Process(
        target=workers.wait_then_increment, args=(store_url, REALM, waiter_ready, seen)
    )
    holder.start()
    try:
        assert holding.wait(timeout=60), "the holding process never took the lock"
        waiter.start()
        waiter.join(timeout=120)
        holder.join(timeout=120)
    finally:
        for process in (holder, waiter):
            if process.is_alive():
                process.kill()
    assert (holder.exitcode, waiter.exitcode) == (0, 0)
    # The waiter got in only after the holder committed: it saw the holder's write.
    assert seen.get(timeout=5) == "1"
    got = store.connections.get(REALM)
    assert got is not None and got.status_reason == "2"


def test_locked_excludes_threads_of_two_processes(store: Store, store_url: str) -> None:
    store.connections.save(make_record())
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=workers.hammer, args=(store_url, REALM, 4, 5)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0]
    got = store.connections.get(REALM)
    assert got is not None and got.status_reason == "40"


def test_default_url_is_sqlite_under_qb_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "nested"
    monkeypatch.setenv(settings.ENV_HOME, str(home))
    monkeypatch.delenv(settings.ENV_STATE_URL, raising=False)
    store = Store.from_url()
    try:
        assert store.dialect == "sqlite"
        store.connections.save(make_record())
        assert (home / "state.sqlite").exists()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()


def test_in_memory_sqlite_and_other_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        Store.from_url("sqlite://")
    with pytest.raises(ValueError, match="unsupported"):
        Store.from_url("mysql://nobody@localhost/x")
