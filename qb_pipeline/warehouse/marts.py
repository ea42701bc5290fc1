"""Finance marts (dbt_quickbooks names and columns) built from staging by SQL files.

``build_marts`` runs ``sql/marts/NN_*.sql`` in order in one DuckDB transaction
(``CREATE OR REPLACE`` throughout, so a rebuild is idempotent); ``as_of`` is the day aging and
overdue figures are measured at (default: today). Accrual basis is ``marts.general_ledger``,
cash basis ``marts.general_ledger_cash``; the monthly statements carry a ``basis`` column.
The parameterised queries in ``sql/marts/reports/`` compute a trial balance, a P&L and an
aging summary for any period from the marts: the reconciliation checks compare them with
QBO's own reports.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

import duckdb

from qb_pipeline.warehouse.staging import (
    SQL_ROOT,
    BuildResult,
    row_counts,
    run_sql_files,
    sql_files,
)

logger = logging.getLogger(__name__)

MARTS_SQL_DIR = SQL_ROOT / "marts"
REPORTS_SQL_DIR = MARTS_SQL_DIR / "reports"

Basis = Literal["accrual", "cash"]
AgingKind = Literal["receivables", "payables"]
_AGING_DOCUMENTS = {"receivables": ("Invoice", "Payment"), "payables": ("Bill", "BillPayment")}


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account of a trial balance; ``net`` = debit - credit in home currency."""

    account_id: str
    account_name: str
    net: Decimal

    @property
    def debit(self) -> Decimal:
        return self.net if self.net > 0 else Decimal("0.00")

    @property
    def credit(self) -> Decimal:
        return -self.net if self.net < 0 else Decimal("0.00")


@dataclass(frozen=True)
class ProfitAndLossRow:
    """One income-statement account over a period, in its sign convention."""

    account_id: str
    account_name: str
    report_group: str
    account_class: str
    amount: Decimal


@dataclass(frozen=True)
class AgingRow:
    """Open balance of one customer or vendor in one aging bucket (0 = current)."""

    party_id: str
    bucket: int
    amount: Decimal


def build_marts(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> BuildResult:
    """Rebuild every mart from the staging layer (which must be built first)."""
    started = time.perf_counter()
    variables = {"as_of_date": as_of or date.today()}
    run_sql_files(con, sql_files(MARTS_SQL_DIR), variables)
    counts = row_counts(con, "marts")
    elapsed = time.perf_counter() - started
    logger.info("marts rebuilt: %d tables in %.2f s", len(counts), elapsed)
    return BuildResult("marts", counts, elapsed)


def _report(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> list[tuple]:
    sql = (REPORTS_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return con.execute(sql, params).fetchall()


def trial_balance(
    con: duckdb.DuckDBPyConnection, realm_id: str, end_date: date, basis: Basis = "accrual"
) -> list[TrialBalanceRow]:
    """Accounts with a non-zero balance at ``end_date`` (QBO's TrialBalance rules)."""
    rows = _report(
        con, "trial_balance", {"realm_id": realm_id, "end_date": end_date, "basis": basis}
    )
    return [TrialBalanceRow(str(a), str(n), Decimal(v)) for a, n, v in rows]


def profit_and_loss(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    start_date: date,
    end_date: date,
    basis: Basis = "accrual",
) -> list[ProfitAndLossRow]:
    """Income-statement accounts over [start_date, end_date]."""
    params = {"realm_id": realm_id, "start_date": start_date, "end_date": end_date}
    rows = _report(con, "profit_and_loss", {**params, "basis": basis})
    return [ProfitAndLossRow(str(a), str(n), str(g), str(c), Decimal(v)) for a, n, g, c, v in rows]


def net_income(rows: list[ProfitAndLossRow]) -> Decimal:
    """Income minus expenses of a P&L."""
    return sum(
        (r.amount if r.account_class == "Revenue" else -r.amount for r in rows), Decimal("0.00")
    )


def aged_balances(
    con: duckdb.DuckDBPyConnection,
    realm_id: str,
    report_date: date,
    kind: AgingKind = "receivables",
    aging_period: int = 30,
    num_periods: int = 4,
) -> list[AgingRow]:
    """Open invoice (or bill) balances at ``report_date`` by party and aging bucket."""
    document, payment = _AGING_DOCUMENTS[kind]
    params = {
        "realm_id": realm_id,
        "report_date": report_date,
        "document": document,
        "payment": payment,
        "aging_period": aging_period,
        "num_periods": num_periods,
    }
    return [
        AgingRow(str(p), int(b), Decimal(v)) for p, b, v in _report(con, "aged_balances", params)
    ]
