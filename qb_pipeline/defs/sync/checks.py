"""Asset checks of the sync: keys, double entry, balances, reconciliation with QBO, freshness.

Checks run in the run that materialized the realm's partition and check that realm (the run's
partition key) unless they are about whole tables. A failure puts the difference in the check's
metadata: the offending keys with both sides, counts, totals. None blocks downstream assets.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import duckdb

from qb_pipeline import settings
from qb_pipeline.defs.sync import reconcile
from qb_pipeline.defs.sync.assets import MART_KEYS, RAW_KEYS, STAGING_KEY
from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.qbo.entities import Kind, entity
from qb_pipeline.qbo.query import select
from qb_pipeline.resources import QboResource, WarehouseResource
from qb_pipeline.warehouse import raw_table
from qb_pipeline.warehouse.cursors import cursors
from qb_pipeline.warehouse.extract import LIST_REFRESH

FRESHNESS_LIMIT = timedelta(hours=2)  # the schedule syncs hourly; two missed hours is stale
SAMPLE = 10  # offending rows shown in metadata
# Entities whose COUNT(*) the API answers like its listing (singletons and helpers are not).
COUNTED_KINDS = frozenset({Kind.NAME_LIST, Kind.TRANSACTION})
GL_MARTS = ("general_ledger", "general_ledger_cash")
MART_UNIQUE_KEYS = {
    "general_ledger": "realm_id, unique_id",
    "general_ledger_cash": "realm_id, unique_id",
    "ap_ar_enhanced": "realm_id, transaction_type, transaction_id",
}


def run_realm(context: dg.AssetCheckExecutionContext) -> str:
    """The realm the run synced (checks are unpartitioned; the run is a realm partition)."""
    return context.op_execution_context.partition_key


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list:
    return con.execute(sql, params or []).fetchall()


def _duplicates(con: duckdb.DuckDBPyConnection, table: str, key: str) -> list[tuple]:
    return _fetch(
        con,
        f"SELECT {key}, count(*) AS n FROM {table} GROUP BY ALL HAVING n > 1 "
        f"ORDER BY n DESC LIMIT {SAMPLE}",
    )


def staging_keys(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Staging tables with their own ``<table>_id`` column: table -> key columns."""
    rows = _fetch(
        con,
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'staging' "
        "AND column_name = table_name || '_id' AND NOT starts_with(table_name, 'int_')",
    )
    return {f'staging."{name}"': f"realm_id, {name}_id" for (name,) in rows}


