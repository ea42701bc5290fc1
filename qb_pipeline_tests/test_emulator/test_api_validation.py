"""Validation and business-rule faults over real HTTP: exact status, code and element.

Real (API_FACTS 4.1-4.2, 11 items 9-10): 6240 duplicate DisplayName case-insensitively across
Customer, Vendor and Employee; 2020 required field naming the element; 2010 unknown
property; 6000 business rule (over-applying a payment); 6070 Amount != Qty x UnitPrice; 2300
unbalanced journal entry; every fault in the ``{"Fault": {"Error": [...], "type"}, "time"}``
envelope, HTTP 400, and nothing stored when a write is refused. Faked: nothing.
"""

from __future__ import annotations

import pytest

from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import (
    Realm,
    account_id,
    assert_fault,
    sales_line,
)

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


@pytest.mark.parametrize(
    ("first", "second", "name"),
    [
        ("Customer", "Customer", "acme corp"),
        ("Customer", "Vendor", "ACME Corp"),
        ("Vendor", "Employee", "Acme CORP"),
        ("Employee", "Customer", "acme Corp"),
    ],
)
def test_duplicate_display_name_is_6240(realm: Realm, first: str, second: str, name: str) -> None:
    realm.create(first, {"DisplayName": "Acme Corp"})
    resp = realm.client.post(f"/{second.lower()}", json={"DisplayName": name})
    error = assert_fault(resp, 400, "6240")
    assert error["Message"] == "Duplicate Name Exists Error"
    assert realm.query(f"SELECT COUNT(*) FROM {second}") == {
        "totalCount": 1 if first == second else 0
    }


def test_renaming_into_a_taken_name_is_6240(realm: Realm) -> None:
    realm.customer("Taken")
    other = realm.vendor("Free")
    resp = realm.client.post(
        "/vendor",
        json={"Id": other["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "TAKEN"},
    )
    assert_fault(resp, 400, "6240")
    assert realm.read("Vendor", other["Id"])["DisplayName"] == "Free"


@pytest.mark.parametrize(
    ("entity", "body", "element"),
    [
        ("invoice", {"Line": [sales_line(10)]}, "CustomerRef"),
        ("account", {"AccountType": "Bank"}, "Name"),
        ("item", {"Name": "No income", "Type": "Service"}, "IncomeAccountRef"),
        ("payment", {"CustomerRef": {"value": "1"}}, "TotalAmt"),
    ],
)
def test_missing_required_field_is_2020_with_element(
    realm: Realm, entity: str, body: dict, element: str
) -> None:
    realm.customer("Someone")
    error = assert_fault(realm.client.post(f"/{entity}", json=body), 400, "2020", element=element)
    assert error["Detail"] == f"Required parameter {element} is missing in the request"


def test_update_without_sync_token_is_2020(realm: Realm) -> None:
    customer = realm.customer("No Token")
    resp = realm.client.post("/customer", json={"Id": customer["Id"], "sparse": True, "Notes": "x"})
    assert_fault(resp, 400, "2020", element="SyncToken")


def test_unknown_property_is_2010(realm: Realm) -> None:
    customer = realm.customer("Json Co")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(5)], "BadJson": 1}
    error = assert_fault(realm.client.post("/invoice", json=body), 400, "2010", element="BadJson")
    assert 'Unrecognized field "BadJson"' in error["Detail"]
    assert "com.intuit.schema.finance.v3.Invoice" in error["Detail"]
    assert realm.query("SELECT COUNT(*) FROM Invoice") == {"totalCount": 0}


def test_malformed_json_is_a_400_fault(realm: Realm) -> None:
    resp = realm.client.post(
        "/customer", content=b'{"DisplayName": ', headers={"Content-Type": "application/json"}
    )
    assert_fault(resp, 400, "2010")
    resp = realm.client.post("/customer", json=["not", "an", "object"])
    assert_fault(resp, 400, "2010")


