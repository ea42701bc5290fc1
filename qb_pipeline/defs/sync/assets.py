"""The per-realm sync as assets: extract -> raw tables -> staging -> marts -> analytics catalogue.

Every asset is partitioned by realm. Extraction (pool ``qbo_api``) calls QBO and writes landing
files, so realms extract concurrently; everything that writes DuckDB is in pool ``warehouse``
(one writer at a time, so no run ever meets a DuckDB lock). The one exception never waits: a
first sync merges its long listings during the extract when the warehouse is free at that
moment, and leaves them to the load otherwise (``load.EarlyMerges``). Staging, marts and the
catalogue hold every realm's rows: their partition ``R`` means "rebuilt after realm R's load".
A realm that is not connected is skipped: the extract step logs why, records an observation with
the reason and materializes nothing, so nothing downstream runs and nothing retries.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from qb_pipeline.defs.partitions import realms
from qb_pipeline.defs.sync import metadata
from qb_pipeline.qbo.errors import RealmDisconnected
from qb_pipeline.resources import QboResource, WarehouseResource
from qb_pipeline.warehouse import raw_table, table_name
from qb_pipeline.warehouse.extract import SYNC_ENTITIES, extract_realm
from qb_pipeline.warehouse.load import load_realm
from qb_pipeline.warehouse.marts import build_marts
from qb_pipeline.warehouse.publish import publish
from qb_pipeline.warehouse.staging import build_staging

SYNC_GROUP = "qbo_sync"
MARTS_GROUP = "qbo_marts"
LANDING_KEY = dg.AssetKey(["qbo", "landing", "changes"])
STAGING_KEY = dg.AssetKey(["qbo", "staging", "tables"])
CATALOGUE_KEY = dg.AssetKey(["qbo", "analytics", "catalogue"])
PUBLIC_MARTS: tuple[str, ...] = (
    "general_ledger",
    "general_ledger_cash",
    "general_ledger_by_period",
    "profit_and_loss",
    "balance_sheet",
    "cash_flow_statement",
    "ap_ar_enhanced",
    "expenses_sales_enhanced",
)


def raw_key(entity: str) -> dg.AssetKey:
    """``Invoice`` -> ``qbo/raw/invoice``."""
    return dg.AssetKey(["qbo", "raw", table_name(entity)])


def mart_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey(["qbo", "marts", mart])


RAW_KEYS: dict[str, dg.AssetKey] = {entity: raw_key(entity) for entity in SYNC_ENTITIES}
MART_KEYS: dict[str, dg.AssetKey] = {mart: mart_key(mart) for mart in PUBLIC_MARTS}


def skip_reason(qbo: QboResource, realm_id: str) -> str | None:
    """Why the realm cannot be synced now (never connected, disconnected, revoked), or None."""
    record = qbo.connection(realm_id)
    if record is None:
        return f"realm {realm_id} is not connected: run `qb-pipeline connect`"
    if record.status != "connected":
        why = f" ({record.status_reason})" if record.status_reason else ""
        return f"realm {realm_id} is {record.status}{why}: reconnect with `qb-pipeline connect`"
    return None


@dg.asset(
    key=LANDING_KEY,
    partitions_def=realms,
    pool="qbo_api",
    group_name=SYNC_GROUP,
    kinds={"parquet"},
    output_required=False,
)
def qbo_landing_changes(
    context: dg.AssetExecutionContext, qbo: QboResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """What changed in the realm since its cursors, landed as Parquet batches plus a manifest:
    query paging on a first or stale sync, else one /batch call holding a CDC query per entity
    (an entity filling its own answer is re-listed); lists CDC does not serve are re-listed
    daily. Skipped, with the reason, when the realm is not connected."""
    realm_id = context.partition_key
    reason = skip_reason(qbo, realm_id)
    if reason is None:
        try:
            with qbo.client(realm_id) as client:
                manifest = extract_realm(client, warehouse.warehouse(), warehouse.landing_root)
        except RealmDisconnected as error:  # disconnected mid-run (refresh token rejected)
            reason = f"realm {realm_id} disconnected during the extract: {error}"
        else:
            yield dg.MaterializeResult(metadata=metadata.extract_metadata(manifest))
            return
    context.log.warning("skipping realm %s: %s", realm_id, reason)
    context.log_event(
        dg.AssetObservation(asset_key=LANDING_KEY, partition=realm_id, metadata={"skipped": reason})
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name=SYNC_GROUP, deps=[LANDING_KEY], kinds={"duckdb"})
        for key in RAW_KEYS.values()
    ],
    partitions_def=realms,
    pool="warehouse",
    name="qbo_raw_tables",
)
def qbo_raw_tables(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Current state per entity (one raw table each, realm_id in every key, full JSON kept,
    deletes as tombstones): every pending landing batch merged, cursors advanced in the same
    DuckDB transaction."""
    realm_id = context.partition_key
    target = warehouse.warehouse()
    result = load_realm(target, warehouse.landing_root, realm_id)
    with target.connect(read_only=True) as con:
        for entity, key in RAW_KEYS.items():
            live = con.execute(
                f"SELECT count(*) FROM {raw_table(entity)} WHERE realm_id = ? AND NOT deleted",
                [realm_id],
            ).fetchall()[0][0]
            yield dg.MaterializeResult(
                asset_key=key, metadata=metadata.load_metadata(result, entity, int(live))
            )


