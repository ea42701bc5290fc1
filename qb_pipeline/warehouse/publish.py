"""Publish the warehouse's staging and mart tables for analysts: Parquet plus ``analytics.duckdb``.

Why a copy and not the warehouse itself: DuckDB allows one read-write process per file, so an
analyst holding ``warehouse.duckdb`` open would block every sync (and a sync would break the
analyst's session). Instead every publish writes a new *generation* of Parquet files::

    <analytics>/parquet/<generation>/<schema>.<table>.parquet
    <analytics>/analytics.duckdb      views marts.<table>, staging.<table> over that generation

``analytics.duckdb`` is written under a temporary name and renamed over the old one
(``os.replace``, atomic on POSIX). An analyst who opened the old file read-only keeps reading
the old inode and the old generation's Parquet files (kept for ``retention`` and at least the
newest ``keep_generations``); the next open sees the new catalogue. Neither side ever waits for
the other's lock. Tables named ``int_*`` are building blocks and are not published.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from qb_pipeline.warehouse.warehouse import Warehouse

logger = logging.getLogger(__name__)

CATALOGUE_NAME = "analytics.duckdb"
PUBLISHED_SCHEMAS: tuple[str, ...] = ("staging", "marts")
DEFAULT_KEEP_GENERATIONS = 5
DEFAULT_RETENTION = timedelta(hours=1)
_GENERATION_FORMAT = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class PublishResult:
    """One publication: where the catalogue is, which generation it points at, rows per table."""

    catalogue: Path
    generation: str
    row_counts: dict[str, int]  # "<schema>.<table>" -> rows
    seconds: float


def catalogue_path(analytics_dir: Path | str) -> Path:
    """Where analysts find the catalogue: ``<analytics_dir>/analytics.duckdb``."""
    return Path(analytics_dir) / CATALOGUE_NAME


def publish(
    warehouse: Warehouse,
    analytics_dir: Path | str,
    *,
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    keep_generations: int = DEFAULT_KEEP_GENERATIONS,
    retention: timedelta = DEFAULT_RETENTION,
) -> PublishResult:
    """Export the published tables to a new Parquet generation and swap the catalogue in."""
    started = time.perf_counter()
    root = Path(analytics_dir).resolve()
    generation = _new_generation()
    target = root / "parquet" / generation
    target.mkdir(parents=True, exist_ok=False)
    with warehouse.connect(read_only=True) as con:
        counts = _export(con, schemas, target)
    catalogue = _write_catalogue(root, target, counts)
    removed = prune_generations(root, keep=keep_generations, retention=retention)
    elapsed = time.perf_counter() - started
    logger.info(
        "published %d tables (generation %s, %d old generations removed) in %.2f s",
        len(counts),
        generation,
        removed,
        elapsed,
    )
    return PublishResult(catalogue, generation, counts, elapsed)


def _new_generation() -> str:
    """A sortable, unique generation name: UTC time plus a random suffix."""
    return f"{datetime.now(UTC).strftime(_GENERATION_FORMAT)}-{secrets.token_hex(3)}"


def _published_tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE list_contains(?, table_schema) AND table_type = 'BASE TABLE' "
        "AND NOT starts_with(table_name, 'int_') ORDER BY ALL",
        [list(schemas)],
    ).fetchall()


def _export(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], target: Path
) -> dict[str, int]:
    """COPY every published table to ``<target>/<schema>.<table>.parquet``; rows per table."""
    counts: dict[str, int] = {}
    for schema, table in _published_tables(con, schemas):
        path = target / f"{schema}.{table}.parquet"
        con.execute(f'COPY {schema}."{table}" TO {_literal(path)} (FORMAT parquet)')
        rows = con.execute(f'SELECT count(*) FROM {schema}."{table}"').fetchall()[0][0]
        counts[f"{schema}.{table}"] = int(rows)
    return counts


def _write_catalogue(root: Path, generation_dir: Path, counts: dict[str, int]) -> Path:
    """Views over the generation's files in a temp database, renamed over the catalogue."""
    final = catalogue_path(root)
    temporary = root / f".{CATALOGUE_NAME}.{secrets.token_hex(4)}.tmp"
    con = duckdb.connect(str(temporary))
    try:
        for schema in sorted({name.split(".", 1)[0] for name in counts}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name in counts:
            schema, table = name.split(".", 1)
            path = generation_dir / f"{name}.parquet"
            con.execute(
                f'CREATE VIEW {schema}."{table}" AS SELECT * FROM read_parquet({_literal(path)})'
            )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(temporary, final)
    return final


def _literal(path: Path) -> str:
    """A path as a SQL string literal (COPY and read_parquet take no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def prune_generations(root: Path | str, *, keep: int, retention: timedelta) -> int:
    """Delete generations that are neither among the newest ``keep`` nor younger than
    ``retention`` (a reader of an older catalogue may still be reading them); how many."""
    parquet = Path(root) / "parquet"
    generations = sorted((p for p in parquet.iterdir() if p.is_dir()), reverse=True)
    cutoff = time.time() - retention.total_seconds()
    removed = 0
    for old in generations[keep:]:
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
            removed += 1
    return removed
