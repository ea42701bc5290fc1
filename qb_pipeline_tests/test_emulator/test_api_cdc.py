"""/cdc over real HTTP: one QueryResponse per entity, deleted stubs, order, cap, look-back.

Real (API_FACTS 1.14, 11 item 13): ``CDCResponse[0].QueryResponse`` holds one object per
requested entity, full objects ascending by LastUpdatedTime, deletes as ``status: Deleted``
stubs, at most 1,000 objects, a 30-day look-back; ``changedSince`` may come without a time
zone (company time, US/Pacific). Faked (our documented choices where QBO is UNCERTAIN): an
entity without changes contributes ``{}``; a changedSince older than 30 days is refused with
4001. Over the cap, Intuit's API reference: grouped by type, LastUpdatedTime within a group,
deletes after the active objects; the cap cuts what comes last.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from qb_pipeline.emulator import Emulator
from qb_pipeline.emulator.clock import COMPANY_TZ
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, assert_fault

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


@pytest.fixture
def cdc_config(emulator: Emulator) -> Iterator[Emulator]:
    """The emulator, with its CDC settings put back after the test."""
    saved = (emulator.config.cdc_max_objects, emulator.config.cdc_max_age_days)
    yield emulator
    emulator.config.cdc_max_objects, emulator.config.cdc_max_age_days = saved


def since(emulator: Emulator, seconds_ago: float = 60) -> str:
    return (emulator.clock.now() - timedelta(seconds=seconds_ago)).isoformat(timespec="seconds")


def cdc(realm: Realm, entities: str, changed_since: str) -> list[dict]:
    resp = realm.client.get("/cdc", params={"entities": entities, "changedSince": changed_since})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"CDCResponse", "time"} and len(body["CDCResponse"]) == 1
    return body["CDCResponse"][0]["QueryResponse"]


def test_one_query_response_per_entity_in_request_order(realm: Realm, emulator: Emulator) -> None:
    start = since(emulator)
    customer = realm.customer("CDC Co")
    invoice = realm.invoice(customer["Id"], 25)
    responses = cdc(realm, "Invoice,Customer,Vendor", start)
    assert len(responses) == 3
    assert responses[0] == {"Invoice": [invoice], "startPosition": 1, "maxResults": 1}
    assert [c["Id"] for c in responses[1]["Customer"]] == [customer["Id"]]
    assert responses[1]["Customer"][0]["Balance"] == 25  # the current object, not the created one
    assert responses[2] == {}


def test_rows_ascend_by_last_updated_time(realm: Realm, emulator: Emulator) -> None:
    start = since(emulator)
    names = ["Third", "First", "Second"]
    created = {}
    for name in names:
        created[name] = realm.customer(name)
        emulator.clock.advance(3)
    realm.update(
        "Customer",
        {"Id": created["Third"]["Id"], "SyncToken": "0", "sparse": True, "Notes": "changed last"},
    )
    rows = cdc(realm, "Customer", start)[0]["Customer"]
    assert [row["DisplayName"] for row in rows] == ["First", "Second", "Third"]
    stamps = [row["MetaData"]["LastUpdatedTime"] for row in rows]
    assert stamps == sorted(stamps)


def test_deleted_objects_are_stubs(realm: Realm, emulator: Emulator) -> None:
    customer = realm.customer("Deleting")
    invoice = realm.invoice(customer["Id"], 10)
    kept = realm.invoice(customer["Id"], 20)
    emulator.clock.advance(2)
    start = since(emulator, 1)
    realm.client.post(
        "/invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    rows = cdc(realm, "Invoice", start)[0]["Invoice"]
    (stub,) = rows
    assert set(stub) == {"domain", "status", "Id", "MetaData"}
    assert stub["status"] == "Deleted" and stub["Id"] == invoice["Id"] and stub["domain"] == "QBO"
    assert set(stub["MetaData"]) == {"LastUpdatedTime"}
    assert kept["Id"] not in [row["Id"] for row in rows]


def test_cap_keeps_the_oldest_changes(realm: Realm, cdc_config: Emulator) -> None:
    start = since(cdc_config)
    for number in range(6):
        realm.customer(f"Capped {number}")
        cdc_config.clock.advance(1)
    cdc_config.config.cdc_max_objects = 4
    responses = cdc(realm, "Customer,Invoice", start)
    rows = responses[0]["Customer"]
    assert [row["DisplayName"] for row in rows] == [f"Capped {n}" for n in range(4)]
    assert responses[0]["maxResults"] == 4 and responses[1] == {}


def test_cap_cuts_later_groups_and_deletes_after_updates(
    realm: Realm, cdc_config: Emulator
) -> None:
    customer = realm.customer("Billed")
    start = since(cdc_config)
    early = realm.invoice(customer["Id"], 10)  # the oldest change of all...
    cdc_config.clock.advance(1)
    realm.client.post(
        "/invoice", params={"operation": "delete"}, json={"Id": early["Id"], "SyncToken": "0"}
    ).raise_for_status()
    cdc_config.clock.advance(1)
    later = []
    for amount in (20, 30, 40):
        later.append(realm.invoice(customer["Id"], amount)["Id"])
        cdc_config.clock.advance(1)
    vendor = realm.vendor("Cut vendor")

    cdc_config.config.cdc_max_objects = 3
    invoices, vendors = cdc(realm, "Invoice,Vendor", start)

    # ...but its delete stub comes after the active invoices, and the cap cuts it and Vendor
    assert [row["Id"] for row in invoices["Invoice"]] == later
    assert vendors == {}
    cdc_config.config.cdc_max_objects = 1000
    invoices, vendors = cdc(realm, "Invoice,Vendor", start)
    assert [row.get("status") for row in invoices["Invoice"]] == [None, None, None, "Deleted"]
    assert invoices["Invoice"][-1]["Id"] == early["Id"]
    assert [row["Id"] for row in vendors["Vendor"]] == [vendor["Id"]]


def test_real_cap_is_1000_objects(realm: Realm, emulator: Emulator) -> None:
    start = since(emulator)
    for number in range(1100):
        realm.books.create("Customer", {"DisplayName": f"Many {number:04d}"})
    rows = cdc(realm, "Customer", start)[0]["Customer"]
    assert len(rows) == 1000 and len({row["Id"] for row in rows}) == 1000


def test_changed_since_older_than_30_days_is_refused(realm: Realm, emulator: Emulator) -> None:
    too_old = (emulator.clock.now() - timedelta(days=31)).isoformat(timespec="seconds")
    resp = realm.client.get("/cdc", params={"entities": "Customer", "changedSince": too_old})
    error = assert_fault(resp, 400, "4001")
    assert "30 days" in error["Detail"]
    recent = (emulator.clock.now() - timedelta(days=29)).isoformat(timespec="seconds")
    assert cdc(realm, "Customer", recent) == [{}]


def test_changed_since_without_time_zone_is_company_time(realm: Realm, emulator: Emulator) -> None:
    realm.customer("Before")
    emulator.clock.advance(10)
    local = emulator.clock.now().astimezone(COMPANY_TZ).replace(tzinfo=None)
    emulator.clock.advance(10)
    realm.customer("After")
    rows = cdc(realm, "Customer", local.isoformat(timespec="seconds"))[0]["Customer"]
    assert [row["DisplayName"] for row in rows] == ["After"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"changedSince": "2024-01-01"}, "2020"),
        ({"entities": "Customer"}, "2020"),
        ({"entities": "Custmoer", "changedSince": "NOW"}, "4001"),
        ({"entities": "TaxCode", "changedSince": "NOW"}, "4001"),
        ({"entities": "Customer", "changedSince": "yesterday"}, "4001"),
    ],
)
def test_bad_cdc_requests_are_faults(
    realm: Realm, emulator: Emulator, params: dict, code: str
) -> None:
    if params.get("changedSince") == "NOW":
        params = {**params, "changedSince": since(emulator)}
    assert_fault(realm.client.get("/cdc", params=params), 400, code)


# -- CDC queries inside /batch (Intuit's Java SDK: BatchOperation.addCDCQuery) ---------------
def batch_cdc(realm: Realm, *queries: tuple[str, str]) -> list[dict]:
    items = [
        {"bId": f"c{n}", "CDCQuery": {"Entities": entities, "ChangedSince": changed_since}}
        for n, (entities, changed_since) in enumerate(queries)
    ]
    resp = realm.client.post("/batch", json={"BatchItemRequest": items})
    assert resp.status_code == 200, resp.text
    answers = resp.json()["BatchItemResponse"]
    assert [a["bId"] for a in answers] == [f"c{n}" for n in range(len(queries))]
    return answers


def test_a_batch_cdc_item_answers_as_the_cdc_endpoint(realm: Realm, emulator: Emulator) -> None:
    start = since(emulator)
    customer = realm.customer("Batch CDC Co")
    realm.invoice(customer["Id"], 30)
    (answer,) = batch_cdc(realm, ("Invoice,Customer,Vendor", start))
    assert set(answer) == {"CDCResponse", "bId"}
    assert answer["CDCResponse"]["QueryResponse"] == cdc(realm, "Invoice,Customer,Vendor", start)


def test_each_batch_cdc_item_has_its_own_start_and_its_own_cap(
    realm: Realm, cdc_config: Emulator
) -> None:
    start = since(cdc_config)
    customers = [realm.customer(f"Capped {n}") for n in range(3)]
    cdc_config.clock.advance(5)
    later = since(cdc_config, 1)
    invoices = [realm.invoice(customers[0]["Id"], 10 + n) for n in range(2)]
    cdc_config.config.cdc_max_objects = 2
    together = cdc(realm, "Customer,Invoice", start)
    assert (
        sum(len(r.get(name, [])) for r, name in zip(together, ["Customer", "Invoice"], strict=True))
        == 2
    )

    customer_answer, invoice_answer = batch_cdc(realm, ("Customer", start), ("Invoice", later))
    (customer_rows,) = customer_answer["CDCResponse"]["QueryResponse"]
    (invoice_rows,) = invoice_answer["CDCResponse"]["QueryResponse"]
    assert len(customer_rows["Customer"]) == 2  # three changed: its own cap cut one
    assert [i["Id"] for i in invoice_rows["Invoice"]] == [i["Id"] for i in invoices]


def test_a_bad_batch_cdc_item_faults_alone(realm: Realm, emulator: Emulator) -> None:
    good, not_cdc, too_old = batch_cdc(
        realm,
        ("Customer", since(emulator)),
        ("TaxCode", since(emulator)),
        ("Customer", since(emulator, 31 * 86400)),
    )
    assert "CDCResponse" in good
    assert not_cdc["Fault"]["Error"][0]["code"] == "4001"
    assert "not supported" in not_cdc["Fault"]["Error"][0]["Detail"]
    assert too_old["Fault"]["Error"][0]["code"] == "4001"


def test_a_server_without_batch_cdc_refuses_the_item(realm: Realm, emulator: Emulator) -> None:
    emulator.config.batch_cdc = False
    try:
        (answer,) = batch_cdc(realm, ("Customer", since(emulator)))
    finally:
        emulator.config.batch_cdc = True
    assert "Fault" in answer and "CDCResponse" not in answer