@dg.asset(
    key=STAGING_KEY,
    deps=list(RAW_KEYS.values()),
    partitions_def=realms,
    pool="warehouse",
    group_name=MARTS_GROUP,
    kinds={"duckdb", "sql"},
    automation_condition=dg.AutomationCondition.eager(),
)
def qbo_staging_tables(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Typed, normalised tables after Fivetran's QuickBooks layout (headers, lines, linked
    transactions, tax lines, addresses; DECIMAL money with home-currency twins), all realms."""
    with warehouse.warehouse().connect() as con:
        built = build_staging(con)
        preview = metadata.table_preview(
            con, "staging.invoice", context.partition_key, "transaction_date DESC, invoice_id"
        )
    return dg.MaterializeResult(
        metadata={
            **metadata.counts_metadata(built.row_counts),
            "duration_s": round(built.seconds, 3),
            "preview": preview,
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name=MARTS_GROUP,
            deps=[STAGING_KEY],
            kinds={"duckdb", "sql"},
            automation_condition=dg.AutomationCondition.eager(),
        )
        for key in MART_KEYS.values()
    ],
    partitions_def=realms,
    pool="warehouse",
    name="qbo_marts",
)
def qbo_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Finance marts with dbt_quickbooks' names (general ledger on both bases, statements per
    period, AR/AP with aging, expenses and sales), rebuilt from staging as of today."""
    realm_id = context.partition_key
    with warehouse.warehouse().connect() as con:
        built = build_marts(con, as_of=datetime.now(UTC).date())
        for mart, key in MART_KEYS.items():
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "rows": built.row_counts.get(mart, 0),
                    "duration_s": round(built.seconds, 3),
                    "preview": metadata.table_preview(con, f"marts.{mart}", realm_id),
                },
            )


@dg.asset(
    key=CATALOGUE_KEY,
    deps=list(MART_KEYS.values()),
    partitions_def=realms,
    pool="warehouse",
    group_name=MARTS_GROUP,
    kinds={"parquet", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
)
def qbo_analytics_catalogue(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """What analysts open: staging and marts as Parquet plus ``analytics.duckdb`` (views over
    them), swapped in atomically so a reader holding the old file open is never blocked."""
    published = publish(warehouse.warehouse(), warehouse.analytics_dir)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.catalogue)),
            "generation": published.generation,
            "tables": len(published.row_counts),
            "duration_s": round(published.seconds, 3),
            **metadata.counts_metadata(published.row_counts),
        }
    )


SYNC_ASSETS = [qbo_landing_changes, qbo_raw_tables]
MARTS_ASSETS = [qbo_staging_tables, qbo_marts, qbo_analytics_catalogue]
