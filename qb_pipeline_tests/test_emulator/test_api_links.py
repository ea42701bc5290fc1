"""Server-computed fields, links between transactions and void, over real HTTP.

Real (API_FACTS 1.9, 1.12, 3.5-3.10, 11 items 8, 11, 12): Ids from one transaction sequence,
DocNumber sequence, line Ids and LineNum, the appended SubTotal line, TotalAmt, TxnTaxDetail,
Balance, DueDate from terms; payments, credit memos and bill payments reduce balances and add
LinkedTxn on both sides, UnappliedAmt and RemainingCredit follow, Customer and Vendor Balance
follow every change; void zeroes amounts, prepends "Voided" to PrivateNote, bumps SyncToken
and gives the applied amounts back. Faked: one 8% sales tax rate (tax code 2) stands for the
company's sales tax.
"""

from __future__ import annotations

from datetime import date, timedelta

from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, account_id, sales_line

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


def pay(realm: Realm, customer_id: str, total: float, *applied: tuple[str, str, float]) -> dict:
    """A Payment of ``total`` with lines (TxnType, TxnId, Amount)."""
    lines = [
        {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}
        for txn_type, txn_id, amount in applied
    ]
    return realm.create(
        "Payment", {"CustomerRef": {"value": customer_id}, "TotalAmt": total, "Line": lines}
    )


def test_invoice_computed_fields(realm: Realm) -> None:
    customer = realm.customer("Compute Co", PrimaryEmailAddr={"Address": "ap@compute.example"})
    first = realm.invoice(customer["Id"], 100)
    lines = [sales_line(50, Qty=2, UnitPrice=25, TaxCodeRef={"value": "TAX"}), sales_line(30)]
    second = realm.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": lines,
            "TxnDate": "2024-03-01",
            "SalesTermRef": {"value": "2"},
        },
    )
    assert int(second["Id"]) == int(first["Id"]) + 1
    assert int(second["DocNumber"]) == int(first["DocNumber"]) + 1
    assert [(x.get("Id"), x.get("LineNum"), x["DetailType"]) for x in second["Line"]] == [
        ("1", 1, "SalesItemLineDetail"),
        ("2", 2, "SalesItemLineDetail"),
        (None, None, "SubTotalLineDetail"),
    ]
    assert second["Line"][-1] == {
        "Amount": 80,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    tax = second["TxnTaxDetail"]
    assert tax["TxnTaxCodeRef"] == {"value": "2"} and tax["TotalTax"] == 4.0
    assert tax["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"] == 50
    assert second["TotalAmt"] == 84.0 and second["Balance"] == 84.0
    assert second["SalesTermRef"] == {"value": "2", "name": "Net 15"}
    assert second["DueDate"] == "2024-03-16"
    assert second["BillEmail"] == {"Address": "ap@compute.example"}
    assert second["CustomerRef"] == {"value": customer["Id"], "name": "Compute Co"}
    assert (
        first["DueDate"] == (date.fromisoformat(first["TxnDate"]) + timedelta(days=30)).isoformat()
    )
    assert realm.read("Customer", customer["Id"])["Balance"] == 184.0


def test_payment_links_both_ways_and_balances_follow(realm: Realm) -> None:
    customer = realm.customer("Payer")
    invoice = realm.invoice(customer["Id"], 100)
    payment = pay(realm, customer["Id"], 130, ("Invoice", invoice["Id"], 60))
    assert payment["UnappliedAmt"] == 70
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    after = realm.read("Invoice", invoice["Id"])
    assert after["Balance"] == 40
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert after["SyncToken"] == "1"
    assert realm.read("Customer", customer["Id"])["Balance"] == -30  # 100 owed - 130 paid


def test_credit_memo_applied_in_a_payment(realm: Realm) -> None:
    customer = realm.customer("Credited")
    invoice = realm.invoice(customer["Id"], 100)
    memo = realm.create(
        "CreditMemo", {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(30)]}
    )
    assert memo["RemainingCredit"] == 30 and memo["TotalAmt"] == 30
    assert realm.read("Customer", customer["Id"])["Balance"] == 70
    payment = pay(
        realm, customer["Id"], 0, ("Invoice", invoice["Id"], 30), ("CreditMemo", memo["Id"], 30)
    )
    assert payment["UnappliedAmt"] == 0
    memo_after = realm.read("CreditMemo", memo["Id"])
    assert memo_after["RemainingCredit"] == 0
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in memo_after["LinkedTxn"]
    invoice_after = realm.read("Invoice", invoice["Id"])
    assert invoice_after["Balance"] == 70
    assert invoice_after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert realm.read("Customer", customer["Id"])["Balance"] == 70


