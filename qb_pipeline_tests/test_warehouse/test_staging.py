"""Staging layer over an emulator company loaded straight into raw (see raw_fixture).

Real: the demo-size multi-currency company the emulator generates, plus a transfer and a
vendor credit (the generator makes none), a voided invoice and deleted transactions; two
realms in one warehouse. Faked: raw rows come from the fixture loader, not from a sync.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.books import Books
from qb_pipeline.warehouse.staging import build_staging, row_counts
from qb_pipeline_tests.test_warehouse.raw_fixture import load_books

STAGED = {
    "Account": ("account", "account_id"),
    "Customer": ("customer", "customer_id"),
    "Vendor": ("vendor", "vendor_id"),
    "Item": ("item", "item_id"),
    "Class": ('"class"', "class_id"),
    "Department": ("department", "department_id"),
    "Term": ("term", "term_id"),
    "PaymentMethod": ("payment_method", "payment_method_id"),
    "Employee": ("employee", "employee_id"),
    "Invoice": ("invoice", "invoice_id"),
    "Payment": ("payment", "payment_id"),
    "Bill": ("bill", "bill_id"),
    "BillPayment": ("bill_payment", "bill_payment_id"),
    "Purchase": ("purchase", "purchase_id"),
    "JournalEntry": ("journal_entry", "journal_entry_id"),
    "Deposit": ("deposit", "deposit_id"),
    "CreditMemo": ("credit_memo", "credit_memo_id"),
    "SalesReceipt": ("sales_receipt", "sales_receipt_id"),
    "RefundReceipt": ("refund_receipt", "refund_receipt_id"),
    "Estimate": ("estimate", "estimate_id"),
    "Transfer": ("transfer", "transfer_id"),
    "VendorCredit": ("vendor_credit", "vendor_credit_id"),
}


def add_missing_types(books: Books) -> None:
    """A transfer, a vendor credit, a voided invoice and a deleted bill on top of the generator."""
    vendor = next(iter(books.objects["Vendor"]))
    books.create(
        "Transfer",
        {"FromAccountRef": {"value": "4"}, "ToAccountRef": {"value": "5"}, "Amount": 250.0},
    )
    line = {"AccountRef": {"value": "42"}}
    books.create(
        "VendorCredit",
        {
            "VendorRef": {"value": vendor},
            "Line": [
                {
                    "Amount": 80.0,
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "AccountBasedExpenseLineDetail": line,
                }
            ],
        },
    )
    unpaid = [i for i in books.objects["Invoice"].values() if i["Balance"] == i["TotalAmt"] > 0]
    books.void("Invoice", {"Id": unpaid[0]["Id"], "SyncToken": unpaid[0]["SyncToken"]})
    bill = next(b for b in books.objects["Bill"].values() if not b.get("LinkedTxn"))
    books.delete("Bill", {"Id": bill["Id"], "SyncToken": bill["SyncToken"]})


@pytest.fixture(scope="module")
def demo() -> tuple[duckdb.DuckDBPyConnection, Books, Books]:
    emulator = Emulator()
    books = emulator.create_realm(size="demo", seed=0, multi_currency=True)
    add_missing_types(books)
    other = emulator.create_realm(size="tiny", seed=3)
    con = duckdb.connect()
    load_books(con, books)
    load_books(con, other)
    build_staging(con)
    return con, books, other


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    return con.execute(sql, params or []).fetchall()[0][0]


@pytest.mark.parametrize("entity", sorted(STAGED))
def test_staging_row_counts_equal_the_books_per_entity(demo, entity: str) -> None:
    con, books, other = demo
    table, _key = STAGED[entity]
    for realm in (books, other):
        staged = scalar(
            con, f"SELECT count(*) FROM staging.{table} WHERE realm_id = ?", [realm.realm_id]
        )
        assert staged == len(realm.objects[entity])
    assert len(books.objects[entity]) > 0


@pytest.mark.parametrize("entity", sorted(STAGED))
def test_keys_are_unique_per_realm(demo, entity: str) -> None:
    con, _books, _other = demo
    table, key = STAGED[entity]
    duplicates = scalar(
        con,
        f"SELECT count(*) FROM (SELECT realm_id, {key} FROM staging.{table} "
        "GROUP BY ALL HAVING count(*) > 1)",
    )
    assert duplicates == 0


def test_deleted_rows_stay_in_raw_but_not_in_staging(demo) -> None:
    con, books, _other = demo
    deleted = [(e, i) for e, ids in books.tombstones.items() for i in ids]
    assert {e for e, _ in deleted} >= {"Bill", "Purchase", "Estimate"}
    for entity, object_id in deleted:
        table, key = STAGED[entity]
        raw_table = table.strip('"')
        assert scalar(
            con,
            f"SELECT deleted FROM raw.{raw_table} WHERE realm_id = ? AND id = ?",
            [books.realm_id, object_id],
        )
        assert not scalar(
            con,
            f"SELECT count(*) FROM staging.{table} WHERE realm_id = ? AND {key} = ?",
            [books.realm_id, object_id],
        )


def test_money_is_decimal_18_2(demo) -> None:
    con, _books, _other = demo
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'staging' AND table_name = 'invoice'"
        ).fetchall()
    )
    assert types["total_amount"] == "DECIMAL(18,2)"
    assert types["home_total_amount"] == "DECIMAL(18,2)"
    assert types["transaction_date"] == "DATE"


def test_invoice_lines_and_tax_match_the_payload(demo) -> None:
    con, books, _other = demo
    rows = con.execute(
        "SELECT i.invoice_id, i.total_amount, i.total_tax, "
        "sum(l.amount) FILTER (WHERE l.detail_type = 'SalesItemLineDetail'), "
        "count(l.sales_item_item_id) "
        "FROM staging.invoice i JOIN staging.invoice_line l USING (realm_id, invoice_id) "
        "WHERE realm_id = ? GROUP BY ALL",
        [books.realm_id],
    ).fetchall()
    assert len(rows) == len(books.objects["Invoice"])
    for invoice_id, total, tax, items, item_lines in rows:
        source = books.objects["Invoice"][invoice_id]
        assert total == Decimal(str(source["TotalAmt"]))
        assert total == items + tax  # no discounts in the generated books
        expected = [x for x in source["Line"] if x["DetailType"] == "SalesItemLineDetail"]
        assert item_lines == len(expected)


def test_foreign_amounts_convert_at_the_transaction_rate(demo) -> None:
    con, books, _other = demo
    rows = con.execute(
        "SELECT invoice_id, currency_id, exchange_rate, home_total_amount FROM staging.invoice "
        "WHERE realm_id = ? AND currency_id <> 'USD'",
        [books.realm_id],
    ).fetchall()
    assert rows
    for invoice_id, _currency, rate, home in rows:
        source = books.objects["Invoice"][invoice_id]
        assert rate == Decimal(str(source["ExchangeRate"]))
        expected = Decimal(str(source["TotalAmt"])) * Decimal(str(source["ExchangeRate"]))
        assert home == expected.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        if source.get("HomeTotalAmt") is not None:
            assert abs(home - Decimal(str(source["HomeTotalAmt"]))) <= Decimal("0.01")


def test_payment_lines_link_the_invoices_they_pay(demo) -> None:
    con, books, _other = demo
    rows = con.execute(
        "SELECT payment_id, invoice_id, amount FROM staging.payment_line WHERE realm_id = ?",
        [books.realm_id],
    ).fetchall()
    expected = {
        (p["Id"], link["TxnId"], Decimal(str(line["Amount"])))
        for p in books.objects["Payment"].values()
        for line in p["Line"]
        for link in line["LinkedTxn"][:1]
        if link["TxnType"] == "Invoice"
    }
    assert {(p, i, a) for p, i, a in rows if i is not None} == expected


def test_addresses_are_keyed_by_owner_and_role(demo) -> None:
    con, books, _other = demo
    customer = next(c for c in books.objects["Customer"].values() if c.get("BillAddr"))
    address_id = scalar(
        con,
        "SELECT billing_address_id FROM staging.customer WHERE realm_id = ? AND customer_id = ?",
        [books.realm_id, customer["Id"]],
    )
    city = scalar(
        con,
        "SELECT city FROM staging.address WHERE realm_id = ? AND address_id = ?",
        [books.realm_id, address_id],
    )
    assert city == customer["BillAddr"]["City"]


def test_voided_invoice_is_staged_and_flagged(demo) -> None:
    con, books, _other = demo
    voided = [
        i["Id"]
        for i in books.objects["Invoice"].values()
        if str(i.get("PrivateNote", "")).startswith("Voided")
    ]
    flagged = con.execute(
        "SELECT invoice_id FROM staging.invoice WHERE realm_id = ? AND is_voided",
        [books.realm_id],
    ).fetchall()
    assert sorted(voided) == sorted(i for (i,) in flagged)
    assert voided


def test_rebuild_is_idempotent(demo) -> None:
    con, _books, _other = demo
    checksum = "SELECT sum(hash(i)) FROM staging.invoice_line AS i"
    before_counts, before_sum = row_counts(con, "staging"), scalar(con, checksum)
    build_staging(con)
    assert row_counts(con, "staging") == before_counts
    assert scalar(con, checksum) == before_sum
