"""Ledger postings and QBO reports computed from small hand-built books.

Real: report JSON shapes and QBO's accounting identities (trial balance balances, assets equal
liabilities plus equity, P&L net income equals the balance sheet's, aging total equals A/R).
Faked: the books are hand-made dicts in QBO's shapes, not produced by the emulator's API.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qb_pipeline.emulator.exceptions import FaultError
from qb_pipeline.emulator.ledger import Posting, build_ledger, postings
from qb_pipeline.emulator.reports import build_report
from qb_pipeline.emulator.reports_params import macro_range

TODAY = date(2024, 6, 30)
NOW = "2024-06-30T09:15:00-07:00"


def ref(value: str) -> dict[str, str]:
    return {"value": value}


def account(aid: str, name: str, kind: tuple[str, str], sub: str = "", parent: str = "") -> dict:
    """An Account row; ``kind`` is (AccountType, Classification)."""
    acc_type, classification = kind
    row = {
        "Id": aid,
        "Name": name,
        "FullyQualifiedName": name,
        "AccountType": acc_type,
        "Classification": classification,
        "AccountSubType": sub,
        "CurrencyRef": ref("USD"),
    }
    if parent:
        row.update(
            SubAccount=True,
            ParentRef=ref(parent),
            FullyQualifiedName=f"Landscaping Services:{name}",
        )
    return row


def sale(item: str, qty: int, price: str, tax: str = "NON") -> dict:
    amount = Decimal(price) * qty
    detail = {"ItemRef": ref(item), "Qty": qty, "UnitPrice": float(price), "TaxCodeRef": ref(tax)}
    return {
        "Amount": float(amount),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
    }


def expense(account_id: str, amount: float) -> dict:
    detail = {"AccountRef": ref(account_id), "BillableStatus": "NotBillable"}
    return {
        "Amount": amount,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": detail,
    }


def invoice(
    iid: str, customer: str, dates: tuple[str, str], lines: list, amounts: tuple, **extra: Any
) -> dict:
    """An Invoice; ``dates`` is (TxnDate, DueDate), ``amounts`` (TotalAmt, Balance)."""
    return {
        "Id": iid,
        "DocNumber": f"10{iid}",
        "CustomerRef": ref(customer),
        "TxnDate": dates[0],
        "DueDate": dates[1],
        "Line": lines,
        "TotalAmt": amounts[0],
        "Balance": amounts[1],
        **extra,
    }


def bill(vendor_bill: tuple[str, str], dates: tuple[str, str], lines: list, amounts: tuple) -> dict:
    """A Bill; ``vendor_bill`` is (Id, vendor Id)."""
    return {
        "Id": vendor_bill[0],
        "VendorRef": ref(vendor_bill[1]),
        "TxnDate": dates[0],
        "DueDate": dates[1],
        "Line": lines,
        "TotalAmt": amounts[0],
        "Balance": amounts[1],
    }


def _accounts() -> list[dict]:
    """A chart with a sub-account (Job Materials under Landscaping Services)."""
    accounts = [
        account("1", "Checking", ("Bank", "Asset"), "Checking"),
        account("2", "Savings", ("Bank", "Asset"), "Savings"),
        account(
            "3", "Accounts Receivable (A/R)", ("Accounts Receivable", "Asset"), "AccountsReceivable"
        ),
        account("4", "Undeposited Funds", ("Other Current Asset", "Asset"), "UndepositedFunds"),
        account(
            "5", "Accounts Payable (A/P)", ("Accounts Payable", "Liability"), "AccountsPayable"
        ),
        account(
            "6",
            "Board of Equalization Payable",
            ("Other Current Liability", "Liability"),
            "GlobalTaxPayable",
        ),
        account("7", "Design income", ("Income", "Revenue"), "ServiceFeeIncome"),
        account("8", "Landscaping Services", ("Income", "Revenue"), "ServiceFeeIncome"),
        account("9", "Job Materials", ("Income", "Revenue"), "ServiceFeeIncome", parent="8"),
        account("10", "Rent or Lease", ("Expense", "Expense"), "RentOrLeaseOfBuildings"),
        account("11", "Opening Balance Equity", ("Equity", "Equity"), "OpeningBalanceEquity"),
        account("12", "Retained Earnings", ("Equity", "Equity"), "RetainedEarnings"),
        account("13", "Discounts given", ("Income", "Revenue"), "DiscountsRefundsGiven"),
        account("14", "Interest Earned", ("Other Income", "Revenue"), "InterestEarned"),
        account(
            "16", "Cost of Goods Sold", ("Cost of Goods Sold", "Expense"), "SuppliesMaterialsCogs"
        ),
        account("17", "Inventory Asset", ("Other Current Asset", "Asset"), "Inventory"),
        account("18", "Mastercard", ("Credit Card", "Liability"), "CreditCard"),
    ]
    return accounts


def _items() -> list[dict]:
    """Two services and an inventory item with a purchase cost."""
    items = [
        {"Id": "1", "Name": "Design", "Type": "Service", "IncomeAccountRef": ref("7")},
        {"Id": "2", "Name": "Gardening", "Type": "Service", "IncomeAccountRef": ref("9")},
        {
            "Id": "3",
            "Name": "Pump",
            "Type": "Inventory",
            "IncomeAccountRef": ref("8"),
            "ExpenseAccountRef": ref("16"),
            "AssetAccountRef": ref("17"),
            "PurchaseCost": 10,
        },
    ]
    return items


def _invoices() -> list[dict]:
    """FY2023 paid invoice; FY2024 partly paid, open, voided, EUR and overdue ones."""
    discount = {
        "Amount": 35.0,
        "DetailType": "DiscountLineDetail",
        "DiscountLineDetail": {
            "PercentBased": True,
            "DiscountPercent": 10,
            "DiscountAccountRef": ref("13"),
        },
    }
    subtotal = {"Amount": 350.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    invoices = [
        invoice("1", "2", ("2023-12-01", "2023-12-31"), [sale("1", 1, "500")], (500, 0)),
        invoice(
            "2",
            "1",
            ("2024-03-01", "2024-03-31"),
            [sale("1", 2, "100", "TAX"), sale("3", 3, "50", "TAX"), subtotal, discount],
            (343.0, 143.0),
            TxnTaxDetail={"TotalTax": 28.0},
        ),
        invoice("3", "2", ("2024-05-01", "2024-05-31"), [sale("2", 1, "1000")], (1000, 1000)),
        invoice(
            "4",
            "1",
            ("2024-05-10", "2024-06-09"),
            [
                {
                    "Amount": 0,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": ref("1"), "Qty": 0, "UnitPrice": 0},
                }
            ],
            (0, 0),
            PrivateNote="Voided",
        ),
        invoice(
            "5",
            "3",
            ("2024-06-20", "2024-07-20"),
            [sale("1", 1, "100")],
            (100, 100),
            CurrencyRef={"value": "EUR", "name": "Euro"},
            ExchangeRate=1.1,
        ),
        invoice("6", "2", ("2024-01-10", "2024-02-09"), [sale("1", 1, "75.50")], (75.5, 75.5)),
    ]
    return invoices


def _payments() -> list[dict]:
    """One payment to Checking, one to Undeposited Funds."""
    payments = [
        {
            "Id": "1",
            "CustomerRef": ref("2"),
            "TxnDate": "2023-12-15",
            "TotalAmt": 500,
            "DepositToAccountRef": ref("1"),
            "Line": [{"Amount": 500, "LinkedTxn": [{"TxnId": "1", "TxnType": "Invoice"}]}],
        },
        {
            "Id": "2",
            "CustomerRef": ref("1"),
            "TxnDate": "2024-04-01",
            "TotalAmt": 200,
            "Line": [{"Amount": 200, "LinkedTxn": [{"TxnId": "2", "TxnType": "Invoice"}]}],
        },
    ]
    return payments


def _bills() -> list[dict]:
    """A paid bill, an open one with an inventory line, one paid after 2024-06-30."""
    bills = [
        bill(("1", "2"), ("2024-02-01", "2024-03-02"), [expense("10", 1200)], (1200, 0)),
        bill(
            ("2", "1"),
            ("2024-06-01", "2024-07-01"),
            [
                {
                    "Amount": 50,
                    "DetailType": "ItemBasedExpenseLineDetail",
                    "ItemBasedExpenseLineDetail": {"ItemRef": ref("3"), "Qty": 5, "UnitPrice": 10},
                },
                expense("10", 100),
            ],
            (150, 150),
        ),
        bill(("3", "1"), ("2024-04-01", "2024-05-01"), [expense("10", 300)], (300, 0)),
    ]
    return bills


def _bill_payments() -> list[dict]:
    """By check, and by card after the aging date."""
    bill_payments = [
        {
            "Id": "1",
            "VendorRef": ref("2"),
            "TxnDate": "2024-02-15",
            "PayType": "Check",
            "CheckPayment": {"BankAccountRef": ref("1")},
            "TotalAmt": 1200,
            "Line": [{"Amount": 1200, "LinkedTxn": [{"TxnId": "1", "TxnType": "Bill"}]}],
        },
        {
            "Id": "2",
            "VendorRef": ref("1"),
            "TxnDate": "2024-07-05",
            "PayType": "CreditCard",
            "CreditCardPayment": {"CCAccountRef": ref("18")},
            "TotalAmt": 300,
            "Line": [{"Amount": 300, "LinkedTxn": [{"TxnId": "3", "TxnType": "Bill"}]}],
        },
    ]
    return bill_payments


def _other_transactions() -> dict[str, list[dict]]:
    """Opening JE, deposit with cash back, card purchase, sales receipt, transfer."""
    journal = {
        "Id": "1",
        "TxnDate": "2023-01-01",
        "Line": [
            {
                "Amount": 10000,
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": ref("1")},
            },
            {
                "Amount": 10000,
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": ref("11")},
            },
        ],
    }
    deposit = {
        "Id": "1",
        "TxnDate": "2024-04-05",
        "DepositToAccountRef": ref("1"),
        "TotalAmt": 230,
        "CashBack": {"AccountRef": ref("2"), "Amount": 20},
        "Line": [
            {"Amount": 200, "LinkedTxn": [{"TxnId": "2", "TxnType": "Payment"}]},
            {
                "Amount": 50,
                "DetailType": "DepositLineDetail",
                "DepositLineDetail": {"AccountRef": ref("14")},
            },
        ],
    }
    purchase = {
        "Id": "1",
        "TxnDate": "2024-03-10",
        "PaymentType": "CreditCard",
        "AccountRef": ref("18"),
        "TotalAmt": 45.25,
        "Line": [expense("10", 45.25)],
        "EntityRef": {"value": "2", "type": "Vendor"},
    }
    sales_receipt = {
        "Id": "1",
        "TxnDate": "2024-02-20",
        "CustomerRef": ref("1"),
        "DepositToAccountRef": ref("1"),
        "TotalAmt": 80,
        "Line": [sale("1", 1, "80")],
    }
    transfer = {
        "Id": "1",
        "TxnDate": "2024-05-15",
        "FromAccountRef": ref("1"),
        "ToAccountRef": ref("2"),
        "Amount": 1000,
    }
    return {
        "JournalEntry": [journal],
        "Deposit": [deposit],
        "Purchase": [purchase],
        "SalesReceipt": [sales_receipt],
        "Transfer": [transfer],
    }


def _names() -> dict[str, list[dict]]:
    """Customers and vendors."""
    customers = [
        {"Id": "1", "DisplayName": "Amy's Bird Sanctuary"},
        {"Id": "2", "DisplayName": "Cool Cars"},
        {"Id": "3", "DisplayName": "Euro GmbH", "CurrencyRef": ref("EUR")},
    ]
    vendors = [
        {"Id": "1", "DisplayName": "Norton Lumber"},
        {"Id": "2", "DisplayName": "Landlord LLC"},
    ]
    return {"Customer": customers, "Vendor": vendors}


def make_books() -> dict[str, dict[str, dict]]:
    """A small company: FY2023 profit 500, FY2024 to date a loss of 44.75."""
    lists = {
        "Account": _accounts(),
        "Item": _items(),
        "Invoice": _invoices(),
        "Payment": _payments(),
        "Bill": _bills(),
        "BillPayment": _bill_payments(),
        **_other_transactions(),
        **_names(),
    }
    books = {entity: {row["Id"]: row for row in rows} for entity, rows in lists.items()}
    estimate = {"Id": "1", "TxnDate": "2024-01-01", "TotalAmt": 999, "CustomerRef": ref("1")}
    books["Estimate"] = {"1": {**estimate, "Line": [sale("1", 1, "999")]}}
    return books


@pytest.fixture
def books() -> dict[str, dict[str, dict]]:
    return make_books()


def report(name: str, objects: dict, **params: str) -> dict:
    return build_report(name, objects, params, today=TODAY, company_name="Test Co", now_text=NOW)


def search_group(rows: list[dict], group: str) -> dict | None:
    """Depth-first search for the row with ``group``."""
    for row in rows:
        if row.get("group") == group:
            return row
        found = search_group(row.get("Rows", {}).get("Row", []), group)
        if found:
            return found
    return None


def find_group(rows: list[dict], group: str) -> dict:
    found = search_group(rows, group)
    assert found is not None, f"no group {group}"
    return found


def summary_amount(rows: list[dict], group: str) -> str:
    return find_group(rows, group)["Summary"]["ColData"][-1]["value"]


def all_rows(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        out.append(row)
        out += all_rows(row.get("Rows", {}).get("Row", []))
    return out


def txn_postings(objects: dict, txn_type: str, txn_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        p.account_id: (p.debit, p.credit)
        for p in postings(objects)
        if (p.txn_type, p.txn_id) == (txn_type, txn_id)
    }


# --- ledger -----------------------------------------------------------------------------


def test_every_transaction_balances_to_the_cent(books: dict) -> None:
    per_txn: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for posting in postings(books):
        per_txn[(posting.txn_type, posting.txn_id)] += posting.debit - posting.credit
        assert (posting.debit == 0) != (posting.credit == 0)
    # 5 invoices (one void posts nothing), 2 payments, 3 bills, 2 bill payments, 5 others
    assert len(per_txn) == 17
    assert all(total == 0 for total in per_txn.values())


def test_invoice_posts_income_discount_tax_and_inventory_cost(books: dict) -> None:
    assert txn_postings(books, "Invoice", "2") == {
        "3": (Decimal("343.00"), 0),
        "7": (0, Decimal("200.00")),
        "8": (0, Decimal("150.00")),
        "13": (Decimal("35.00"), 0),
        "6": (0, Decimal("28.00")),
        "16": (Decimal("30.00"), 0),
        "17": (0, Decimal("30.00")),
    }


def test_multi_currency_invoice_posts_home_amounts(books: dict) -> None:
    assert txn_postings(books, "Invoice", "5") == {
        "3": (Decimal("110.00"), 0),
        "7": (0, Decimal("110.00")),
    }


def test_voided_invoice_and_estimate_post_nothing(books: dict) -> None:
    assert txn_postings(books, "Invoice", "4") == {}
    assert txn_postings(books, "Estimate", "1") == {}


def test_payment_defaults_to_undeposited_funds_and_deposit_clears_it(books: dict) -> None:
    assert txn_postings(books, "Payment", "2") == {
        "4": (Decimal("200.00"), 0),
        "3": (0, Decimal("200.00")),
    }
    assert txn_postings(books, "Deposit", "1") == {
        "1": (Decimal("230.00"), 0),
        "4": (0, Decimal("200.00")),
        "14": (0, Decimal("50.00")),
        "2": (Decimal("20.00"), 0),
    }


def test_bill_item_lines_hit_inventory_and_bill_payment_credits_the_card(books: dict) -> None:
    assert txn_postings(books, "Bill", "2") == {
        "5": (0, Decimal("150.00")),
        "17": (Decimal("50.00"), 0),
        "10": (Decimal("100.00"), 0),
    }
    assert txn_postings(books, "BillPayment", "2") == {
        "5": (Decimal("300.00"), 0),
        "18": (0, Decimal("300.00")),
    }


def test_missing_sales_tax_account_gets_a_synthetic_row(books: dict) -> None:
    del books["Account"]["6"]
    ledger, chart = build_ledger(books)
    tax = [
        p
        for p in ledger
        if p.txn_id == "2" and p.txn_type == "Invoice" and p.credit == Decimal("28.00")
    ]
    assert [p.account_id for p in tax] == ["emu-sales-tax-payable"]
    assert chart.accounts["emu-sales-tax-payable"]["Name"] == "Sales Tax Payable"
    rows = report("TrialBalance", books)["Rows"]["Row"]
    assert ["Sales Tax Payable", "", "28.00"] in [
        [c["value"] for c in r["ColData"]] for r in rows[:-1]
    ]


sales_lines = st.lists(
    st.tuples(st.integers(1, 40), st.decimals("0.01", "999.99", places=2), st.booleans()),
    min_size=1,
    max_size=6,
)


def random_invoice(lines: list, rate: Decimal, tax: Decimal, discount: Decimal) -> dict:
    """A foreign-currency invoice (customer 3) with item lines, a discount and tax."""
    line_json = [sale("3" if pump else "1", qty, str(price)) for qty, price, pump in lines]
    subtotal = sum(Decimal(str(x["Amount"])) for x in line_json)
    detail = {"DiscountAccountRef": ref("13")}
    line_json.append(
        {
            "Amount": float(discount),
            "DetailType": "DiscountLineDetail",
            "DiscountLineDetail": detail,
        }
    )
    total = float(subtotal - discount + tax)
    dates = ("2024-06-01", "2024-07-01")
    return invoice(
        "9",
        "3",
        dates,
        line_json,
        (total, total),
        ExchangeRate=float(rate),
        TxnTaxDetail={"TotalTax": float(tax)},
    )


@settings(max_examples=60, deadline=None)
@given(
    lines=sales_lines,
    rate=st.decimals("0.0001", "250", places=4),
    tax_pct=st.decimals("0", "15", places=3),
    discount=st.decimals("0", "50", places=2),
)
def test_random_invoices_and_bills_balance(
    lines: list, rate: Decimal, tax_pct: Decimal, discount: Decimal
) -> None:
    objects = make_books()
    subtotal = sum((qty * price for qty, price, _ in lines), Decimal(0))
    tax = (subtotal * tax_pct / 100).quantize(Decimal("0.01"))
    objects["Invoice"] = {"9": random_invoice(lines, rate, tax, discount)}
    expenses = [expense("10", float(price)) for _, price, _ in lines]
    dates = ("2024-06-01", "2024-07-01")
    bill_row = bill(("9", "1"), dates, expenses, (float(sum(p for _, p, _ in lines)), 0))
    objects["Bill"] = {"9": {**bill_row, "ExchangeRate": float(rate)}}
    total = subtotal - discount + tax
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for posting in postings(objects):
        sums[(posting.txn_type, posting.txn_id)] += posting.net
    assert set(sums.values()) == {Decimal(0)}
    ar_net = sum(
        (
            p.net
            for p in postings(objects)
            if (p.txn_type, p.txn_id, p.account_id) == ("Invoice", "9", "3")
        ),
        Decimal(0),
    )
    # the control account carries exactly TotalAmt x ExchangeRate; residues go elsewhere
    assert ar_net == (total * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- reports ----------------------------------------------------------------------------


def test_trial_balance_debits_equal_credits_with_prior_profit_in_retained_earnings(
    books: dict,
) -> None:
    tb = report("TrialBalance", books, end_date="2024-06-30", start_date="2024-01-01")
    rows = tb["Rows"]["Row"]
    cells = {
        r["ColData"][0]["value"]: (r["ColData"][1]["value"], r["ColData"][2]["value"])
        for r in rows[:-1]
    }
    debits = sum(Decimal(d or 0) for d, _ in cells.values())
    credits = sum(Decimal(c or 0) for _, c in cells.values())
    assert debits == credits
    assert rows[-1] == {
        "Summary": {
            "ColData": [{"value": "TOTAL"}, {"value": f"{debits:.2f}"}, {"value": f"{credits:.2f}"}]
        },
        "type": "Section",
        "group": "GrandTotal",
    }
    assert cells["Retained Earnings"] == ("", "500.00")
    assert cells["Accounts Receivable (A/R)"] == ("1328.50", "")
    assert cells["Design income"] == ("", "465.50")  # this year only; 2023's 500 is in RE
    assert [c["ColTitle"] for c in tb["Columns"]["Column"]] == ["", "Debit", "Credit"]


def test_profit_and_loss_groups_and_totals(books: dict) -> None:
    pl = report("ProfitAndLoss", books, start_date="2024-01-01", end_date="2024-06-30")
    rows = pl["Rows"]["Row"]
    assert [r["group"] for r in rows] == [
        "Income",
        "COGS",
        "GrossProfit",
        "Expenses",
        "NetOperatingIncome",
        "OtherIncome",
        "OtherExpenses",
        "NetOtherIncome",
        "NetIncome",
    ]
    expected = {
        "Income": "1580.50",
        "COGS": "30.00",
        "GrossProfit": "1550.50",
        "Expenses": "1645.25",
        "NetOperatingIncome": "-94.75",
        "OtherIncome": "50.00",
        "OtherExpenses": "0.00",
        "NetOtherIncome": "50.00",
        "NetIncome": "-44.75",
    }
    assert {g: summary_amount(rows, g) for g in expected} == expected
    income_rows = find_group(rows, "Income")["Rows"]["Row"]
    assert income_rows[0] == {
        "ColData": [{"value": "Design income", "id": "7"}, {"value": "465.50"}],
        "type": "Data",
    }
    landscaping = income_rows[2]
    assert landscaping["Header"]["ColData"][0] == {"value": "Landscaping Services", "id": "8"}
    assert [r["ColData"][1]["value"] for r in landscaping["Rows"]["Row"]] == ["150.00", "1000.00"]
    assert landscaping["Summary"]["ColData"] == [
        {"value": "Total Landscaping Services"},
        {"value": "1150.00"},
    ]


def test_balance_sheet_balances_and_matches_profit_and_loss(books: dict) -> None:
    bs = report("BalanceSheet", books, start_date="2024-01-01", end_date="2024-06-30")
    pl = report("ProfitAndLoss", books, start_date="2024-01-01", end_date="2024-06-30")
    rows = bs["Rows"]["Row"]
    assert [r["group"] for r in rows] == ["TotalAssets", "TotalLiabilitiesAndEquity"]
    assert summary_amount(rows, "TotalAssets") == summary_amount(rows, "TotalLiabilitiesAndEquity")
    equity = {r["ColData"][0]["value"]: r for r in find_group(rows, "Equity")["Rows"]["Row"]}
    assert equity["Net Income"] == {
        "ColData": [{"value": "Net Income"}, {"value": "-44.75"}],
        "type": "Data",
        "group": "NetIncome",
    }
    assert equity["Net Income"]["ColData"][1]["value"] == summary_amount(
        pl["Rows"]["Row"], "NetIncome"
    )
    assert equity["Retained Earnings"]["ColData"] == [
        {"value": "Retained Earnings", "id": "12"},
        {"value": "500.00"},
    ]
    assert summary_amount(rows, "AR") == "1328.50"
    assert summary_amount(rows, "AP") == "450.00"
    assert find_group(rows, "CurrentAssets")["Header"]["ColData"][0]["value"] == "Current Assets"
    assert search_group(rows, "FixedAssets") is None  # empty sections are left out


def test_balance_sheet_holds_at_every_month_end(books: dict) -> None:
    for month in range(1, 8):
        end = date(2024, month, 28).isoformat()
        rows = report("BalanceSheet", books, end_date=end, start_date="2024-01-01")["Rows"]["Row"]
        assert summary_amount(rows, "TotalAssets") == summary_amount(
            rows, "TotalLiabilitiesAndEquity"
        )


def test_aged_receivables_buckets_and_total_equal_ar(books: dict) -> None:
    aged = report("AgedReceivables", books, report_date="2024-06-30")
    titles = [c["ColTitle"] for c in aged["Columns"]["Column"]]
    assert titles == ["", "Current", "1 - 30", "31 - 60", "61 - 90", "91 and over", "Total"]
    rows = aged["Rows"]["Row"]
    assert [[c["value"] for c in r["ColData"]] for r in rows[:-1]] == [
        ["Amy's Bird Sanctuary", "", "", "", "", "143.00", "143.00"],  # 91 days past due
        ["Cool Cars", "", "1000.00", "", "", "75.50", "1075.50"],
        ["Euro GmbH", "110.00", "", "", "", "", "110.00"],
    ]
    assert rows[-1]["group"] == "GrandTotal"
    assert [c["value"] for c in rows[-1]["Summary"]["ColData"]] == [
        "TOTAL",
        "110.00",
        "1000.00",
        "0.00",
        "0.00",
        "218.50",
        "1328.50",
    ]
    assert {"Name": "report_date", "Value": "2024-06-30"} in aged["Header"]["Option"]
    bs = report("BalanceSheet", books, end_date="2024-06-30")
    assert summary_amount(bs["Rows"]["Row"], "AR") == "1328.50"


def test_aged_payables_counts_bills_paid_after_the_report_date(books: dict) -> None:
    rows = report("AgedPayables", books, report_date="2024-06-30")["Rows"]["Row"]
    assert [[c["value"] for c in r["ColData"]] for r in rows[:-1]] == [
        ["Norton Lumber", "150.00", "", "300.00", "", "", "450.00"]
    ]
    later = report("AgedPayables", books, report_date="2024-07-10")["Rows"]["Row"]
    assert [c["value"] for c in later[0]["ColData"]] == [
        "Norton Lumber",
        "",
        "150.00",
        "",
        "",
        "",
        "150.00",
    ]


def test_aging_period_options_and_customer_filter(books: dict) -> None:
    aged = report(
        "AgedReceivables",
        books,
        report_date="2024-06-30",
        aging_period="15",
        num_periods="2",
        customer="2",
    )
    assert [c["ColTitle"] for c in aged["Columns"]["Column"]] == [
        "",
        "Current",
        "1 - 15",
        "16 and over",
        "Total",
    ]
    assert [[c["value"] for c in r["ColData"]] for r in aged["Rows"]["Row"][:-1]] == [
        ["Cool Cars", "", "", "1075.50", "1075.50"]
    ]
    assert aged["Header"]["Customer"] == "2"


def test_profit_and_loss_customer_filter_and_last_fiscal_year(books: dict) -> None:
    pl = report(
        "ProfitAndLoss", books, start_date="2024-01-01", end_date="2024-06-30", customer="2"
    )
    assert summary_amount(pl["Rows"]["Row"], "Income") == "1075.50"
    last = report("ProfitAndLoss", books, date_macro="Last Fiscal Year")
    assert (last["Header"]["StartPeriod"], last["Header"]["EndPeriod"]) == (
        "2023-01-01",
        "2023-12-31",
    )
    assert last["Header"]["DateMacro"] == "last fiscal year"
    assert summary_amount(last["Rows"]["Row"], "NetIncome") == "500.00"


def test_header_shape_and_default_period(books: dict) -> None:
    pl = report("ProfitAndLoss", books)
    assert set(pl) == {"Header", "Columns", "Rows"}
    assert pl["Header"] == {
        "Time": NOW,
        "ReportName": "ProfitAndLoss",
        "DateMacro": "this fiscal year-to-date",
        "ReportBasis": "Accrual",
        "SummarizeColumnsBy": "Total",
        "StartPeriod": "2024-01-01",
        "EndPeriod": "2024-06-30",
        "Currency": "USD",
        "Option": [
            {"Name": "AccountingStandard", "Value": "GAAP"},
            {"Name": "NoReportData", "Value": "false"},
        ],
    }
    assert pl["Columns"]["Column"][1] == {
        "ColTitle": "Total",
        "ColType": "Money",
        "MetaData": [{"Name": "ColKey", "Value": "total"}],
    }


@pytest.mark.parametrize(
    "name", ["TrialBalance", "ProfitAndLoss", "BalanceSheet", "AgedReceivables", "AgedPayables"]
)
def test_every_amount_is_a_two_decimal_string(books: dict, name: str) -> None:
    rows = all_rows(
        report(name, books, start_date="2024-01-01", end_date="2024-06-30")["Rows"]["Row"]
    )
    cells = [
        c
        for r in rows
        for part in ("ColData", "Header", "Summary")
        for c in (
            r.get(part, {}).get("ColData", []) if part != "ColData" else r.get("ColData", [])
        )[1:]
    ]
    assert cells
    assert all(re.fullmatch(r"-?\d+\.\d{2}|", c["value"]) for c in cells)


def test_empty_company_reports_no_data() -> None:
    pl = report("ProfitAndLoss", {})
    assert {"Name": "NoReportData", "Value": "true"} in pl["Header"]["Option"]
    assert [r["group"] for r in pl["Rows"]["Row"]] == [
        "Income",
        "GrossProfit",
        "Expenses",
        "NetOperatingIncome",
        "NetIncome",
    ]
    assert pl["Rows"]["Row"][0] == {
        "Header": {"ColData": [{"value": "Income"}, {"value": ""}]},
        "Summary": {"ColData": [{"value": "Total Income"}, {"value": ""}]},
        "type": "Section",
        "group": "Income",
    }
    tb = report("TrialBalance", {})
    assert tb["Rows"]["Row"][-1]["Summary"]["ColData"][1:] == [{"value": "0.00"}, {"value": "0.00"}]


@pytest.mark.parametrize(
    ("name", "params", "code"),
    [
        ("ProfitAndLoss", {"start_date": "2024-13-01"}, "2060"),
        ("AgedReceivables", {"report_date": "yesterday"}, "2060"),
        ("BalanceSheet", {"date_macro": "Next Century"}, "2170"),
        ("ProfitAndLoss", {"accounting_method": "Barter"}, "2170"),
        ("AgedPayables", {"aging_period": "0"}, "2080"),
        ("CashFlow", {}, "5030"),
        ("NoSuchReport", {}, "500"),
    ],
)
def test_bad_requests_raise_faults(books: dict, name: str, params: dict, code: str) -> None:
    with pytest.raises(FaultError) as caught:
        report(name, books, **params)
    assert caught.value.code == code
    assert caught.value.status == 400


def test_input_objects_are_not_modified(books: dict) -> None:
    before = copy.deepcopy(books)
    del books["Account"]["12"]
    before_without_re = copy.deepcopy(books)
    report("BalanceSheet", books)
    assert books == before_without_re
    assert "emu-retained-earnings" not in books["Account"]
    assert before["Account"]["12"]["Name"] == "Retained Earnings"


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("Today", ("2024-06-30", "2024-06-30")),
        ("This Month", ("2024-06-01", "2024-06-30")),
        ("Last Month", ("2024-05-01", "2024-05-31")),
        ("This Fiscal Year", ("2024-01-01", "2024-12-31")),
        ("this fiscal year-to-date", ("2024-01-01", "2024-06-30")),
        ("Last Fiscal Year", ("2023-01-01", "2023-12-31")),
        ("This Fiscal Quarter", ("2024-04-01", "2024-06-30")),
        ("All", ("2023-01-01", "2024-06-30")),
    ],
)
def test_date_macros(macro: str, expected: tuple[str, str]) -> None:
    start, end = macro_range(macro, TODAY, earliest=date(2023, 1, 1))
    assert (start.isoformat(), end.isoformat()) == expected


def test_posting_is_a_frozen_value() -> None:
    posting = Posting("Invoice", "1", TODAY, "3", Decimal("1.00"), Decimal(0))
    with pytest.raises(AttributeError):
        posting.debit = Decimal(2)  # type: ignore[misc]
    assert posting.net == Decimal("1.00")