def test_bill_payment_links_both_ways_and_vendor_balance(realm: Realm) -> None:
    vendor = realm.vendor("Supplier")
    bill = realm.bill(vendor["Id"], 200)
    assert bill["Balance"] == 200 and bill["TotalAmt"] == 200
    assert realm.read("Vendor", vendor["Id"])["Balance"] == 200
    body = {
        "VendorRef": {"value": vendor["Id"]},
        "PayType": "Check",
        "TotalAmt": 150,
        "CheckPayment": {"BankAccountRef": {"value": account_id(realm, "Checking")}},
        "Line": [{"Amount": 150, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    }
    payment = realm.create("BillPayment", body)
    bill_after = realm.read("Bill", bill["Id"])
    assert bill_after["Balance"] == 50
    assert bill_after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "BillPaymentCheck"}]
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": bill["Id"], "TxnType": "Bill"}]
    assert realm.read("Vendor", vendor["Id"])["Balance"] == 50
    voided = realm.update(
        "BillPayment",
        {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
        operation="update",
        include="void",
    )
    assert voided["TotalAmt"] == 0 and voided["Line"] == [] and voided["PrivateNote"] == "Voided"
    assert int(voided["SyncToken"]) == int(payment["SyncToken"]) + 1
    assert realm.read("Bill", bill["Id"])["Balance"] == 200
    assert realm.read("Bill", bill["Id"])["LinkedTxn"] == []
    assert realm.read("Vendor", vendor["Id"])["Balance"] == 200


def test_void_invoice_zeroes_amounts_and_keeps_the_object(realm: Realm) -> None:
    customer = realm.customer("Void Co")
    invoice = realm.invoice(customer["Id"], 100, 50, PrivateNote="rush job")
    resp = realm.client.post(
        "/invoice",
        params={"operation": "void"},
        json={"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]},
    )
    assert resp.status_code == 200
    voided = resp.json()["Invoice"]
    assert voided["SyncToken"] == "1" and voided["Id"] == invoice["Id"]
    assert voided["PrivateNote"] == "Voided - rush job"
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert all(line["Amount"] == 0 for line in voided["Line"])
    assert voided["DocNumber"] == invoice["DocNumber"]
    assert realm.read("Customer", customer["Id"])["Balance"] == 0
    assert realm.query(f"SELECT * FROM Invoice WHERE Id = '{invoice['Id']}'")["maxResults"] == 1


def test_void_payment_restores_invoice_balance(realm: Realm) -> None:
    customer = realm.customer("Void payer")
    invoice = realm.invoice(customer["Id"], 100)
    payment = pay(realm, customer["Id"], 100, ("Invoice", invoice["Id"], 100))
    assert realm.read("Invoice", invoice["Id"])["Balance"] == 0
    assert realm.read("Customer", customer["Id"])["Balance"] == 0
    voided = realm.update(
        "Payment",
        {"Id": payment["Id"], "SyncToken": "0", "sparse": True},
        operation="update",
        include="void",
    )
    assert voided["TotalAmt"] == 0 and voided["UnappliedAmt"] == 0 and voided["Line"] == []
    assert voided["PrivateNote"] == "Voided" and voided["SyncToken"] == "1"
    invoice_after = realm.read("Invoice", invoice["Id"])
    assert invoice_after["Balance"] == 100 and invoice_after["LinkedTxn"] == []
    assert realm.read("Customer", customer["Id"])["Balance"] == 100


def test_void_sales_receipt(realm: Realm) -> None:
    receipt = realm.create("SalesReceipt", {"Line": [sales_line(40, Qty=2, UnitPrice=20)]})
    assert receipt["Balance"] == 0 and receipt["TotalAmt"] == 40
    voided = realm.update(
        "SalesReceipt",
        {"Id": receipt["Id"], "SyncToken": "0", "sparse": True},
        operation="update",
        include="void",
    )
    assert voided["SyncToken"] == "1" and voided["PrivateNote"] == "Voided"
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    item_line = voided["Line"][0]
    assert item_line["Amount"] == 0 and item_line["SalesItemLineDetail"]["Qty"] == 0


def test_deleting_a_payment_restores_the_invoice(realm: Realm) -> None:
    customer = realm.customer("Delete payer")
    invoice = realm.invoice(customer["Id"], 80)
    payment = pay(realm, customer["Id"], 80, ("Invoice", invoice["Id"], 80))
    resp = realm.client.post(
        "/payment", params={"operation": "delete"}, json={"Id": payment["Id"], "SyncToken": "0"}
    )
    assert resp.status_code == 200 and resp.json()["Payment"]["status"] == "Deleted"
    invoice_after = realm.read("Invoice", invoice["Id"])
    assert invoice_after["Balance"] == 80 and invoice_after["LinkedTxn"] == []
    assert realm.read("Customer", customer["Id"])["Balance"] == 80


def test_balance_change_bumps_customer_last_updated_not_sync_token(realm: Realm, emulator) -> None:
    customer = realm.customer("Touched")
    emulator.clock.advance(5)
    invoice = realm.invoice(customer["Id"], 10)
    after = realm.read("Customer", customer["Id"])
    assert after["SyncToken"] == "0"
    assert after["MetaData"]["LastUpdatedTime"] == invoice["MetaData"]["CreateTime"]
    assert after["MetaData"]["LastUpdatedTime"] != customer["MetaData"]["LastUpdatedTime"]
