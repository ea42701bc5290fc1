"""Shared state of one report request: the ledger, account groups, header and balances.

Real: QBO's account-type-to-section mapping and sign conventions (assets and expenses shown
debit-positive, liabilities, equity and income credit-positive), header field order as
recorded. Faked: Retained Earnings is computed (prior fiscal years' profit folded into the
RetainedEarnings account, synthetic when the chart lacks one), never closed by a posting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qb_pipeline.emulator.ledger import Posting
from qb_pipeline.emulator.ledger_accounts import ZERO
from qb_pipeline.emulator.reports_params import ReportPeriod, fiscal_year_start, resolve_period

Objects = Mapping[str, Mapping[str, dict]]

# AccountType -> report group; Classification is the fallback for unknown types.
ACCOUNT_GROUPS: dict[str, str] = {
    "Bank": "BankAccounts",
    "Accounts Receivable": "AR",
    "Other Current Asset": "OtherCurrentAssets",
    "Fixed Asset": "FixedAssets",
    "Other Asset": "OtherAssets",
    "Accounts Payable": "AP",
    "Credit Card": "CreditCards",
    "Other Current Liability": "OtherCurrentLiabilities",
    "Long Term Liability": "LongTermLiabilities",
    "Equity": "Equity",
    "Income": "Income",
    "Cost of Goods Sold": "COGS",
    "Expense": "Expenses",
    "Other Income": "OtherIncome",
    "Other Expense": "OtherExpenses",
}
CLASSIFICATION_GROUPS = {
    "Asset": "OtherCurrentAssets",
    "Liability": "OtherCurrentLiabilities",
    "Equity": "Equity",
    "Revenue": "Income",
    "Expense": "Expenses",
}
GROUP_ORDER = list(dict.fromkeys(ACCOUNT_GROUPS.values()))
PL_GROUPS = frozenset({"Income", "COGS", "Expenses", "OtherIncome", "OtherExpenses"})
DEBIT_NORMAL = frozenset(
    {"BankAccounts", "AR", "OtherCurrentAssets", "FixedAssets", "OtherAssets"}
    | {"COGS", "Expenses", "OtherExpenses"}
)


@dataclass(frozen=True)
class ReportContext:
    """Everything a report builder needs: request, company and the realm's ledger."""

    name: str
    params: Mapping[str, str]
    today: date
    company_name: str
    home_currency: str
    now_text: str
    objects: Objects
    postings: tuple[Posting, ...]
    accounts: Mapping[str, Mapping[str, Any]]
    retained_earnings_id: str

    def group(self, account_id: str) -> str:
        account = self.accounts.get(account_id) or {}
        found = ACCOUNT_GROUPS.get(str(account.get("AccountType", "")))
        return found or CLASSIFICATION_GROUPS.get(str(account.get("Classification", "")), "")

    def display(self, account_id: str, net: Decimal) -> Decimal:
        """Debit-normal groups show debit minus credit, the others credit minus debit."""
        return net if self.group(account_id) in DEBIT_NORMAL else -net

    def period(self, default_macro: str = "This Fiscal Year-to-date") -> ReportPeriod:
        earliest = min((p.txn_date for p in self.postings), default=None)
        return resolve_period(
            self.params, today=self.today, earliest=earliest, default_macro=default_macro
        )

    def header(self, period: ReportPeriod, options: list[dict[str, str]], **extra: str) -> dict:
        head: dict[str, Any] = {"Time": self.now_text, "ReportName": self.name}
        if period.date_macro:
            head["DateMacro"] = period.date_macro
        head.update(extra)
        head["StartPeriod"] = period.start.isoformat()
        head["EndPeriod"] = period.end.isoformat()
        head["Currency"] = self.home_currency
        for name in ("customer", "vendor"):
            if self.params.get(name):
                head[name.capitalize()] = self.params[name]
        head["Option"] = options
        return head

    def statement_header(self, period: ReportPeriod, has_data: bool) -> dict:
        options = [
            {"Name": "AccountingStandard", "Value": "GAAP"},
            {"Name": "NoReportData", "Value": "false" if has_data else "true"},
        ]
        return self.header(period, options, ReportBasis="Accrual", SummarizeColumnsBy="Total")


def net_by_account(
    postings: tuple[Posting, ...] | list[Posting],
    *,
    end: date,
    start: date | None = None,
    keep: Callable[[Posting], bool] = lambda _: True,
) -> dict[str, Decimal]:
    """Debit-minus-credit per account over [start, end]; accounts with any posting appear."""
    totals: dict[str, Decimal] = {}
    for posting in postings:
        if posting.txn_date > end or (start is not None and posting.txn_date < start):
            continue
        if keep(posting):
            totals[posting.account_id] = totals.get(posting.account_id, ZERO) + posting.net
    return totals


def closing_balances(ctx: ReportContext, end: date) -> dict[str, Decimal]:
    """Net balances at ``end``: balance-sheet accounts cumulative, P&L accounts for the fiscal
    year to date, earlier P&L folded into Retained Earnings (what TB and BS show)."""
    year_start = fiscal_year_start(end)
    balances: dict[str, Decimal] = {}
    prior_profit_net: Decimal | None = None
    for account_id, net in net_by_account(ctx.postings, end=end).items():
        if ctx.group(account_id) not in PL_GROUPS:
            balances[account_id] = balances.get(account_id, ZERO) + net
    prior = net_by_account(ctx.postings, end=year_start - timedelta(days=1))
    for account_id, net in prior.items():
        if ctx.group(account_id) in PL_GROUPS:
            prior_profit_net = (prior_profit_net or ZERO) + net
    if prior_profit_net is not None:
        re_id = ctx.retained_earnings_id
        balances[re_id] = balances.get(re_id, ZERO) + prior_profit_net
    current = net_by_account(ctx.postings, start=year_start, end=end)
    balances.update({a: n for a, n in current.items() if ctx.group(a) in PL_GROUPS})
    return balances
