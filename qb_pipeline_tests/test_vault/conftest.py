"""Vault fixtures: a private QB_HOME per test and no vault or store variables from outside."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from qb_pipeline import settings
from qb_pipeline.store import Store


@pytest.fixture(autouse=True)
def qb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """QB_HOME in tmp_path; QB_VAULT_KEY, QB_VAULT_KEY_FILE and QB_STATE_URL unset."""
    home = tmp_path / "qb_home"
    monkeypatch.setenv(settings.ENV_HOME, str(home))
    for name in (settings.ENV_VAULT_KEY, settings.ENV_VAULT_KEY_FILE, settings.ENV_STATE_URL):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def store(qb_home: Path) -> Iterator[Store]:
    """The default store (SQLite under QB_HOME), as the CLI opens it."""
    opened = Store.from_url()
    try:
        yield opened
    finally:
        opened.close()


def new_key_b64() -> str:
    """A fresh 32-byte key, base64."""
    return base64.b64encode(secrets.token_bytes(32)).decode()
