"""Bearer auth on the Accounting API, over real HTTP.

Real (API_FACTS 4.1, 11 item 3): a missing, unknown, expired or revoked token answers 401
with QBO's lower-case Java-bean body and ``WWW-Authenticate``; a live token of another company
answers 403 with fault 3100. Faked: token expiry is reached by advancing the emulator's
business clock instead of waiting an hour.
"""

from __future__ import annotations

import httpx
import pytest

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline_tests.test_emulator import test_api_support as support
from qb_pipeline_tests.test_emulator.test_api_support import Realm, assert_fault, new_realm

emulator, realm, server = support.emulator, support.realm, support.server  # fixtures

UNAUTHORIZED_KEYS = {
    "warnings",
    "intuitObject",
    "fault",
    "report",
    "queryResponse",
    "batchItemResponse",
    "attachableResponse",
    "syncErrorResponse",
    "requestId",
    "time",
    "status",
    "cdcresponse",
}


def assert_401(resp: httpx.Response, detail_start: str) -> None:
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    assert resp.headers["intuit_tid"]
    body = resp.json()
    assert set(body) == UNAUTHORIZED_KEYS
    assert isinstance(body["time"], int)
    assert body["batchItemResponse"] == [] and body["cdcresponse"] == []
    assert body["fault"]["type"] == "AUTHENTICATION"
    (error,) = body["fault"]["error"]
    assert error["code"] == "3200"
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert error["element"] is None
    assert error["detail"].startswith(detail_start), error["detail"]


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Invalid token"),
        ("Bearer", "Invalid token"),
        ("Basic dXNlcjpwYXNz", "Invalid token"),
        ("Bearer x", "Malformed bearer token: too short or too long"),
        ("Bearer " + "A" * 120, "Invalid token"),
    ],
)
def test_missing_or_invalid_token_is_401(realm: Realm, header: str | None, detail: str) -> None:
    headers = {"Accept": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    url = str(realm.client.base_url) + "/companyinfo/" + realm.realm_id
    resp = httpx.get(url, headers=headers)
    assert_401(resp, detail)


def test_expired_token_is_401(realm: Realm, emulator: Emulator) -> None:
    assert realm.client.get(f"/companyinfo/{realm.realm_id}").status_code == 200
    emulator.clock.advance(3601)
    assert_401(realm.client.get(f"/companyinfo/{realm.realm_id}"), "Token expired: ")


def test_revoked_token_is_401(realm: Realm, emulator: Emulator) -> None:
    assert realm.client.get("/item/1").status_code == 200
    assert emulator.oauth.revoke_realm(realm.realm_id) == 1
    assert_401(realm.client.get("/item/1"), "Token revoked")


def test_token_of_another_realm_is_403_3100(server: EmulatorServer, realm: Realm) -> None:
    other = new_realm(server)
    other.client.close()
    url = f"{server.url}/v3/company/{other.realm_id}/item/1"
    resp = httpx.get(
        url, headers={"Authorization": f"Bearer {realm.token}", "Accept": "application/json"}
    )
    error = assert_fault(resp, 403, "3100")
    assert error["type"] == "AuthorizationFault"
    assert (
        error["Message"]
        == "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
    )


def test_valid_token_is_accepted_with_common_headers(realm: Realm) -> None:
    resp = realm.client.get(f"/companyinfo/{realm.realm_id}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["intuit_tid"]
    assert resp.json()["CompanyInfo"]["Id"] == "1"
