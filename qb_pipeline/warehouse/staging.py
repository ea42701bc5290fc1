"""Staging layer: typed, normalised tables after Fivetran's QuickBooks layout, from raw.*.

Why SQL files: the transformations are set-based and analysts read them; Python only runs
them in order (``sql/staging/NN_*.sql``), all in one DuckDB transaction, every statement a
``CREATE OR REPLACE``, so a rebuild is idempotent and readers never see a half-built schema.
Deleted rows (tombstones) stay in raw and are left out here. Money is DECIMAL(18,2) in the
transaction currency with ``home_*`` twins converted at the transaction's ExchangeRate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

SQL_ROOT = Path(__file__).parent / "sql"
STAGING_SQL_DIR = SQL_ROOT / "staging"


@dataclass(frozen=True)
class BuildResult:
    """What a staging or mart rebuild produced: rows per table and the time it took."""

    schema: str
    row_counts: Mapping[str, int]
    seconds: float


class SqlBuildError(RuntimeError):
    """A SQL file failed; nothing of the rebuild was committed."""

    def __init__(self, path: Path, cause: duckdb.Error) -> None:
        super().__init__(f"{path.name}: {cause}")
        self.path = path


def sql_files(directory: Path) -> list[Path]:
    """The directory's top-level ``*.sql`` files in name order (NN_ prefixes set the order)."""
    return sorted(directory.glob("*.sql"))


def run_sql_files(
    con: duckdb.DuckDBPyConnection,
    files: Iterable[Path],
    variables: Mapping[str, Any] | None = None,
) -> None:
    """Run the files in one transaction (after setting DuckDB ``variables``); roll back on error."""
    for name, value in (variables or {}).items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute("BEGIN TRANSACTION")
    for path in files:
        logger.debug("running %s", path.name)
        try:
            con.execute(path.read_text(encoding="utf-8"))
        except duckdb.Error as error:
            con.execute("ROLLBACK")
            raise SqlBuildError(path, error) from error
    con.execute("COMMIT")


def row_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    """Rows per base table of ``schema``."""
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
        [schema],
    ).fetchall()
    return {
        name: con.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchall()[0][0]
        for (name,) in tables
    }


def build_staging(con: duckdb.DuckDBPyConnection) -> BuildResult:
    """Rebuild every staging table from the raw layer (which must exist)."""
    started = time.perf_counter()
    run_sql_files(con, sql_files(STAGING_SQL_DIR))
    counts = row_counts(con, "staging")
    elapsed = time.perf_counter() - started
    logger.info("staging rebuilt: %d tables in %.2f s", len(counts), elapsed)
    return BuildResult("staging", counts, elapsed)
