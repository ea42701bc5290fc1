"""Fixtures the merge tests share: a warehouse file under tmp_path and a tiny company's books
(built in-process, no server). Test modules that need other ones define their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse" / "warehouse.duckdb")


@pytest.fixture
def books() -> Books:
    return Emulator().create_realm(size="tiny", seed=3)
