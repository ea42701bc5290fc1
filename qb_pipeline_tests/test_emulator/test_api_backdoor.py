"""The emulator's back door (/_emulator/...) over real HTTP, including its 4xx answers.

Not QBO: this is the moto/localstack-style control surface tests, benchmarks and the demo use
to create companies, mint and revoke tokens, read counters, move the business clock, export
and load a company as QBO JSON, and change limits and faults while the server runs. Real:
whatever it changes is seen by the Accounting API at once. Bad input is a JSON
``{"error": ...}`` with 400 (or 404 for an unknown realm or entity), never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, open_client

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures


@pytest.fixture
def door(server: EmulatorServer, emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/_emulator", timeout=10.0) as client:
        yield client


def test_create_realm_then_use_it_through_the_api(
    door: httpx.Client, server: EmulatorServer
) -> None:
    resp = door.post("/realms", json={"name": "Door Co"})
    assert resp.status_code == 201
    realm_id = resp.json()["realm_id"]
    assert resp.json()["objects"]["Item"] == 1
    listed = door.get("/realms").json()
    assert listed[realm_id]["name"] == "Door Co"
    grant = door.post(f"/realms/{realm_id}/tokens").json()
    assert grant["realm_id"] == realm_id and grant["token_type"] == "bearer"
    assert grant["expires_in"] == 3600 and grant["refresh_token"]
    with open_client(server.url, realm_id, grant["access_token"]) as api:
        info = api.get(f"/companyinfo/{realm_id}")
        assert info.status_code == 200 and info.json()["CompanyInfo"]["CompanyName"] == "Door Co"


def test_create_realm_with_fixed_id_and_duplicates(door: httpx.Client) -> None:
    assert door.post("/realms", json={"realm_id": "4620816365179422850"}).status_code == 201
    dup = door.post("/realms", json={"realm_id": "4620816365179422850"})
    assert dup.status_code == 400 and "already exists" in dup.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/realms", b"{not json", 400),
        ("POST", "/realms", b"[1, 2]", 400),
        ("POST", "/realms", b'{"seed": "abc"}', 400),
        ("POST", "/realms/000/tokens", b"", 404),
        ("POST", "/realms/000/revoke", b"", 404),
        ("DELETE", "/realms/000", b"", 404),
        ("POST", "/realms/000/export", b"", 404),
        ("GET", "/realms/000/objects/customer", b"", 404),
        ("POST", "/clock/advance", b'{"seconds": "soon"}', 400),
        ("PUT", "/config/limits", b'{"requests_per_hour": 5}', 400),
        ("PUT", "/config/faults", b'{"explode": true}', 400),
        ("PUT", "/config/limits", b'{"requests_per_minute": "many"}', 400),
        ("PUT", "/config/limits", b'{"enabled": "yes"}', 400),
        ("PUT", "/config/faults", b'{"latency_ms": "slow"}', 400),
        ("PUT", "/config/faults", b'{"error_500_rate": null}', 400),
        ("POST", "/realms", b'{"realm_id": "not-digits"}', 400),
        ("POST", "/clients", b'{"client_id": "only-id"}', 400),
    ],
)
def test_bad_input_is_4xx_json(
    door: httpx.Client, method: str, path: str, body: bytes, status: int
) -> None:
    resp = door.request(method, path, content=body)
    assert resp.status_code == status, resp.text
    assert set(resp.json()) >= {"error"}


def test_badly_typed_settings_change_nothing(
    door: httpx.Client, realm: Realm, emulator: Emulator
) -> None:
    resp = door.put(
        "/config/limits", json={"requests_per_second": 1000, "requests_per_minute": "x"}
    )
    assert resp.status_code == 400 and "requests_per_minute" in resp.json()["error"]
    assert emulator.config.limits.requests_per_second == 10  # nothing applied
    assert door.put("/config/limits", json={"retry_after_seconds": None}).status_code == 200
    assert door.put("/config/faults", json={"latency_ms": 5}).json()["latency_ms"] == 5.0
    assert realm.client.get("/item/1").status_code == 200


def test_numeric_realm_id_is_kept_as_text(door: httpx.Client, emulator: Emulator) -> None:
    resp = door.post("/realms", json={"realm_id": 310687})
    assert resp.status_code == 201 and resp.json()["realm_id"] == "310687"
    assert "310687" in emulator.realms


def test_tokens_for_an_unknown_client_is_400(door: httpx.Client, realm: Realm) -> None:
    resp = door.post(f"/realms/{realm.realm_id}/tokens", json={"client_id": "nobody"})
    assert resp.status_code == 400 and "unknown OAuth client" in resp.json()["error"]


def test_revoke_kills_the_realms_tokens(door: httpx.Client, realm: Realm) -> None:
    assert realm.client.get("/item/1").status_code == 200
    assert door.post(f"/realms/{realm.realm_id}/revoke").json() == {"revoked_grants": 1}
    assert realm.client.get("/item/1").status_code == 401
    assert door.post(f"/realms/{realm.realm_id}/revoke").json() == {"revoked_grants": 0}


def test_delete_realm(door: httpx.Client, realm: Realm, emulator: Emulator) -> None:
    assert door.delete(f"/realms/{realm.realm_id}").json() == {"deleted": realm.realm_id}
    assert realm.realm_id not in emulator.realms
    assert realm.client.get("/item/1").status_code == 401
    assert door.get(f"/realms/{realm.realm_id}/objects/customer").status_code == 404


def test_objects_endpoint(door: httpx.Client, realm: Realm) -> None:
    invoice = realm.invoice(realm.customer("Obj Co")["Id"], 10)
    assert door.get(f"/realms/{realm.realm_id}/objects/invoice/{invoice['Id']}").json() == invoice
    assert len(door.get(f"/realms/{realm.realm_id}/objects/Customer").json()) == 1
    assert door.get(f"/realms/{realm.realm_id}/objects/widget").status_code == 404
    realm.client.post(
        "/invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    gone = door.get(f"/realms/{realm.realm_id}/objects/invoice/{invoice['Id']}")
    assert gone.status_code == 404 and "was deleted" in gone.json()["error"]


def test_stats_count_requests_and_reset(door: httpx.Client, realm: Realm) -> None:
    realm.client.get("/item/1")
    realm.query("SELECT * FROM Item")
    realm.client.post("/customer", json={"DisplayName": "Counted"})
    stats = door.get("/stats").json()["realms"][realm.realm_id]
    assert stats["requests"] == {"read": 1, "query": 1, "write": 1, "total": 3}
    assert stats["limits"]["requests"] == 3 and stats["objects"]["Customer"] == 1
    assert set(stats["oauth"]) >= {"refreshes", "token_requests"}
    cleared = door.delete("/stats").json()["realms"][realm.realm_id]
    assert cleared["requests"] == {} and cleared["limits"]["requests"] == 0


def test_clock_advance_moves_business_time(
    door: httpx.Client, realm: Realm, emulator: Emulator
) -> None:
    before = door.get("/clock").json()["offset_seconds"]
    after = door.post("/clock/advance", json={"seconds": 3601}).json()
    assert after["offset_seconds"] == before + 3601
    assert realm.client.get("/item/1").status_code == 401  # the token issued before expired
    days = door.post("/clock/advance", json={"days": 1}).json()
    assert days["offset_seconds"] == before + 3601 + 86400


def test_export_and_load_round_trip(door: httpx.Client, realm: Realm, tmp_path: Path) -> None:
    customer = realm.customer("Round Trip")
    realm.invoice(customer["Id"], 42)
    exported = door.post(f"/realms/{realm.realm_id}/export", json={"directory": str(tmp_path)})
    assert exported.status_code == 200 and exported.json()["exported"]["Invoice"] == 1
    written = json.loads((tmp_path / "Invoice.json").read_text())
    assert written["QueryResponse"]["maxResults"] == 1
    inline = door.post(f"/realms/{realm.realm_id}/export").json()
    target = door.post("/realms", json={}).json()["realm_id"]
    loaded = door.post(f"/realms/{target}/load", json={"directory": str(tmp_path)})
    assert loaded.status_code == 200 and loaded.json()["loaded"]["Customer"] == 1
    copy = door.post(f"/realms/{target}/export").json()
    for entity in ("Invoice", "Customer", "Item", "Account"):
        assert copy[entity] == inline[entity]
    missing = door.post(f"/realms/{target}/load", json={"directory": str(tmp_path / "nope")})
    assert missing.status_code == 400 and "not a directory" in missing.json()["error"]
    assert door.post(f"/realms/{target}/load", json={}).status_code == 400


def test_config_put_changes_the_running_emulator(
    door: httpx.Client, realm: Realm, emulator: Emulator
) -> None:
    limits = door.put("/config/limits", json={"enabled": True, "requests_per_minute": 2})
    assert limits.status_code == 200 and limits.json()["requests_per_minute"] == 2
    assert emulator.config.limits.requests_per_minute == 2
    statuses = [realm.client.get("/item/1").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    faults = door.put("/config/faults", json={"error_503_rate": 1.0})
    assert faults.json()["error_503_rate"] == 1.0
    assert door.get("/config/faults").json()["error_503_rate"] == 1.0
    door.put("/config/limits", json={"enabled": False})
    assert realm.client.get("/item/1").status_code == 503
