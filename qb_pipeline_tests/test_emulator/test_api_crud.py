"""Create, read, update, delete and deactivate over real HTTP, and what clients get away with.

Real (API_FACTS 1.8-1.11, 11 items 4, 5, 9, 12): envelopes ``{"<Entity>": {...}, "time"}``,
SyncToken optimistic concurrency (stale -> 400/5010), sparse vs full updates, transactions
deleted with ``?operation=delete`` (later reads -> 400/610), name lists deactivated with
``Active: false`` (" (deleted)" appended, hidden from queries unless WHERE names Active); the
tolerance real SDKs rely on (empty strings, integer SyncToken, trailing ``&``, ``format=json``,
any ``minorversion``, gzip request bodies). Faked: nothing.
"""

from __future__ import annotations

import gzip
import json
import re

from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, assert_fault, sales_line

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
META_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def test_create_and_read_envelopes(realm: Realm) -> None:
    resp = realm.client.post("/customer", json={"DisplayName": "Doe5, Jane"})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"Customer", "time"} and TIME_RE.match(body["time"])
    created = body["Customer"]
    assert created["Id"].isdigit() and created["SyncToken"] == "0"
    assert created["domain"] == "QBO" and created["sparse"] is False
    assert META_RE.match(created["MetaData"]["CreateTime"])
    assert created["FullyQualifiedName"] == created["PrintOnCheckName"] == "Doe5, Jane"
    assert created["Balance"] == 0 and created["Active"] is True
    read = realm.client.get(f"/customer/{created['Id']}")
    assert read.status_code == 200
    assert read.json()["Customer"] == created


