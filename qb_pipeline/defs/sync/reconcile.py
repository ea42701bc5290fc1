"""Tie-outs of the marts against QBO's own reports (plain Python; the checks call these).

Each ``tie_out_*`` reads one QBO report through the client (``/reports/<name>`` for the same
period), computes the same figures from the marts (``qb_pipeline.warehouse.marts``) and returns a
``TieOut``: the keys whose amounts differ, to the cent, with both sides. Accounts QBO lacks a
special account for are ``synthetic-<role>`` in the marts (``emu-<role>`` in the emulator's
reports); both are compared as ``special:<role>``. Zero amounts are ignored on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.warehouse import marts

ZERO = Decimal("0.00")
_SPECIAL_PREFIXES = ("synthetic-", "emu-")


@dataclass(frozen=True)
class TieOut:
    """One comparison: the report, its period, and every key where ours and QBO's differ."""

    report: str
    period: str
    ours_total: Decimal
    qbo_total: Decimal
    differences: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (ours, qbo)

    @property
    def passed(self) -> bool:
        return not self.differences and self.ours_total == self.qbo_total


def account_key(account_id: str) -> str:
    """The account id, with synthetic special accounts named by their role."""
    for prefix in _SPECIAL_PREFIXES:
        if account_id.startswith(prefix):
            return "special:" + account_id.removeprefix(prefix)
    return account_id


def data_rows(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """ColData of every Data row that names an entity, sections walked recursively."""
    for row in rows:
        if row.get("type") == "Data" and row["ColData"][0].get("id"):
            yield row["ColData"]
        yield from data_rows((row.get("Rows") or {}).get("Row") or [])


def summary_value(rows: list[dict[str, Any]], group: str) -> Decimal:
    """The last column of a section's Summary (GrandTotal, NetIncome ...), 0 if absent."""
    for row in rows:
        if row.get("group") == group:
            return _money(row["Summary"]["ColData"][-1].get("value"))
        found = summary_value((row.get("Rows") or {}).get("Row") or [], group)
        if found:
            return found
    return ZERO


def _money(text: str | None) -> Decimal:
    return Decimal(text) if text else ZERO


def compare(ours: Mapping[str, Decimal], qbo: Mapping[str, Decimal]) -> dict[str, tuple[str, str]]:
    """Keys whose non-zero amounts differ: key -> (ours, qbo) as text."""
    keys = {k for k, v in ours.items() if v} | {k for k, v in qbo.items() if v}
    return {
        key: (str(ours.get(key, ZERO)), str(qbo.get(key, ZERO)))
        for key in sorted(keys)
        if ours.get(key, ZERO) != qbo.get(key, ZERO)
    }


def _rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return (report.get("Rows") or {}).get("Row") or []


def tie_out_trial_balance(
    con: duckdb.DuckDBPyConnection, client: QBOClient, realm_id: str, end_date: date
) -> TieOut:
    """Net (debit - credit) per account at ``end_date``, ours vs QBO's TrialBalance."""
    start = date(end_date.year, 1, 1)
    report = client.report("TrialBalance", start_date=start, end_date=end_date)
    qbo: dict[str, Decimal] = {}
    for cells in data_rows(_rows(report)):
        qbo[account_key(cells[0]["id"])] = _money(cells[1].get("value")) - _money(
            cells[2].get("value")
        )
    rows = marts.trial_balance(con, realm_id, end_date)
    ours = {account_key(r.account_id): r.net for r in rows}
    return TieOut(
        "TrialBalance",
        f"through {end_date}",
        sum((r.debit for r in rows), ZERO),
        summary_value(_rows(report), "GrandTotal"),
        compare(ours, qbo),
    )


def tie_out_profit_and_loss(
    con: duckdb.DuckDBPyConnection, client: QBOClient, realm_id: str, start: date, end: date
) -> TieOut:
    """Amount per income-statement account over the period, ours vs QBO's ProfitAndLoss."""
    report = client.report("ProfitAndLoss", start_date=start, end_date=end)
    qbo = {
        account_key(cells[0]["id"]): _money(cells[1].get("value"))
        for cells in data_rows(_rows(report))
    }
    rows = marts.profit_and_loss(con, realm_id, start, end)
    ours = {account_key(r.account_id): r.amount for r in rows}
    return TieOut(
        "ProfitAndLoss",
        f"{start} to {end}",
        marts.net_income(rows),
        summary_value(_rows(report), "NetIncome"),
        compare(ours, qbo),
    )


def tie_out_aged_receivables(
    con: duckdb.DuckDBPyConnection, client: QBOClient, realm_id: str, report_date: date
) -> TieOut:
    """Open balance per customer and aging bucket, ours vs QBO's AgedReceivables."""
    report = client.report("AgedReceivables", report_date=report_date)
    qbo: dict[str, Decimal] = {}
    for cells in data_rows(_rows(report)):
        for bucket, cell in enumerate(cells[1:-1]):
            if cell.get("value"):
                qbo[f"{cells[0]['id']}/{bucket}"] = _money(cell["value"])
    rows = marts.aged_balances(con, realm_id, report_date, "receivables")
    ours = {f"{r.party_id}/{r.bucket}": r.amount for r in rows}
    return TieOut(
        "AgedReceivables",
        f"at {report_date}",
        sum((r.amount for r in rows), ZERO),
        summary_value(_rows(report), "GrandTotal"),
        compare(ours, qbo),
    )
