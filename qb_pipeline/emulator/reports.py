"""QBO Reports API answers computed from the realm's books: TrialBalance, ProfitAndLoss,
BalanceSheet, AgedReceivables, AgedPayables.

Real: the JSON shape (top-level ``Header``/``Columns``/``Rows``, no ``time`` envelope), header
fields (Time, ReportName, DateMacro, ReportBasis, StartPeriod, EndPeriod, SummarizeColumnsBy,
Currency, Customer/Vendor filters, Option list with AccountingStandard/NoReportData and
report_date for aging), the P&L groups (Income, COGS, GrossProfit, Expenses,
NetOperatingIncome, OtherIncome, OtherExpenses, NetOtherIncome, NetIncome; COGS and the
"other" sections only when they have accounts), the BalanceSheet tree (TotalAssets >
CurrentAssets > BankAccounts/AR/OtherCurrentAssets, FixedAssets, OtherAssets;
TotalLiabilitiesAndEquity > Liabilities > CurrentLiabilities > AP/CreditCards/
OtherCurrentLiabilities, LongTermLiabilities; Equity with Retained Earnings = prior fiscal
years' profit and a "Net Income" row), TrialBalance Debit/Credit columns with a GrandTotal
row, aging columns Current, 1 - 30 ... 91 and over, Total. All figures come from
``ledger.build_ledger`` (accrual basis, home currency).

Faked / our choices: ``accounting_method=Cash`` is accepted but figures stay accrual and the
header says ``ReportBasis: Accrual`` so a client can tell; ``summarize_column_by`` is ignored
(one Total column); the customer/vendor filter applies to P&L postings (by the transaction's
customer/vendor) and to aging, not to BalanceSheet/TrialBalance; an empty report shows ""
in its summaries, as the recorded no-data P&L does. A QBO report the emulator lacks
(CashFlow, GeneralLedger...) -> fault 5030 "Feature Not Supported"; a name QBO does not know
-> fault 500 "Unsupported Operation" (as for any unknown path); both HTTP 400.
Not implemented: ProfitAndLossDetail, GeneralLedger and the other detail/list reports,
multi-column (by month, customer...) layouts, class/department/item filters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date

from qb_pipeline.emulator.exceptions import FaultError, InvalidValue, UnsupportedOperation
from qb_pipeline.emulator.ledger import build_ledger
from qb_pipeline.emulator.reports_aging import aged_payables, aged_receivables
from qb_pipeline.emulator.reports_context import Objects, ReportContext
from qb_pipeline.emulator.reports_statements import balance_sheet, profit_and_loss, trial_balance

logger = logging.getLogger(__name__)

KNOWN_QBO_REPORTS = frozenset(
    {
        "ProfitAndLossDetail",
        "CashFlow",
        "AgedReceivableDetail",
        "AgedPayableDetail",
        "GeneralLedger",
        "TransactionList",
        "CustomerSales",
        "ItemSales",
        "DepartmentSales",
        "ClassSales",
        "AccountList",
        "JournalReport",
        "TaxSummary",
        "CustomerBalance",
        "CustomerBalanceDetail",
        "CustomerIncome",
        "VendorBalance",
        "VendorBalanceDetail",
        "VendorExpenses",
        "InventoryValuationSummary",
    }
)
"""QBO reports the emulator does not build (fault 5030 rather than "unknown path")."""
REPORT_BUILDERS: dict[str, Callable[[ReportContext], dict]] = {
    "TrialBalance": trial_balance,
    "ProfitAndLoss": profit_and_loss,
    "BalanceSheet": balance_sheet,
    "AgedReceivables": aged_receivables,
    "AgedPayables": aged_payables,
}


def _check_accounting_method(params: Mapping[str, str]) -> None:
    method = (params.get("accounting_method") or "Accrual").strip().lower()
    if method not in ("accrual", "cash"):
        raise InvalidValue(
            "2170",
            "Invalid Enumeration",
            f"Invalid accounting_method: {params.get('accounting_method')}. "
            "Supported values: Cash, Accrual",
            element="accounting_method",
        )


def build_report(
    name: str,
    objects: Objects,
    params: Mapping[str, str],
    *,
    today: date,
    company_name: str,
    home_currency: str = "USD",
    now_text: str,
) -> dict:
    """The report ``name`` as QBO returns it (top-level JSON, no envelope); FaultError if not."""
    if name not in REPORT_BUILDERS:
        if name in KNOWN_QBO_REPORTS:
            raise FaultError(
                "5030",
                "Feature Not Supported",
                f"Feature Not Supported: the emulator does not implement report {name}",
            )
        raise UnsupportedOperation(f"/reports/{name}")
    _check_accounting_method(params)
    ledger, chart = build_ledger(objects)
    retained_earnings_id = chart.special("retained-earnings")
    ctx = ReportContext(
        name,
        params,
        today,
        company_name,
        home_currency,
        now_text,
        objects,
        ledger,
        chart.accounts,
        retained_earnings_id,
    )
    logger.debug("building report %s with %d postings", name, len(ledger))
    return REPORT_BUILDERS[name](ctx)