def test_sparse_update_changes_only_given_fields_and_bumps_sync_token(realm: Realm) -> None:
    created = realm.customer("Sparse Co", CompanyName="Sparse Inc", Notes="keep me")
    body = {"Id": created["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Sparse LLC"}
    updated = realm.update("Customer", body)
    assert updated["SyncToken"] == "1"
    assert updated["CompanyName"] == "Sparse LLC" and updated["Notes"] == "keep me"
    assert realm.read("Customer", created["Id"]) == updated


def test_full_update_clears_fields_not_sent(realm: Realm) -> None:
    created = realm.customer("Full Co", CompanyName="Full Inc", Notes="dropped")
    body = {
        "Id": created["Id"],
        "SyncToken": "0",
        "DisplayName": "Full Co",
        "CompanyName": "Full 2",
    }
    updated = realm.update("Customer", body, operation="update")
    assert updated["SyncToken"] == "1"
    assert updated["CompanyName"] == "Full 2" and "Notes" not in updated


def test_stale_sync_token_is_5010_and_changes_nothing(realm: Realm) -> None:
    created = realm.customer("Stale Co")
    realm.update("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
    resp = realm.client.post(
        "/customer", json={"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"}
    )
    error = assert_fault(resp, 400, "5010")
    assert error["Message"] == "Stale Object Error" and error["type"] == "ValidationFault"
    assert realm.read("Customer", created["Id"])["Notes"] == "a"


def test_delete_transaction_then_read_is_610(realm: Realm) -> None:
    invoice = realm.invoice(realm.customer("Del Co")["Id"], 100)
    resp = realm.client.post(
        "/invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    assert resp.status_code == 200
    assert resp.json()["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}
    error = assert_fault(realm.client.get(f"/invoice/{invoice['Id']}"), 400, "610")
    assert error["Message"] == "Object Not Found"
    again = realm.client.post(
        "/invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    assert_fault(again, 400, "610")


def test_delete_name_list_is_refused(realm: Realm) -> None:
    customer = realm.customer("Undeletable")
    resp = realm.client.post(
        "/customer", params={"operation": "delete"}, json={"Id": customer["Id"], "SyncToken": "0"}
    )
    assert_fault(resp, 400, "6000")
    assert realm.read("Customer", customer["Id"])["Active"] is True


def test_deactivate_appends_deleted_and_hides_from_queries(realm: Realm) -> None:
    customer = realm.customer("Gone Co")
    realm.customer("Kept Co")
    body = {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    inactive = realm.update("Customer", body)
    assert inactive["Active"] is False and inactive["SyncToken"] == "1"
    assert inactive["DisplayName"] == "Gone Co (deleted)"
    names = [c["DisplayName"] for c in realm.query("SELECT * FROM Customer")["Customer"]]
    assert names == ["Kept Co"]
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 1}
    both = realm.query("SELECT * FROM Customer WHERE Active IN (true, false)")["Customer"]
    assert sorted(c["DisplayName"] for c in both) == ["Gone Co (deleted)", "Kept Co"]
    only = realm.query("select * from customer where active = false")["Customer"]
    assert [c["Id"] for c in only] == [customer["Id"]]
    reactivated = realm.update(
        "Customer", {"Id": customer["Id"], "SyncToken": "1", "sparse": True, "Active": True}
    )
    assert reactivated["DisplayName"] == "Gone Co" and reactivated["Active"] is True


def test_unknown_path_is_400_code_500(realm: Realm) -> None:
    for path in ("/customer/1/5", "/nosuchentity", "/invoice/1/frobnicate"):
        error = assert_fault(realm.client.get(path), 400, "500")
        assert error["Message"] == "Unsupported Operation"


def test_non_numeric_id_is_2030(realm: Realm) -> None:
    error = assert_fault(realm.client.get("/customer/1.5"), 400, "2030", element="Id")
    assert error["Detail"] == "Id should be a valid number. Supplied value:1.5"


def test_python_quickbooks_payload_with_empty_strings_and_int_sync_token(realm: Realm) -> None:
    body = {
        "Active": True,
        "Balance": 0,
        "BalanceWithJobs": 0,
        "BillWithParent": False,
        "CompanyName": "",
        "DisplayName": "Amy's Bird Sanctuary",
        "FamilyName": "",
        "FullyQualifiedName": "",
        "GivenName": "",
        "IsProject": False,
        "Job": False,
        "Level": 0,
        "MiddleName": "",
        "Notes": "",
        "OpenBalanceDate": "",
        "PreferredDeliveryMethod": "",
        "PrimaryTaxIdentifier": "",
        "PrintOnCheckName": "",
        "ResaleNum": "",
        "Suffix": "",
        "SyncToken": 0,
        "Taxable": True,
        "Title": "",
        "domain": "QBO",
        "sparse": False,
    }
    created = realm.create("Customer", body)
    assert created["FullyQualifiedName"] == created["PrintOnCheckName"] == "Amy's Bird Sanctuary"
    assert "CompanyName" not in created and created["SyncToken"] == "0"
    updated = realm.update("Customer", {**created, "SyncToken": 0, "Notes": "int token"})
    assert updated["SyncToken"] == "1" and updated["Notes"] == "int token"


def test_url_tolerance_trailing_ampersand_format_and_minorversion(realm: Realm) -> None:
    base = str(realm.client.base_url)
    for query in (
        "?minorversion=75&",
        "?minorversion=3",
        "?format=json&minorversion=70&",
        "?requestid=&",
        "?&&",
    ):
        resp = realm.client.get(f"{base}/item/1{query}")
        assert resp.status_code == 200, (query, resp.text)
        assert resp.json()["Item"]["Name"] == "Services"
    created = realm.client.post(
        f"{base}/customer?minorversion=4&format=json&", json={"DisplayName": "Amp"}
    )
    assert created.status_code == 200 and created.json()["Customer"]["DisplayName"] == "Amp"


def test_gzip_encoded_bodies_are_accepted(realm: Realm) -> None:
    raw = gzip.compress(json.dumps({"DisplayName": "Zipped Co"}).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    resp = realm.client.post("/customer", content=raw, headers=headers)
    assert resp.status_code == 200 and resp.json()["Customer"]["DisplayName"] == "Zipped Co"
    query = gzip.compress(b"SELECT * FROM Customer WHERE DisplayName = 'Zipped Co'")
    resp = realm.client.post(
        "/query", content=query, headers={**headers, "Content-Type": "application/text"}
    )
    assert resp.status_code == 200
    assert resp.json()["QueryResponse"]["maxResults"] == 1


def test_garbled_gzip_body_is_a_fault_not_a_crash(realm: Realm) -> None:
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    for path in ("/customer", "/batch"):
        resp = realm.client.post(path, content=b'{"DisplayName": "plain"}', headers=headers)
        assert_fault(resp, 400, "2010")
    resp = realm.client.post(
        "/query",
        content=b"\x1f\x8b\x08 truncated",
        headers={**headers, "Content-Type": "application/text"},
    )
    assert_fault(resp, 400, "2010")
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 0}


def test_wrapped_and_bare_bodies_create_the_same(realm: Realm) -> None:
    bare = realm.create("Vendor", {"DisplayName": "Bare Vendor"})
    wrapped = realm.create("Vendor", {"Vendor": {"DisplayName": "Wrapped Vendor"}})
    assert int(wrapped["Id"]) == int(bare["Id"]) + 1
    assert wrapped["DisplayName"] == "Wrapped Vendor"


def test_full_update_of_lines_assigns_new_line_ids(realm: Realm) -> None:
    receipt = realm.create("SalesReceipt", {"Line": [sales_line(10), sales_line(20)]})
    assert [line.get("Id") for line in receipt["Line"]] == ["1", "2", None]
    body = {**receipt, "Line": [sales_line(35)]}
    updated = realm.update("SalesReceipt", body)
    assert updated["SyncToken"] == "1"
    assert [line.get("Id") for line in updated["Line"]] == ["3", None]
    assert updated["TotalAmt"] == 35 and updated["Line"][-1]["Amount"] == 35
