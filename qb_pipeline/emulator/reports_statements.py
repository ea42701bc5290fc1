"""TrialBalance, ProfitAndLoss and BalanceSheet in QBO's JSON shape (see reports.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from qb_pipeline.emulator.ledger import Posting
from qb_pipeline.emulator.ledger_accounts import ZERO
from qb_pipeline.emulator.reports_context import (
    GROUP_ORDER,
    PL_GROUPS,
    ReportContext,
    closing_balances,
    net_by_account,
)
from qb_pipeline.emulator.reports_params import fiscal_year_start, id_filter
from qb_pipeline.emulator.reports_rows import (
    AccountTree,
    Row,
    cell,
    column,
    data_row,
    fmt,
    fmt_or_blank,
    labelled,
    section,
)


def _type_order(ctx: ReportContext, account_id: str) -> tuple[int, str]:
    group = ctx.group(account_id)
    rank = GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
    account = ctx.accounts.get(account_id) or {}
    return rank, str(account.get("FullyQualifiedName") or account.get("Name") or "").lower()


def trial_balance(ctx: ReportContext) -> dict:
    """Debit/credit balance per account at the period's end, with a TOTAL row."""
    period = ctx.period()
    balances = closing_balances(ctx, period.end)
    rows: list[Row] = []
    total_debit = total_credit = ZERO
    for account_id in sorted(balances, key=lambda a: _type_order(ctx, a)):
        net = balances[account_id]
        if not net:
            continue
        account = ctx.accounts.get(account_id) or {}
        name = str(account.get("FullyQualifiedName") or account.get("Name") or account_id)
        debit, credit = (net, ZERO) if net > 0 else (ZERO, -net)
        total_debit, total_credit = total_debit + debit, total_credit + credit
        rows.append(
            data_row(
                [cell(name, account_id), cell(fmt_or_blank(debit)), cell(fmt_or_blank(credit))]
            )
        )
    total = [cell("TOTAL"), cell(fmt(total_debit)), cell(fmt(total_credit))]
    rows.append(section("GrandTotal", summary=total))
    columns = [
        column("", "Account", "account"),
        column("Debit", "Money", "debit"),
        column("Credit", "Money", "credit"),
    ]
    return {
        "Header": ctx.statement_header(period, has_data=len(rows) > 1),
        "Columns": {"Column": columns},
        "Rows": {"Row": rows},
    }


def _group_section(
    ctx: ReportContext, group: str, title: str, amounts: Mapping[str, Decimal], has_data: bool
) -> tuple[Row, Decimal]:
    """A section of one account group: header, nested account rows, "Total <title>"."""
    mine = {a: ctx.display(a, n) for a, n in amounts.items() if ctx.group(a) == group}
    rows, total = AccountTree(ctx.accounts, mine).rows()
    summary = labelled(f"Total {title}", total if has_data else None)
    return section(group, header=labelled(title, None), rows=rows, summary=summary), total


def _pl_filter(ctx: ReportContext) -> Callable[[Posting], bool]:
    customers, vendors = id_filter(ctx.params, "customer"), id_filter(ctx.params, "vendor")

    def keep(posting: Posting) -> bool:
        if ctx.group(posting.account_id) not in PL_GROUPS:
            return False
        if customers and posting.customer_id not in customers:
            return False
        return not vendors or posting.vendor_id in vendors

    return keep


def profit_and_loss(ctx: ReportContext) -> dict:
    """Income statement for the period, in QBO's groups."""
    period = ctx.period()
    amounts = net_by_account(ctx.postings, start=period.start, end=period.end, keep=_pl_filter(ctx))
    rows = profit_and_loss_rows(ctx, amounts, has_data=bool(amounts))
    return {
        "Header": ctx.statement_header(period, has_data=bool(amounts)),
        "Columns": {
            "Column": [column("", "Account", "account"), column("Total", "Money", "total")]
        },
        "Rows": {"Row": rows},
    }


def balance_sheet(ctx: ReportContext) -> dict:
    """Assets, liabilities and equity at the period's end."""
    period = ctx.period()
    balances = closing_balances(ctx, period.end)
    year_start = fiscal_year_start(period.end)
    current = net_by_account(ctx.postings, start=year_start, end=period.end)
    net_income = -sum((n for a, n in current.items() if ctx.group(a) in PL_GROUPS), ZERO)
    has_data = any(p.txn_date <= period.end for p in ctx.postings)
    rows = balance_sheet_rows(ctx, balances, net_income, has_data=has_data)
    return {
        "Header": ctx.statement_header(period, has_data=has_data),
        "Columns": {
            "Column": [column("", "Account", "account"), column("Total", "Money", "total")]
        },
        "Rows": {"Row": rows},
    }


