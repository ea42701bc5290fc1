"""What the sync assets show in the Dagster UI: metadata built from the plain layers' results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import duckdb

from qb_pipeline.warehouse.extract import ExtractManifest
from qb_pipeline.warehouse.load import LoadResult

PREVIEW_ROWS = 10


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> dg.MetadataValue:
    """A Markdown table (the UI renders it) of at most PREVIEW_ROWS rows."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows[:PREVIEW_ROWS]]
    if len(rows) > PREVIEW_ROWS:
        lines.append(f"| ... {len(rows) - PREVIEW_ROWS} more |" + " |" * (len(header) - 1))
    return dg.MetadataValue.md("\n".join(lines))


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def extract_metadata(manifest: ExtractManifest) -> dict[str, Any]:
    """Mode, API calls, duration, rows per entity and a per-entity preview of one extract."""
    seconds = (manifest.finished_at - manifest.started_at).total_seconds()
    entities = sorted(manifest.entities.values(), key=lambda e: e.entity)
    changed = [e for e in entities if e.rows or e.deleted] or entities
    return {
        "mode": manifest.mode,
        "api_calls": manifest.api_calls,
        "duration_s": dg.MetadataValue.float(round(seconds, 3)),
        "rows": sum(e.rows for e in entities),
        "deleted": sum(e.deleted for e in entities),
        "fallback_entities": [e.entity for e in entities if e.mode == "fallback"],
        "rows_merged_during_extract": sum(manifest.merged_early.values()),
        "manifest": dg.MetadataValue.path(str(manifest.path)),
        "preview": md_table(
            ["entity", "mode", "rows", "deleted", "cursor_at"],
            [(e.entity, e.mode, e.rows, e.deleted, e.cursor_at.isoformat()) for e in changed],
        ),
    }


def load_metadata(result: LoadResult, entity: str, live_rows: int) -> dict[str, Any]:
    """One raw entity after a load: rows merged by this sync (during its extract and by the
    load) and rows the realm has in raw."""
    early = result.rows_merged_early.get(entity, 0)
    return {
        "rows_merged": result.rows_by_entity.get(entity, 0) + early,
        "rows_merged_during_extract": early,
        "rows": live_rows,
        "manifests": result.manifests,
        "cursors_advanced": result.cursors_advanced,
    }


def table_preview(
    con: duckdb.DuckDBPyConnection, table: str, realm_id: str, order_by: str = "ALL"
) -> dg.MetadataValue:
    """The first rows of a warehouse table for one realm, as a Markdown table."""
    cursor = con.execute(
        f"SELECT * FROM {table} WHERE realm_id = ? ORDER BY {order_by} LIMIT {PREVIEW_ROWS}",
        [realm_id],
    )
    header = [d[0] for d in cursor.description]
    return md_table(header, cursor.fetchall())


def counts_metadata(counts: Mapping[str, int]) -> dict[str, Any]:
    """Rows per table, as one JSON value plus the total."""
    return {"row_counts": dict(counts), "rows": sum(counts.values())}
