"""Fixtures: ``store_url`` and ``store``, each test run on SQLite and on PostgreSQL.

SQLite: a file under the test's tmp_path. PostgreSQL: a fresh schema on 127.0.0.1:5432, dropped
after the test; skipped with the reason when the server is unreachable, failed under CI=true.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qb_pipeline.store import Store
from qb_pipeline_tests.test_store.postgres import temporary_schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty store on each dialect."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'state.sqlite'}"
        return
    with temporary_schema_url() as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open store on each dialect, closed after the test."""
    opened = Store.from_url(store_url)
    try:
        yield opened
    finally:
        opened.close()
