"""/batch over real HTTP: create, update, delete, void and query items, faults per item.

Real (API_FACTS 1.15, 11 item 14): ``{"BatchItemRequest": [...]}`` answered with HTTP 200
and ``{"BatchItemResponse": [...], "time"}`` in request order, each item carrying its bId
and the entity, a QueryResponse or a Fault; more than 30 items -> 400 fault 1040; an empty
batch -> 400. Faked (documented, never observed): ``optionsData: "void"`` voids.
"""

from __future__ import annotations

from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, assert_fault, sales_line

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


def batch(realm: Realm, items: list[dict]) -> list[dict]:
    resp = realm.client.post("/batch", json={"BatchItemRequest": items})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"BatchItemResponse", "time"}
    return body["BatchItemResponse"]


def test_mixed_batch_runs_in_order_with_per_item_faults(realm: Realm) -> None:
    customer = realm.customer("Batch Co")
    invoice = realm.invoice(customer["Id"], 100)
    receipt = realm.create("SalesReceipt", {"Line": [sales_line(400)]})
    items = [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "999", "SyncToken": "0"}},
        {
            "bId": "bid3",
            "operation": "update",
            "SalesReceipt": {
                "Id": receipt["Id"],
                "SyncToken": "7",
                "sparse": True,
                "PrivateNote": "x",
            },
        },
        {"bId": "bid4", "Query": "select * from SalesReceipt where TotalAmt > '300.00'"},
        {
            "bId": "bid5",
            "operation": "update",
            "Customer": {
                "Id": customer["Id"],
                "SyncToken": "0",
                "sparse": True,
                "Notes": "batched",
            },
        },
        {"bId": "bid6", "operation": "delete", "Invoice": {"Id": invoice["Id"], "SyncToken": "0"}},
    ]
    out = batch(realm, items)
    assert [item["bId"] for item in out] == [f"bid{n}" for n in range(1, 7)]
    assert (
        set(out[0]) == {"Vendor", "bId"}
        and out[0]["Vendor"]["DisplayName"] == "Boraski Family Store"
    )
    assert (
        out[1]["Fault"]["Error"][0]["code"] == "610"
        and out[1]["Fault"]["type"] == "ValidationFault"
    )
    assert out[2]["Fault"]["Error"][0]["code"] == "5010"
    assert out[3]["QueryResponse"] == {
        "SalesReceipt": [receipt],
        "startPosition": 1,
        "maxResults": 1,
    }
    assert out[4]["Customer"]["Notes"] == "batched" and out[4]["Customer"]["SyncToken"] == "1"
    assert out[5]["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}
    assert realm.query("SELECT COUNT(*) FROM Vendor") == {"totalCount": 1}
    assert_fault(realm.client.get(f"/invoice/{invoice['Id']}"), 400, "610")


def test_item_faults_keep_http_200(realm: Realm) -> None:
    items = [
        {"bId": "a", "operation": "create", "Customer": {"DisplayName": "Twin"}},
        {"bId": "b", "operation": "create", "Customer": {"DisplayName": "twin"}},
        {"bId": "c", "operation": "create", "Invoice": {"Line": [sales_line(5)]}},
        {"bId": "d", "operation": "create", "Widget": {"Name": "x"}},
        {"bId": "e", "operation": "explode", "Customer": {"DisplayName": "Boom"}},
        {"bId": "f", "Query": "SELECT * FROM Nowhere"},
        {"bId": "g", "Query": "SELECT * FROM"},
        {"operation": "create", "Customer": {"DisplayName": "No bid"}},
    ]
    out = batch(realm, items)
    codes = [item["Fault"]["Error"][0]["code"] if "Fault" in item else None for item in out]
    assert codes == [None, "6240", "2020", "2010", "2170", "4001", "4000", "2020"]
    assert out[2]["Fault"]["Error"][0]["element"] == "CustomerRef"
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 1}


def test_void_through_options_data(realm: Realm) -> None:
    customer = realm.customer("Void in batch")
    invoice = realm.invoice(customer["Id"], 60)
    items = [
        {
            "bId": "v",
            "operation": "update",
            "optionsData": "void",
            "Invoice": {"Id": invoice["Id"], "SyncToken": "0"},
        }
    ]
    (out,) = batch(realm, items)
    assert out["Invoice"]["TotalAmt"] == 0 and out["Invoice"]["PrivateNote"] == "Voided"
    assert out["Invoice"]["SyncToken"] == "1"


def test_thirty_items_pass_thirty_one_are_1040(realm: Realm) -> None:
    items = [{"bId": f"q{n}", "Query": "SELECT COUNT(*) FROM Customer"} for n in range(30)]
    out = batch(realm, items)
    assert len(out) == 30 and all(item["QueryResponse"] == {"totalCount": 0} for item in out)
    creates = [
        {"bId": f"c{n}", "operation": "create", "Customer": {"DisplayName": f"C{n}"}}
        for n in range(31)
    ]
    resp = realm.client.post("/batch", json={"BatchItemRequest": creates})
    error = assert_fault(resp, 400, "1040")
    assert error["Message"] == "Batch size exceeds allowed limit"
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 0}


def test_empty_or_malformed_batch_is_400(realm: Realm) -> None:
    error = assert_fault(realm.client.post("/batch", json={"BatchItemRequest": []}), 400, "400")
    assert error["Detail"] == "Batch Request is Empty"
    assert_fault(realm.client.post("/batch", json={"Items": [1]}), 400, "400")
    assert_fault(
        realm.client.post("/batch", content=b"{oops", headers={"Content-Type": "application/json"}),
        400,
        "2010",
    )
