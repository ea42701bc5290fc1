"""Books: server-computed fields and side effects, straight on the per-realm state."""

from __future__ import annotations

import pytest

from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.clock import Clock
from qb_pipeline.emulator.exceptions import FaultError


def sale(customer_id: str, amount: float, qty: float = 1) -> dict:
    return {
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "Amount": amount * qty,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": qty, "UnitPrice": amount},
            }
        ],
    }


@pytest.fixture
def books() -> Books:
    return Books("9130000000000001", Clock())


def test_invoice_payment_credit_memo_balances_and_links(books: Books) -> None:
    customer = books.create("Customer", {"DisplayName": "Cool Cars"})
    invoice = books.create("Invoice", sale(customer["Id"], 100, qty=3))
    assert invoice["TotalAmt"] == 300 and invoice["Balance"] == 300
    assert invoice["Line"][-1] == {
        "Amount": 300.0,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    memo = books.create("CreditMemo", sale(customer["Id"], 40))
    assert memo["RemainingCredit"] == 40
    assert books.read("Customer", customer["Id"])["Balance"] == 260
    payment = books.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 200,
            "Line": [
                {"Amount": 240, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
                {"Amount": 40, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]},
            ],
        },
    )
    assert payment["UnappliedAmt"] == 0
    invoice = books.read("Invoice", invoice["Id"])
    assert invoice["Balance"] == 60 and invoice["SyncToken"] == "1"
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in invoice["LinkedTxn"]
    assert books.read("CreditMemo", memo["Id"])["RemainingCredit"] == 0
    assert books.read("Customer", customer["Id"])["Balance"] == 60
    books.delete("Payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]})
    assert books.read("Invoice", invoice["Id"])["Balance"] == 300
    assert books.read("CreditMemo", memo["Id"])["RemainingCredit"] == 40
    assert books.read("Customer", customer["Id"])["Balance"] == 260


def test_failed_update_changes_nothing(books: Books) -> None:
    customer = books.create("Customer", {"DisplayName": "A"})
    invoice = books.create("Invoice", sale(customer["Id"], 50))
    payment = books.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 50,
            "Line": [{"Amount": 50, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    before = {k: dict(v) for k, v in books.objects["Invoice"].items()}
    version = books.version
    with pytest.raises(FaultError) as fault:
        books.update(
            "Payment",
            {
                "Id": payment["Id"],
                "SyncToken": payment["SyncToken"],
                "sparse": True,
                "TotalAmt": 80,
                "Line": [
                    {"Amount": 80, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
                ],
            },
        )
    assert fault.value.code == "6000"
    assert books.objects["Invoice"] == before
    assert books.version == version
    assert books.read("Customer", customer["Id"])["Balance"] == 0


def test_ids_docnumbers_and_tombstones(books: Books) -> None:
    customer = books.create("Customer", {"DisplayName": "B"})
    vendor = books.create("Vendor", {"DisplayName": "C"})
    assert int(vendor["Id"]) == int(customer["Id"]) + 1  # one name sequence for people
    first = books.create("Invoice", sale(customer["Id"], 10))
    second = books.create("Estimate", sale(customer["Id"], 10))
    assert int(second["Id"]) == int(first["Id"]) + 1  # one sequence for transactions
    assert first["DocNumber"] == "1001"
    gone = books.delete("Invoice", {"Id": first["Id"], "SyncToken": "0"})
    assert gone == {"domain": "QBO", "status": "Deleted", "Id": first["Id"]}
    assert first["Id"] in books.tombstones["Invoice"]
    with pytest.raises(FaultError) as fault:
        books.read("Invoice", first["Id"])
    assert fault.value.code == "610"


def test_listener_sees_each_committed_change_once(books: Books) -> None:
    seen: list[tuple[str, str, str]] = []
    books.listener = lambda realm, entity, oid, op, when, deleted: seen.append((entity, oid, op))
    customer = books.create("Customer", {"DisplayName": "D"})
    with pytest.raises(FaultError):
        books.create("Customer", {"DisplayName": "d"})
    invoice = books.create("Invoice", sale(customer["Id"], 10))
    books.void("Invoice", {"Id": invoice["Id"], "SyncToken": "0"})
    assert seen == [
        ("Customer", customer["Id"], "Create"),
        ("Invoice", invoice["Id"], "Create"),
        ("Invoice", invoice["Id"], "Void"),
    ]


def test_account_balances_follow_postings(books: Books) -> None:
    customer = books.create("Customer", {"DisplayName": "E", "Taxable": False})
    books.create("Invoice", sale(customer["Id"], 120))
    ar = books.find("Account", "AccountSubType", "AccountsReceivable")
    assert ar["CurrentBalance"] == 120
    assert ar["SyncToken"] == "0"  # a side effect bumps LastUpdatedTime, not SyncToken
