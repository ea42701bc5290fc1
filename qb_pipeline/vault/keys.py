"""The vault's keyring: AES-256 master keys by key id, from ``QB_VAULT_KEY`` or a key file.

``QB_VAULT_KEY="kid:base64-32-bytes[,kid:base64-32-bytes...]"`` (the first is current) suits
production, where a secret manager sets it. Without it, a JSON key file
(``QB_VAULT_KEY_FILE``, else ``QB_HOME/vault.key``: ``{"current": kid, "keys": {kid: b64}}``) is
read, or created with mode 0600 and a WARNING that a key file is for local use. Old keys stay in
the keyring so records sealed under them remain readable. Keys never appear in a repr, a log line
or an error message; key ids are not secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

from qb_pipeline import settings

log = logging.getLogger(__name__)

KEY_BYTES = 32  # AES-256
KEY_FILE_NAME = "vault.key"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")  # shorter than any base64 key


class VaultError(Exception):
    """A vault failure: bad key configuration, unknown key id, wrong key or tampered record."""


def generate_key_id() -> str:
    """A fresh key id: UTC date and time plus a random suffix (``k20250102T030405-1a2b3c``)."""
    return f"k{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _decode_key(kid: str, encoded: str, where: str) -> bytes:
    """32 key bytes from base64 (standard or URL-safe); errors name ``where`` and the key id."""
    try:
        raw = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise VaultError(f"{where}: key {kid!r} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise VaultError(f"{where}: key {kid!r} is {len(raw)} bytes; AES-256 needs {KEY_BYTES}")
    return raw


def _check_key_id(kid: object, where: str) -> str:
    if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
        raise VaultError(f"{where}: a key id must be 1-32 letters, digits, '_', '.' or '-'")
    return kid


def parse_key_env(value: str) -> tuple[str, dict[str, bytes]]:
    """(current key id, keys) from a ``QB_VAULT_KEY`` value; VaultError says what is wrong."""
    keys: dict[str, bytes] = {}
    entries = [entry.strip() for entry in value.split(",")]
    for number, entry in enumerate(entries, start=1):
        where = f"{settings.ENV_VAULT_KEY} entry {number}"
        kid, colon, encoded = entry.partition(":")
        if not colon or not encoded:
            raise VaultError(f"{where}: expected 'kid:base64-of-{KEY_BYTES}-bytes'")
        kid = _check_key_id(kid.strip(), where)
        if kid in keys:
            raise VaultError(f"{where}: key id {kid!r} appears twice")
        keys[kid] = _decode_key(kid, encoded, where)
    return next(iter(keys)), keys


class Keyring:
    """Master keys by id and the current one; file-backed keyrings can rotate."""

    def __init__(self, keys: dict[str, bytes], current: str, path: Path | None = None) -> None:
        if current not in keys:
            raise VaultError(f"current key id {current!r} is not in the keyring")
        self._keys = dict(keys)
        self._current = current
        self.path = path  # the key file, or None when the keys came from the environment

    def __repr__(self) -> str:
        source = f"file {self.path}" if self.path else settings.ENV_VAULT_KEY
        return f"Keyring(current={self._current!r}, key_ids={self.key_ids}, source={source!r})"

    @classmethod
    def load(cls) -> Keyring:
        """From ``QB_VAULT_KEY`` if set, else the key file (created with mode 0600 if missing)."""
        value = (settings.env(settings.ENV_VAULT_KEY) or "").strip()
        if value:
            current, keys = parse_key_env(value)
            return cls(keys, current)
        return cls.from_file(default_key_file())

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """The keyring in ``path``; a new one with a fresh key is created there if missing."""
        if not path.exists():
            _create_key_file(path)
        current, keys = _read_key_file(path)
        return cls(keys, current, path)

    @property
    def current_id(self) -> str:
        """The id of the key new records are sealed with."""
        return self._current

    @property
    def key_ids(self) -> list[str]:
        """Every key id, current first."""
        return [self._current, *sorted(kid for kid in self._keys if kid != self._current)]

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def key(self, kid: str) -> bytes:
        """The key with this id; a file-backed keyring re-reads its file once for a new id."""
        if kid not in self._keys and self.path is not None and self.path.exists():
            # Another process may have rotated: learn its keys, but keep our current key.
            _current, keys = _read_key_file(self.path)
            self._keys.update(keys)
        if kid not in self._keys:
            raise VaultError(f"key {kid!r} is not in the keyring ({self.key_ids})")
        return self._keys[kid]

    def rotate(self) -> str:
        """Add a fresh key, make it current and save the key file; returns the new key id."""
        if self.path is None:
            raise VaultError(
                f"keys from {settings.ENV_VAULT_KEY} cannot be rotated here: put a new "
                f"'kid:base64' entry first in {settings.ENV_VAULT_KEY}, then re-encrypt"
            )
        _current, on_disk = _read_key_file(self.path)
        kid = generate_key_id()
        keys = {**on_disk, **self._keys, kid: secrets.token_bytes(KEY_BYTES)}
        _write_key_file(self.path, kid, keys, replace_existing=True)
        self._keys, self._current = keys, kid
        log.info("vault key rotated: new current key id %s in %s", kid, self.path)
        return kid


def default_key_file() -> Path:
    """``QB_VAULT_KEY_FILE``, else ``QB_HOME/vault.key``."""
    configured = settings.env(settings.ENV_VAULT_KEY_FILE)
    return Path(configured).expanduser() if configured else settings.qb_home() / KEY_FILE_NAME


def _read_key_file(path: Path) -> tuple[str, dict[str, bytes]]:
    """(current id, keys) from a key file; VaultError names the file on any defect."""
    where = f"key file {path}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VaultError(f"{where}: cannot read it as JSON ({type(exc).__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), dict):
        raise VaultError(f'{where}: expected {{"current": kid, "keys": {{kid: base64}}}}')
    keys = {
        _check_key_id(kid, where): _decode_key(kid, str(encoded), where)
        for kid, encoded in document["keys"].items()
    }
    current = document.get("current")
    if current not in keys:
        raise VaultError(f"{where}: current key id {current!r} is not among its keys")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("key file %s has mode %o: run chmod 600 on it", path, mode)
    return current, keys


def _create_key_file(path: Path) -> None:
    """A new key file with one fresh key, mode 0600; if another process wins, use its file."""
    kid = generate_key_id()
    created = _write_key_file(
        path, kid, {kid: secrets.token_bytes(KEY_BYTES)}, replace_existing=False
    )
    if created:
        log.warning(
            "created vault key file %s (mode 0600, key id %s): a key file is for local use; "
            "in production set %s from a secret manager",
            path,
            kid,
            settings.ENV_VAULT_KEY,
        )


def _write_key_file(
    path: Path, current: str, keys: dict[str, bytes], *, replace_existing: bool
) -> bool:
    """Write atomically, mode 0600; False if ``path`` appeared meanwhile and must be kept."""
    document = {
        "current": current,
        "keys": {kid: base64.b64encode(key).decode("ascii") for kid, key in keys.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        if replace_existing:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)  # atomic create-if-absent, with the content already there
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)