def profit_and_loss_rows(
    ctx: ReportContext, amounts: Mapping[str, Decimal], *, has_data: bool
) -> list[Row]:
    """Income, COGS, GrossProfit, Expenses, NetOperatingIncome, Other*, NetIncome sections."""

    def total_or_blank(value: Decimal) -> Decimal | None:
        return value if has_data else None

    groups = {ctx.group(a) for a in amounts}
    income_row, income = _group_section(ctx, "Income", "Income", amounts, has_data)
    rows = [income_row]
    cogs = ZERO
    if "COGS" in groups:
        cogs_row, cogs = _group_section(ctx, "COGS", "Cost of Goods Sold", amounts, has_data)
        rows.append(cogs_row)
    gross = income - cogs
    rows.append(section("GrossProfit", summary=labelled("Gross Profit", total_or_blank(gross))))
    expenses_row, expenses = _group_section(ctx, "Expenses", "Expenses", amounts, has_data)
    rows.append(expenses_row)
    operating = gross - expenses
    rows.append(
        section(
            "NetOperatingIncome",
            summary=labelled("Net Operating Income", total_or_blank(operating)),
        )
    )
    other = ZERO
    if groups & {"OtherIncome", "OtherExpenses"}:
        other_in_row, other_in = _group_section(
            ctx, "OtherIncome", "Other Income", amounts, has_data
        )
        other_out_row, other_out = _group_section(
            ctx, "OtherExpenses", "Other Expenses", amounts, has_data
        )
        other = other_in - other_out
        summary = labelled("Net Other Income", total_or_blank(other))
        rows += [other_in_row, other_out_row, section("NetOtherIncome", summary=summary)]
    net = labelled("Net Income", total_or_blank(operating + other))
    rows.append(section("NetIncome", summary=net))
    return rows


def _sections(
    ctx: ReportContext, spec: list[tuple[str, str]], balances: Mapping[str, Decimal], has_data: bool
) -> tuple[list[Row], Decimal]:
    """Non-empty group sections from ``spec`` [(group, title)], and their combined total."""
    rows: list[Row] = []
    total = ZERO
    for group, title in spec:
        if any(ctx.group(a) == group for a in balances):
            row, amount = _group_section(ctx, group, title, balances, has_data)
            rows.append(row)
            total += amount
    return rows, total


def _parent(
    group: str,
    title: str,
    children: list[Row],
    total: Decimal,
    has_data: bool,
) -> list[Row]:
    """A section wrapping ``children``; omitted (empty list) when it has none."""
    if not children:
        return []
    summary = labelled(f"Total {title}", total if has_data else None)
    return [section(group, header=labelled(title, None), rows=children, summary=summary)]


def _asset_rows(ctx: ReportContext, balances: Mapping[str, Decimal], has_data: bool) -> Row:
    current, current_total = _sections(
        ctx,
        [
            ("BankAccounts", "Bank Accounts"),
            ("AR", "Accounts Receivable"),
            ("OtherCurrentAssets", "Other Current Assets"),
        ],
        balances,
        has_data,
    )
    rest, rest_total = _sections(
        ctx, [("FixedAssets", "Fixed Assets"), ("OtherAssets", "Other Assets")], balances, has_data
    )
    children = _parent("CurrentAssets", "Current Assets", current, current_total, has_data) + rest
    total = current_total + rest_total
    summary = labelled("TOTAL ASSETS", total if has_data else None)
    return section("TotalAssets", header=labelled("ASSETS", None), rows=children, summary=summary)


def balance_sheet_rows(
    ctx: ReportContext, balances: Mapping[str, Decimal], net_income: Decimal, *, has_data: bool
) -> list[Row]:
    """TotalAssets and TotalLiabilitiesAndEquity, as QBO nests them."""
    bs = {a: n for a, n in balances.items() if ctx.group(a) not in PL_GROUPS}
    current, current_total = _sections(
        ctx,
        [
            ("AP", "Accounts Payable"),
            ("CreditCards", "Credit Cards"),
            ("OtherCurrentLiabilities", "Other Current Liabilities"),
        ],
        bs,
        has_data,
    )
    long_term, long_total = _sections(
        ctx, [("LongTermLiabilities", "Long-Term Liabilities")], bs, has_data
    )
    liabilities = (
        _parent("CurrentLiabilities", "Current Liabilities", current, current_total, has_data)
        + long_term
    )
    liabilities_total = current_total + long_total
    equity_accounts = {a: -n for a, n in bs.items() if ctx.group(a) == "Equity"}
    equity_rows, equity_total = AccountTree(ctx.accounts, equity_accounts).rows()
    equity_rows.append(data_row(labelled("Net Income", net_income), group="NetIncome"))
    equity_total += net_income
    equity = section(
        "Equity",
        header=labelled("Equity", None),
        rows=equity_rows,
        summary=labelled("Total Equity", equity_total if has_data else None),
    )
    children = _parent("Liabilities", "Liabilities", liabilities, liabilities_total, has_data)
    total = liabilities_total + equity_total
    summary = labelled("TOTAL LIABILITIES AND EQUITY", total if has_data else None)
    head = labelled("LIABILITIES AND EQUITY", None)
    return [
        _asset_rows(ctx, bs, has_data),
        section(
            "TotalLiabilitiesAndEquity", header=head, rows=[*children, equity], summary=summary
        ),
    ]
