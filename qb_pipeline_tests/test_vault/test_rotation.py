"""Key rotation, from the function and end to end from `qb-pipeline vault rotate-key`.

Real: the SQLite store under a temporary QB_HOME, the key file, the CLI in a child process.
A failure midway is injected by making the store's lock fail for the second realm.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qb_pipeline import settings
from qb_pipeline.cli import main
from qb_pipeline.store import ConnectionRecord, LockedConnection, Store
from qb_pipeline.vault import Keyring, TokenCipher, VaultError, rotate_key
from qb_pipeline_tests.test_vault.conftest import new_key_b64

REALMS = ("1001", "1002", "1003")
EXPIRES = datetime(2025, 3, 1, 13, 0, tzinfo=UTC)


def access_token(realm_id: str) -> str:
    return f"eyJ-access-token-of-{realm_id}-SECRET"


def refresh_token(realm_id: str) -> str:
    return f"AB11-refresh-token-of-{realm_id}-SECRET"


def connect_all(store: Store, keyring: Keyring) -> None:
    """Store a connection per realm, sealed under the keyring's current key."""
    cipher = TokenCipher(keyring)
    for realm_id in REALMS:
        store.connections.save(
            ConnectionRecord(
                realm_id=realm_id,
                status="connected",
                key_id=cipher.current_key_id,
                access_token_ct=cipher.encrypt(realm_id, access_token(realm_id)),
                refresh_token_ct=cipher.encrypt(realm_id, refresh_token(realm_id)),
                access_expires_at=EXPIRES,
                refresh_expires_at=EXPIRES + timedelta(days=100),
                refresh_hard_expires_at=None,
                company_name=f"Company {realm_id}",
            )
        )


def assert_all_readable(store: Store, keyring: Keyring) -> dict[str, str]:
    """Every connection decrypts to its tokens; returns realm -> key id."""
    cipher = TokenCipher(keyring)
    key_ids = {}
    for record in store.connections.list():
        rid = record.realm_id
        assert cipher.decrypt(rid, record.key_id, record.access_token_ct) == access_token(rid)
        assert cipher.decrypt(rid, record.key_id, record.refresh_token_ct) == refresh_token(rid)
        key_ids[rid] = record.key_id
    return key_ids


def secrets_of(home: Path) -> list[str]:
    keys = json.loads((home / "vault.key").read_text())["keys"].values()
    return [*keys, *(access_token(r) for r in REALMS), *(refresh_token(r) for r in REALMS)]


def test_rotate_key_reencrypts_every_connection(store: Store) -> None:
    keyring = Keyring.load()
    old_id = keyring.current_id
    connect_all(store, keyring)
    before = {r.realm_id: r for r in store.connections.list()}
    assert rotate_key(store, keyring) == 3
    new_id = keyring.current_id
    assert new_id != old_id
    assert set(assert_all_readable(store, Keyring.load()).values()) == {new_id}
    for record in store.connections.list():
        old = before[record.realm_id]
        assert record.access_token_ct != old.access_token_ct
        assert (record.company_name, record.access_expires_at) == (
            old.company_name,
            old.access_expires_at,
        )
    events = store.events.list()
    assert [(e.realm_id, e.event) for e in events] == [(r, "key_rotated") for r in REALMS]
    assert events[0].detail == {"from_key_id": old_id, "to_key_id": new_id}
    assert events[0].actor == "vault-rotate-key"


def test_rotation_with_env_keys_reencrypts_rows_under_older_keys(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = new_key_b64(), new_key_b64()
    monkeypatch.setenv(settings.ENV_VAULT_KEY, f"old:{old}")
    connect_all(store, Keyring.load())
    monkeypatch.setenv(settings.ENV_VAULT_KEY, f"new:{new},old:{old}")
    keyring = Keyring.load()
    assert rotate_key(store, keyring) == 3
    assert set(assert_all_readable(store, keyring).values()) == {"new"}
    assert rotate_key(store, keyring) == 0  # nothing left under an older key


def test_failure_midway_leaves_every_row_readable(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring.load()
    old_id = keyring.current_id
    connect_all(store, keyring)
    real_locked = store.connections.locked

    @contextmanager
    def failing_locked(realm_id: str) -> Iterator[LockedConnection]:
        with real_locked(realm_id) as locked:
            if realm_id == REALMS[1]:
                raise OSError("disk full")
            yield locked

    monkeypatch.setattr(store.connections, "locked", failing_locked)
    with pytest.raises(OSError, match="disk full"):
        rotate_key(store, keyring)
    new_id = keyring.current_id
    key_ids = assert_all_readable(store, Keyring.load())  # a fresh process's keyring
    assert key_ids == {REALMS[0]: new_id, REALMS[1]: old_id, REALMS[2]: old_id}
    monkeypatch.setattr(store.connections, "locked", real_locked)
    assert rotate_key(store, keyring) == 3  # running it again finishes the job
    assert len(set(assert_all_readable(store, Keyring.load()).values())) == 1


def test_tampered_row_stops_rotation_and_is_not_overwritten(store: Store) -> None:
    keyring = Keyring.load()
    connect_all(store, keyring)
    victim = store.connections.get(REALMS[0])
    assert victim is not None
    forged = bytearray(victim.refresh_token_ct)
    forged[-1] ^= 0x01
    store.connections.save(replace(victim, refresh_token_ct=bytes(forged)))
    with pytest.raises(VaultError, match=f"realm {REALMS[0]} with key .*tampered record"):
        rotate_key(store, keyring)
    after = store.connections.get(REALMS[0])
    assert after is not None
    assert (after.key_id, after.refresh_token_ct) == (victim.key_id, bytes(forged))
    assert store.events.list() == []


def test_cli_rotate_key_end_to_end(qb_home: Path, store: Store) -> None:
    keyring = Keyring.load()
    connect_all(store, keyring)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (settings.ENV_VAULT_KEY, settings.ENV_VAULT_KEY_FILE, settings.ENV_STATE_URL)
    }
    env.update({settings.ENV_HOME: str(qb_home), "PYTHONPATH": str(Path.cwd())})
    done = subprocess.run(
        [sys.executable, "-m", "qb_pipeline.cli", "-v", "vault", "rotate-key"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rotated = Keyring.load()
    assert rotated.current_id != keyring.current_id
    assert f"re-encrypted 3 connection(s) under key {rotated.current_id}" in done.stdout
    assert set(assert_all_readable(store, rotated).values()) == {rotated.current_id}
    assert "vault: 3 connection(s) re-encrypted" in done.stderr  # -v logs at INFO
    for secret in secrets_of(qb_home):
        assert secret not in done.stdout and secret not in done.stderr


def test_cli_rotate_key_in_process_logs_no_secret(
    qb_home: Path,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    connect_all(store, Keyring.load())
    assert main(["vault", "rotate-key"]) == 0
    assert main(["vault", "rotate-key"]) == 0
    output = capsys.readouterr()
    assert output.out.count("re-encrypted 3 connection(s)") == 2
    assert "key rotated" in caplog.text
    for secret in secrets_of(qb_home):
        assert secret not in caplog.text and secret not in output.out + output.err


def test_cli_rotate_key_bad_env_key_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(settings.ENV_VAULT_KEY, "k1:tooshort")
    assert main(["vault", "rotate-key"]) == 1
    err = capsys.readouterr().err
    assert "qb-pipeline vault rotate-key: QB_VAULT_KEY entry 1: key 'k1'" in err
    assert "tooshort" not in err
