"""The keyring: QB_VAULT_KEY parsing, the 0600 key file and its warning, rotation of the file."""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path

import pytest

from qb_pipeline import settings
from qb_pipeline.vault import Keyring, VaultError
from qb_pipeline_tests.test_vault.conftest import new_key_b64


def test_env_key_single_and_several_first_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = new_key_b64(), new_key_b64()
    monkeypatch.setenv(settings.ENV_VAULT_KEY, f"prod-2025:{one}, prod-2024:{two}")
    keyring = Keyring.load()
    assert keyring.current_id == "prod-2025"
    assert keyring.key_ids == ["prod-2025", "prod-2024"]
    assert keyring.key("prod-2024") == base64.b64decode(two)
    assert keyring.path is None


def test_env_key_accepts_url_safe_base64(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bytes(range(224, 256))  # encodes with '+' and '/' in standard base64
    monkeypatch.setenv(settings.ENV_VAULT_KEY, f"k1:{base64.urlsafe_b64encode(raw).decode()}")
    assert Keyring.load().key("k1") == raw


def test_env_key_means_no_key_file(qb_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENV_VAULT_KEY, f"k1:{new_key_b64()}")
    Keyring.load()
    assert not (qb_home / "vault.key").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{key}", "entry 1: expected 'kid:base64-of-32-bytes'"),
        ("k1:", "entry 1: expected"),
        ("k1:{key},{key}", "entry 2: expected"),
        ("bad id:{key}", "entry 1: a key id must be"),
        ("k1:not*base64", "entry 1: key 'k1' is not valid base64"),
        ("k1:" + base64.b64encode(b"x" * 16).decode(), "key 'k1' is 16 bytes; AES-256 needs 32"),
        ("k1:{key},k1:{key}", "entry 2: key id 'k1' appears twice"),
    ],
)
def test_bad_env_values_give_a_clear_error_without_the_key(
    value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key_b64()
    monkeypatch.setenv(settings.ENV_VAULT_KEY, value.format(key=key))
    with pytest.raises(VaultError, match=message.replace("(", r"\(")) as caught:
        Keyring.load()
    assert "QB_VAULT_KEY" in str(caught.value)
    assert key not in str(caught.value) and key[:16] not in str(caught.value)


def test_key_file_is_created_0600_with_a_warning(
    qb_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keyring = Keyring.load()
    path = qb_home / "vault.key"
    assert keyring.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "for local use" in warnings[0].getMessage()
    document = json.loads(path.read_text())
    assert document["current"] == keyring.current_id
    key_b64 = document["keys"][keyring.current_id]
    assert base64.b64decode(key_b64) == keyring.key(keyring.current_id)
    assert key_b64 not in caplog.text and key_b64 not in repr(keyring)
    # Loading again reads the same key and warns no more.
    caplog.clear()
    again = Keyring.load()
    assert again.current_id == keyring.current_id
    assert again.key(again.current_id) == keyring.key(keyring.current_id)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_key_file_location_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets" / "qb.key"
    monkeypatch.setenv(settings.ENV_VAULT_KEY_FILE, str(path))
    assert Keyring.load().path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_readable_key_file_is_warned_about(qb_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    Keyring.load()
    (qb_home / "vault.key").chmod(0o644)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        Keyring.load()
    assert "chmod 600" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read it as JSON"),
        ('{"current": "k1"}', "expected"),
        ('{"current": "k2", "keys": {"k1": "%s"}}', "current key id 'k2' is not among its keys"),
        ('{"current": "k1", "keys": {"k1": "c2hvcnQ="}}', "key 'k1' is 5 bytes"),
    ],
)
def test_bad_key_file_names_the_file(content: str, message: str, qb_home: Path) -> None:
    qb_home.mkdir(parents=True)
    path = qb_home / "vault.key"
    key = new_key_b64()
    path.write_text(content.replace("%s", key))
    with pytest.raises(VaultError, match=message) as caught:
        Keyring.load()
    assert str(path) in str(caught.value) and key not in str(caught.value)


def test_rotate_adds_a_current_key_and_keeps_the_old(qb_home: Path) -> None:
    keyring = Keyring.load()
    old_id, old_key = keyring.current_id, keyring.key(keyring.current_id)
    new_id = keyring.rotate()
    assert new_id != old_id and keyring.current_id == new_id
    reloaded = Keyring.load()
    assert reloaded.current_id == new_id
    assert reloaded.key(old_id) == old_key
    assert stat.S_IMODE((qb_home / "vault.key").stat().st_mode) == 0o600
    assert not list(qb_home.glob(".vault.key.*"))  # no temporary file left behind


def test_env_keys_cannot_be_rotated_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENV_VAULT_KEY, f"k1:{new_key_b64()}")
    with pytest.raises(VaultError, match="put a new 'kid:base64' entry first"):
        Keyring.load().rotate()


def test_unknown_key_id_is_learned_from_the_file_after_a_rotation_elsewhere() -> None:
    here, elsewhere = Keyring.load(), Keyring.load()
    new_id = elsewhere.rotate()
    assert here.key(new_id) == elsewhere.key(new_id)
    assert here.current_id != new_id  # learning keys never changes what this process seals with
    with pytest.raises(VaultError, match="'nope' is not in the keyring"):
        here.key("nope")