@dg.asset_check(asset=STAGING_KEY, name="unique_keys", blocking=False)
def staging_unique_keys(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Every staging table is unique on (realm_id, <table>_id)."""
    with warehouse.warehouse().connect(read_only=True) as con:
        found = {t: d for t, k in staging_keys(con).items() if (d := _duplicates(con, t, k))}
        checked = len(staging_keys(con))
    return dg.AssetCheckResult(
        passed=not found,
        metadata={"tables_checked": checked, "duplicates": {t: str(d) for t, d in found.items()}},
    )


MART_CHECK_SPECS = [
    *(dg.AssetCheckSpec("unique_keys", asset=MART_KEYS[m]) for m in MART_UNIQUE_KEYS),
    *(dg.AssetCheckSpec("debits_equal_credits", asset=MART_KEYS[m]) for m in GL_MARTS),
    dg.AssetCheckSpec("balance_is_total_minus_applied", asset=MART_KEYS["ap_ar_enhanced"]),
]


@dg.multi_asset_check(specs=MART_CHECK_SPECS, name="qbo_marts_integrity")
def marts_integrity(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    """Unique keys, double entry per transaction on both ledgers, and open balances that equal
    total minus the payments and credits applied (per document)."""
    realm_id = run_realm(context)
    with warehouse.warehouse().connect(read_only=True) as con:
        for mart, key in MART_UNIQUE_KEYS.items():
            duplicates = _duplicates(con, f"marts.{mart}", key)
            yield dg.AssetCheckResult(
                asset_key=MART_KEYS[mart],
                check_name="unique_keys",
                passed=not duplicates,
                metadata={"key": key, "duplicates": str(duplicates)},
            )
        for mart in GL_MARTS:
            yield _double_entry(con, mart, realm_id)
        yield _open_balances(con, realm_id)


def _double_entry(con: duckdb.DuckDBPyConnection, mart: str, realm_id: str) -> dg.AssetCheckResult:
    unbalanced = _fetch(
        con,
        "SELECT transaction_source, transaction_id, sum(debit_amount) AS debits, "
        f"sum(credit_amount) AS credits FROM marts.{mart} WHERE realm_id = ? GROUP BY ALL "
        "HAVING debits <> credits ORDER BY ALL",
        [realm_id],
    )
    return dg.AssetCheckResult(
        asset_key=MART_KEYS[mart],
        check_name="debits_equal_credits",
        passed=not unbalanced,
        metadata={
            "unbalanced_transactions": len(unbalanced),
            "sample": [f"{s} {t}: debits {d} credits {c} (diff {d - c})" for s, t, d, c in
                       unbalanced[:SAMPLE]],
        },
    )  # fmt: skip


def _open_balances(con: duckdb.DuckDBPyConnection, realm_id: str) -> dg.AssetCheckResult:
    wrong = _fetch(
        con,
        "SELECT transaction_type, transaction_id, total_amount, current_balance, computed_balance "
        "FROM marts.ap_ar_enhanced WHERE realm_id = ? AND status <> 'Voided' "
        "AND current_balance <> computed_balance ORDER BY ALL",
        [realm_id],
    )
    return dg.AssetCheckResult(
        asset_key=MART_KEYS["ap_ar_enhanced"],
        check_name="balance_is_total_minus_applied",
        passed=not wrong,
        metadata={
            "mismatched_documents": len(wrong),
            "sample": [
                f"{k} {i}: total {t}, QBO balance {b}, total - applied {c} (diff {b - c})"
                for k, i, t, b, c in wrong[:SAMPLE]
            ],
        },
    )


TIE_OUT_SPECS = [
    dg.AssetCheckSpec("ties_out_with_qbo_trial_balance", asset=MART_KEYS["general_ledger"]),
    dg.AssetCheckSpec("ties_out_with_qbo_report", asset=MART_KEYS["profit_and_loss"]),
    dg.AssetCheckSpec("ties_out_with_qbo_aged_receivables", asset=MART_KEYS["ap_ar_enhanced"]),
]


@dg.multi_asset_check(specs=TIE_OUT_SPECS, name="qbo_marts_tie_out", pool="qbo_api")
def marts_tie_out(
    context: dg.AssetCheckExecutionContext, qbo: QboResource, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    """Trial balance, P&L (year to date) and A/R aging from the marts equal QBO's own
    /reports for the same period, to the cent."""
    realm_id, today = run_realm(context), datetime.now(UTC).date()
    with qbo.client(realm_id) as client, warehouse.warehouse().connect(read_only=True) as con:
        results = [
            reconcile.tie_out_trial_balance(con, client, realm_id, today),
            reconcile.tie_out_profit_and_loss(con, client, realm_id, date(today.year, 1, 1), today),
            reconcile.tie_out_aged_receivables(con, client, realm_id, today),
        ]
    for spec, tie in zip(TIE_OUT_SPECS, results, strict=True):
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=tie.passed,
            metadata={
                "report": tie.report,
                "period": tie.period,
                "ours_total": str(tie.ours_total),
                "qbo_total": str(tie.qbo_total),
                "total_difference": str(tie.ours_total - tie.qbo_total),
                "differences": {k: f"ours {o} vs QBO {q}" for k, (o, q) in tie.differences.items()},
            },
        )


COUNTED = {e: k for e, k in RAW_KEYS.items() if entity(e).kind in COUNTED_KINDS}
RAW_CHECK_SPECS = [
    *(dg.AssetCheckSpec("matches_api_count", asset=key) for key in COUNTED.values()),
    *(dg.AssetCheckSpec("fresh", asset=key) for key in RAW_KEYS.values()),
]


@dg.multi_asset_check(specs=RAW_CHECK_SPECS, name="qbo_raw_reconciliation", pool="qbo_api")
def raw_reconciliation(
    context: dg.AssetCheckExecutionContext, qbo: QboResource, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    """Live rows per entity equal the API's COUNT(*) (inactive name-list rows included), and
    every entity's sync cursor is younger than the freshness limit."""
    realm_id = run_realm(context)
    target = warehouse.warehouse()
    with qbo.client(realm_id) as client:
        api = api_counts(client, COUNTED)
    with target.connect(read_only=True) as con:
        for name, key in COUNTED.items():
            ours = _fetch(
                con,
                f"SELECT count(*) FROM {raw_table(name)} WHERE realm_id = ? AND NOT deleted",
                [realm_id],
            )[0][0]
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="matches_api_count",
                passed=ours == api[name],
                metadata={"warehouse_rows": ours, "api_count": api[name], "diff": ours - api[name]},
            )
    yield from _freshness(cursors(target, realm_id), datetime.now(UTC))


def api_counts(client: QBOClient, names: Iterable[str]) -> dict[str, int]:
    """QBO's COUNT(*) per entity (inactive name-list rows included), 30 queries per /batch call:
    two calls for every entity we sync instead of one call each."""
    wanted = list(names)
    counts: dict[str, int] = {}
    for start in range(0, len(wanted), settings.BATCH_MAX_ITEMS):
        chunk = wanted[start : start + settings.BATCH_MAX_ITEMS]
        texts = [select(name, include_inactive=True).count_sql for name in chunk]
        answers, _ = client.query_batch(texts)
        for name, answer in zip(chunk, answers, strict=True):
            counts[name] = int(answer.get("totalCount", 0))
    return counts


def freshness_limit(name: str) -> timedelta:
    """How old an entity's cursor may be: lists CDC does not serve are re-listed only every
    LIST_REFRESH, so theirs may age that much longer."""
    return FRESHNESS_LIMIT + (timedelta(0) if entity(name).cdc else LIST_REFRESH)


def _freshness(found: dict, now: datetime) -> Iterator[dg.AssetCheckResult]:
    for name, key in RAW_KEYS.items():
        current = found.get(name)
        lag = (now - current.cursor_at) if current else None
        limit = freshness_limit(name)
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="fresh",
            passed=lag is not None and lag <= limit,
            metadata={
                "cursor_at": current.cursor_at.isoformat() if current else "never synced",
                "lag_minutes": round(lag.total_seconds() / 60, 1) if lag else -1.0,
                "limit_minutes": limit.total_seconds() / 60,
            },
        )


SYNC_CHECKS = [staging_unique_keys, marts_integrity, marts_tie_out, raw_reconciliation]
