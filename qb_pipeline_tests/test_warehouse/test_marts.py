"""Finance marts tie out to the cent with the emulator's own ledger and reports.

Real: a demo-size multi-currency company (plus a transfer, a vendor credit, a voided
invoice and a deleted bill), the emulator's ``ledger.postings`` and ``build_report``
(TrialBalance, ProfitAndLoss, AgedReceivables, AgedPayables, BalanceSheet) for the same
periods. The emulator's documented simplifications are matched on purpose: FX rounding
cents land on the largest non-control line instead of an exchange gain/loss account, and
aging does not net unapplied payments or credits. Synthetic special accounts are named
``emu-*`` there and ``synthetic-*`` here. Faked: raw rows come from the fixture loader.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.ledger import postings
from qb_pipeline.emulator.reports import build_report
from qb_pipeline.warehouse import marts
from qb_pipeline_tests.test_warehouse.raw_fixture import build_warehouse
from qb_pipeline_tests.test_warehouse.test_staging import add_missing_types

AS_OF = date(2026, 11, 27)
ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def demo() -> tuple[duckdb.DuckDBPyConnection, Books]:
    books = Emulator().create_realm(size="demo", seed=0, multi_currency=True)
    add_missing_types(books)
    con = duckdb.connect()
    build_warehouse(con, books, as_of=AS_OF)
    return con, books


def report(books: Books, name: str, **params: str) -> dict:
    return build_report(
        name, books.objects, params, today=AS_OF, company_name="x", now_text="2026-11-27"
    )


def data_rows(rows: list[dict]) -> Iterator[list[dict]]:
    """ColData of every Data row with an id, sections walked recursively."""
    for row in rows:
        if row.get("type") == "Data" and row["ColData"][0].get("id"):
            yield row["ColData"]
        yield from data_rows((row.get("Rows") or {}).get("Row") or [])


def summary(rows: list[dict], group: str) -> Decimal:
    found = [r for r in rows if r.get("group") == group]
    return Decimal(found[0]["Summary"]["ColData"][-1]["value"])


def norm(account_id: str) -> str:
    return account_id.replace("synthetic-", "emu-")


def test_gl_debits_equal_credits_per_transaction_on_both_bases(demo) -> None:
    con, _books = demo
    for table in ("general_ledger", "general_ledger_cash"):
        unbalanced = con.execute(
            f"SELECT count(*) FROM (SELECT transaction_source, transaction_id FROM marts.{table} "
            "GROUP BY ALL HAVING sum(debit_amount) <> sum(credit_amount) "
            "OR sum(CASE WHEN transaction_type = 'debit' THEN amount ELSE -amount END) <> 0)"
        ).fetchall()[0][0]
        assert unbalanced == 0, table


def test_gl_equals_the_emulator_postings_per_transaction_and_account(demo) -> None:
    con, books = demo
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for posting in postings(books.objects):
        expected[(posting.txn_type, posting.txn_id, posting.account_id)] += posting.net
    rows = con.execute(
        "SELECT transaction_source, transaction_id, account_id, "
        "sum(debit_amount - credit_amount) FROM marts.general_ledger GROUP BY ALL"
    ).fetchall()
    actual = {(s, t, norm(a)): net for s, t, a, net in rows}
    assert {k: v for k, v in actual.items() if v} == {k: v for k, v in expected.items() if v}
    sources = {s for s, _t, _a in actual}
    assert sources >= {
        "Invoice",
        "Payment",
        "Bill",
        "BillPayment",
        "Purchase",
        "JournalEntry",
        "Deposit",
        "CreditMemo",
        "SalesReceipt",
        "RefundReceipt",
        "Transfer",
        "VendorCredit",
    }


def test_voided_transactions_post_nothing(demo) -> None:
    con, books = demo
    voided = [
        i["Id"]
        for i in books.objects["Invoice"].values()
        if str(i.get("PrivateNote", "")).startswith("Voided")
    ]
    assert voided
    posted = con.execute(
        "SELECT count(*) FROM marts.general_ledger WHERE transaction_source = 'Invoice' "
        "AND list_contains(?, transaction_id)",
        [voided],
    ).fetchall()[0][0]
    assert posted == 0


def test_running_balance_ends_at_the_account_balance(demo) -> None:
    con, _books = demo
    mismatched = con.execute(
        "SELECT count(*) FROM (SELECT account_id, sum(adjusted_converted_amount) total, "
        "arg_max(running_converted_balance, (transaction_date, transaction_source, "
        "TRY_CAST(transaction_id AS BIGINT), transaction_id, transaction_index)) last "
        "FROM marts.general_ledger GROUP BY ALL) WHERE total <> last"
    ).fetchall()[0][0]
    assert mismatched == 0


@pytest.mark.parametrize("end_date", ["2025-06-30", "2025-12-31", "2026-11-30"])
def test_trial_balance_ties_out_to_the_cent(demo, end_date: str) -> None:
    con, books = demo
    emulated = report(books, "TrialBalance", start_date="2026-01-01", end_date=end_date)
    expected = {}
    for cells in data_rows(emulated["Rows"]["Row"]):
        debit, credit = (Decimal(c["value"] or "0") for c in cells[1:3])
        expected[cells[0]["id"]] = debit - credit
    ours = marts.trial_balance(con, books.realm_id, date.fromisoformat(end_date))
    assert {norm(r.account_id): r.net for r in ours} == expected
    total = summary(emulated["Rows"]["Row"], "GrandTotal")
    assert sum((r.credit for r in ours), ZERO) == total
    assert sum((r.debit for r in ours), ZERO) == total


@pytest.mark.parametrize(
    ("start", "end"),
    [("2025-01-01", "2025-12-31"), ("2026-01-01", "2026-11-30"), ("2026-03-01", "2026-03-31")],
)
def test_profit_and_loss_ties_out_to_the_cent(demo, start: str, end: str) -> None:
    con, books = demo
    emulated = report(books, "ProfitAndLoss", start_date=start, end_date=end)
    expected = {c[0]["id"]: Decimal(c[1]["value"]) for c in data_rows(emulated["Rows"]["Row"])}
    ours = marts.profit_and_loss(
        con, books.realm_id, date.fromisoformat(start), date.fromisoformat(end)
    )
    assert {norm(r.account_id): r.amount for r in ours if r.amount} == {
        k: v for k, v in expected.items() if v
    }
    assert marts.net_income(ours) == summary(emulated["Rows"]["Row"], "NetIncome")


def aging_by_party(emulated: dict) -> dict[tuple[str, int], Decimal]:
    result = {}
    for cells in data_rows(emulated["Rows"]["Row"]):
        for bucket, c in enumerate(cells[1:-1]):
            if c["value"]:
                result[(cells[0]["id"], bucket)] = Decimal(c["value"])
    return result


@pytest.mark.parametrize("report_date", ["2025-09-30", "2026-11-27"])
@pytest.mark.parametrize(
    ("kind", "name"), [("receivables", "AgedReceivables"), ("payables", "AgedPayables")]
)
def test_aging_ties_out_to_the_cent(demo, report_date: str, kind: str, name: str) -> None:
    con, books = demo
    emulated = report(books, name, report_date=report_date)
    ours = marts.aged_balances(con, books.realm_id, date.fromisoformat(report_date), kind)
    assert {(r.party_id, r.bucket): r.amount for r in ours} == aging_by_party(emulated)
    grand = summary(emulated["Rows"]["Row"], "GrandTotal")
    assert sum((r.amount for r in ours), ZERO) == grand
    assert grand > 0


def test_balance_sheet_matches_the_emulator_and_balances(demo) -> None:
    con, books = demo
    emulated = report(books, "BalanceSheet", start_date="2026-01-01", end_date="2026-10-31")
    rows = con.execute(
        "SELECT account_class, sum(converted_amount) FROM marts.balance_sheet "
        "WHERE basis = 'accrual' AND calendar_date = DATE '2026-10-01' GROUP BY ALL"
    ).fetchall()
    by_class = dict(rows)
    assert by_class["Asset"] == summary(emulated["Rows"]["Row"], "TotalAssets")
    assert by_class["Liability"] + by_class["Equity"] == summary(
        emulated["Rows"]["Row"], "TotalLiabilitiesAndEquity"
    )
    unbalanced = con.execute(
        "SELECT count(*) FROM (SELECT basis, calendar_date FROM marts.balance_sheet GROUP BY ALL "
        "HAVING sum(CASE WHEN account_class = 'Asset' THEN converted_amount "
        "ELSE -converted_amount END) <> 0)"
    ).fetchall()[0][0]
    assert unbalanced == 0


def test_cash_flow_effects_add_up_to_the_change_in_cash(demo) -> None:
    con, _books = demo
    off = con.execute(
        "SELECT count(*) FROM (SELECT basis, cash_flow_period FROM marts.cash_flow_statement "
        "GROUP BY ALL HAVING sum(cash_flow_converted_amount) FILTER "
        "(WHERE cash_flow_type <> 'Cash or Cash Equivalents') <> sum(cash_flow_converted_amount) "
        "FILTER (WHERE cash_flow_type = 'Cash or Cash Equivalents'))"
    ).fetchall()[0][0]
    assert off == 0


def test_invoice_balance_is_total_minus_applied_payments_and_status(demo) -> None:
    con, books = demo
    rows = con.execute(
        "SELECT transaction_type, transaction_id, total_amount, current_balance, "
        "computed_balance, status, is_overdue, days_overdue, aging_bucket "
        "FROM marts.ap_ar_enhanced"
    ).fetchall()
    assert len(rows) == len(books.objects["Invoice"]) + len(books.objects["Bill"])
    statuses = set()
    for kind, doc_id, total, balance, computed, status, overdue, days, bucket in rows:
        assert balance == computed, (kind, doc_id)
        source = books.objects["Invoice" if kind == "invoice" else "Bill"][doc_id]
        assert balance == Decimal(str(source["Balance"]))
        statuses.add(status)
        if status == "Open":
            assert balance == total > 0
        if status == "Partially Paid":
            assert 0 < balance < total
        if status in ("Paid", "Voided"):
            assert balance == 0 and not overdue and days == 0 and bucket is None
        if overdue:
            assert days > 0 and bucket != "Current"
    assert statuses == {"Open", "Partially Paid", "Paid", "Voided"}


def test_profit_and_loss_mart_sums_to_the_report_per_basis(demo) -> None:
    con, books = demo
    mart = con.execute(
        "SELECT sum(CASE WHEN account_class = 'Revenue' THEN converted_amount "
        "ELSE -converted_amount END) FROM marts.profit_and_loss WHERE basis = 'accrual' "
        "AND calendar_date BETWEEN DATE '2026-01-01' AND DATE '2026-11-01'"
    ).fetchall()[0][0]
    ours = marts.profit_and_loss(con, books.realm_id, date(2026, 1, 1), date(2026, 11, 30))
    assert mart == marts.net_income(ours)


def test_cash_basis_recognises_income_as_it_is_paid() -> None:
    emulator = Emulator()
    books = emulator.create_realm()  # empty company with the starter chart
    customer = books.create("Customer", {"DisplayName": "Cash Basis Co"})
    item = books.create(
        "Item", {"Name": "Consulting", "Type": "Service", "IncomeAccountRef": {"value": "3"}}
    )
    invoice = books.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TxnDate": "2026-02-01",
            "Line": [
                {
                    "Amount": 100.0,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"]},
                        "Qty": 1,
                        "UnitPrice": 100.0,
                    },
                }
            ],
        },
    )
    books.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 40.0,
            "TxnDate": "2026-03-01",
            "Line": [
                {"Amount": 40.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    con = duckdb.connect()
    build_warehouse(con, books, as_of=date(2026, 3, 31))
    period = (books.realm_id, date(2026, 1, 1), date(2026, 12, 31))
    assert marts.net_income(marts.profit_and_loss(con, *period, basis="accrual")) == 100
    assert marts.net_income(marts.profit_and_loss(con, *period, basis="cash")) == 40
    status = con.execute("SELECT status, is_overdue FROM marts.ap_ar_enhanced").fetchall()
    assert status == [("Partially Paid", True)]


def test_rebuild_is_idempotent(demo) -> None:
    con, _books = demo
    checksum = "SELECT count(*), sum(hash(g)) FROM marts.general_ledger AS g"
    before = con.execute(checksum).fetchall()
    marts.build_marts(con, as_of=AS_OF)
    assert con.execute(checksum).fetchall() == before
