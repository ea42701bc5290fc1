"""``requestid`` idempotency over real HTTP, including a response lost after the commit.

Real (API_FACTS 1.6): a POST repeated with the same ``requestid`` on the same company gets
the original response (byte for byte) and the operation is not performed again; the key is per
company. Faked on purpose: the lost response is produced by the emulator's fault injector
(``drop_after_commit_rate``), which closes the socket after the write is done.
"""

from __future__ import annotations

import httpx
import pytest

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, new_realm, sales_line

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


def test_repeat_returns_the_original_bytes_and_creates_once(
    realm: Realm, emulator: Emulator
) -> None:
    customer = realm.customer("Idem Co")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(75)]}
    first = realm.client.post("/invoice", params={"requestid": "inv-0001"}, json=body)
    emulator.clock.advance(2)  # a re-run would stamp a different time
    second = realm.client.post("/invoice", params={"requestid": "inv-0001"}, json=body)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert realm.query("SELECT COUNT(*) FROM Invoice") == {"totalCount": 1}
    assert realm.read("Customer", customer["Id"])["Balance"] == 75
    third = realm.client.post("/invoice", params={"requestid": "inv-0002"}, json=body)
    assert third.json()["Invoice"]["Id"] != first.json()["Invoice"]["Id"]


def test_repeat_of_a_fault_replays_the_fault(realm: Realm) -> None:
    realm.customer("Taken Name")
    body = {"DisplayName": "Taken Name"}
    first = realm.client.post("/vendor", params={"requestid": "dup-1"}, json=body)
    assert first.status_code == 400
    second = realm.client.post(
        "/vendor", params={"requestid": "dup-1"}, json={"DisplayName": "Fresh"}
    )
    assert second.status_code == 400 and second.content == first.content
    assert realm.query("SELECT COUNT(*) FROM Vendor") == {"totalCount": 0}


def test_retry_after_dropped_response_creates_one_object(realm: Realm, emulator: Emulator) -> None:
    body = {"DisplayName": "Dropped Once"}
    emulator.config.faults.drop_after_commit_rate = 1.0
    before = emulator.faults.injected.get("drop_after_commit", 0)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        realm.client.post("/customer", params={"requestid": "lost-1"}, json=body)
    emulator.config.faults.drop_after_commit_rate = 0.0
    retry = realm.client.post("/customer", params={"requestid": "lost-1"}, json=body)
    assert retry.status_code == 200
    assert retry.json()["Customer"]["DisplayName"] == "Dropped Once"
    rows = realm.query("SELECT * FROM Customer")["Customer"]
    assert [row["Id"] for row in rows] == [retry.json()["Customer"]["Id"]]
    assert emulator.faults.injected.get("drop_after_commit", 0) - before == 1


def test_same_requestid_on_another_realm_is_independent(
    server: EmulatorServer, realm: Realm
) -> None:
    other = new_realm(server)
    try:
        mine = realm.client.post(
            "/customer", params={"requestid": "shared"}, json={"DisplayName": "Mine"}
        )
        theirs = other.client.post(
            "/customer", params={"requestid": "shared"}, json={"DisplayName": "Theirs"}
        )
        assert mine.json()["Customer"]["DisplayName"] == "Mine"
        assert theirs.json()["Customer"]["DisplayName"] == "Theirs"
        assert other.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 1}
    finally:
        other.client.close()


def test_requestid_on_batch_replays(realm: Realm) -> None:
    items = {
        "BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "B1"}}]
    }
    first = realm.client.post("/batch", params={"requestid": "batch-1"}, json=items)
    second = realm.client.post("/batch", params={"requestid": "batch-1"}, json=items)
    assert first.status_code == 200 and second.content == first.content
    assert realm.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 1}