def test_over_applying_a_payment_is_6000(realm: Realm) -> None:
    customer = realm.customer("Overpaid")
    invoice = realm.invoice(customer["Id"], 100)
    line = {"Amount": 150, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    body = {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 150, "Line": [line]}
    error = assert_fault(realm.client.post("/payment", json=body), 400, "6000")
    assert (
        error["Message"] == "A business validation error has occurred while processing your request"
    )
    assert error["Detail"].startswith("Business Validation Error: ")
    assert realm.read("Invoice", invoice["Id"])["Balance"] == 100
    assert realm.read("Customer", customer["Id"])["Balance"] == 100
    assert realm.query("SELECT COUNT(*) FROM Payment") == {"totalCount": 0}


def test_applying_more_than_the_payment_total_is_6000(realm: Realm) -> None:
    customer = realm.customer("Short payer")
    invoice = realm.invoice(customer["Id"], 100)
    line = {"Amount": 80, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    body = {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 50, "Line": [line]}
    assert_fault(realm.client.post("/payment", json=body), 400, "6000")


def test_amount_not_qty_times_price_is_6070(realm: Realm) -> None:
    customer = realm.customer("Bad Math")
    line = sales_line(100, Qty=3, UnitPrice=30)
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}
    assert_fault(realm.client.post("/invoice", json=body), 400, "6070", element="Amount")
    good = realm.create("Invoice", {**body, "Line": [sales_line(90, Qty=3, UnitPrice=30)]})
    assert good["TotalAmt"] == 90


def test_unbalanced_journal_entry_is_2300(realm: Realm) -> None:
    checking, supplies = account_id(realm, "Checking"), account_id(realm, "Office Supplies")

    def line(amount: float, posting: str, account: str) -> dict:
        detail = {"PostingType": posting, "AccountRef": {"value": account}}
        return {
            "Amount": amount,
            "DetailType": "JournalEntryLineDetail",
            "JournalEntryLineDetail": detail,
        }

    body = {"Line": [line(100, "Debit", supplies), line(90, "Credit", checking)]}
    error = assert_fault(realm.client.post("/journalentry", json=body), 400, "2300")
    assert error["Message"] == "Transaction must balance"
    balanced = realm.create(
        "JournalEntry", {"Line": [line(100, "Debit", supplies), line(100, "Credit", checking)]}
    )
    assert balanced["TotalAmt"] == 100
    assert [x["Id"] for x in balanced["Line"]] == ["0", "1"]


def test_reference_to_inactive_customer_is_2500(realm: Realm) -> None:
    customer = realm.customer("Inactive ref")
    realm.update(
        "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    )
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(10)]}
    assert_fault(realm.client.post("/invoice", json=body), 400, "2500", element="CustomerRef")


@pytest.mark.parametrize(
    ("body", "code", "element"),
    [
        ({"Line": "abc"}, "2010", "Line"),
        ({"Line": ["abc"]}, "2010", "Line"),
        (
            {
                "Line": [
                    {"Amount": 1, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": "x"}
                ]
            },
            "2010",
            "SalesItemLineDetail",
        ),
        ({"Line": [sales_line(1)], "CustomerRef": "1"}, "2010", "CustomerRef"),
        ({"Line": [sales_line(1)], "CustomerRef": {"value": ["1"]}}, "2010", "value"),
        (
            {"Line": [sales_line(1)], "LinkedTxn": [{"TxnType": "Estimate"}]},
            "2020",
            "LinkedTxn.TxnId",
        ),
        ({"Line": [sales_line("nan")]}, "2090", "Amount"),
        ({"Line": [sales_line("1e999")]}, "2090", "Amount"),
        ({"Line": [sales_line(1, Qty="inf", UnitPrice=1)]}, "2090", "Qty"),
        ({"Line": [sales_line(1)], "TxnDate": "9999-12-31"}, "2060", "TxnDate"),
    ],
)
def test_malformed_values_are_faults_and_store_nothing(
    realm: Realm, body: dict, code: str, element: str
) -> None:
    customer = realm.customer("Shapes")
    payload = {"CustomerRef": {"value": customer["Id"]}, **body}
    assert_fault(realm.client.post("/invoice", json=payload), 400, code, element=element)
    assert realm.query("SELECT COUNT(*) FROM Invoice") == {"totalCount": 0}
    assert realm.client.get("/reports/TrialBalance").status_code == 200


def test_term_days_must_be_numbers(realm: Realm) -> None:
    assert_fault(
        realm.client.post("/term", json={"Name": "Soon", "DueDays": "abc"}), 400, "2090", "DueDays"
    )
    term = realm.create("Term", {"Name": "Net 10", "DueDays": "10"})
    assert term["DueDays"] == 10


def test_an_emulator_bug_answers_as_a_system_fault(realm: Realm, emulator, monkeypatch) -> None:
    def broken(realm_id: str) -> None:
        raise RuntimeError("simulated emulator bug")

    monkeypatch.setattr(emulator, "books", broken)
    error = assert_fault(realm.client.get("/item/1"), 500, "10000")
    assert error["type"] == "SystemFault"
    monkeypatch.undo()
    assert realm.client.get("/item/1").status_code == 200
