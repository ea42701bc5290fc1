"""Shared fixtures for the emulator's wire tests (test_api_*.py); no tests live here.

Real: every test talks to the emulator over real HTTP on a free loopback port, with a bearer
token from the emulator's OAuth server, exactly as a QBO client would. Faked: each test gets a
fresh, empty company (starter chart) and the throttles are lifted unless a test turns them on;
the emulator's limits and faults are restored after every test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from qb_pipeline.emulator import Emulator, EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.config import FaultsConfig, LimitsConfig

JSON_HEADERS = {"Accept": "application/json"}
INCOME_ACCOUNT = "3"  # "Services" income account of the starter chart
SERVICES_ITEM = "1"  # Item 1 "Services"


@dataclass
class Realm:
    """One company seen through the API: its books, a live token and an HTTP client."""

    books: Books
    token: str
    client: httpx.Client  # base URL /v3/company/{realmId}, bearer header set

    @property
    def realm_id(self) -> str:
        return self.books.realm_id

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /{entity}; asserts 200 and returns the stored object."""
        resp = self.client.post(f"/{entity.lower()}", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()[entity]

    def read(self, entity: str, object_id: str) -> dict[str, Any]:
        resp = self.client.get(f"/{entity.lower()}/{object_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()[entity]

    def update(self, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        resp = self.client.post(f"/{entity.lower()}", json=body, params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()[entity]

    def query(self, text: str) -> dict[str, Any]:
        """GET /query; asserts 200 and returns the QueryResponse object."""
        resp = self.client.get("/query", params={"query": text})
        assert resp.status_code == 200, resp.text
        return resp.json()["QueryResponse"]

    def customer(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.create("Customer", {"DisplayName": name, **fields})

    def vendor(self, name: str) -> dict[str, Any]:
        return self.create("Vendor", {"DisplayName": name})

    def invoice(self, customer_id: str, *amounts: float, **fields: Any) -> dict[str, Any]:
        lines = [sales_line(amount) for amount in amounts]
        return self.create(
            "Invoice", {"CustomerRef": {"value": customer_id}, "Line": lines, **fields}
        )

    def bill(self, vendor_id: str, amount: float) -> dict[str, Any]:
        line = {
            "Amount": amount,
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {
                "AccountRef": {"value": account_id(self, "Office Supplies")}
            },
        }
        return self.create("Bill", {"VendorRef": {"value": vendor_id}, "Line": [line]})


def sales_line(amount: float, **detail: Any) -> dict[str, Any]:
    return {
        "Amount": amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": SERVICES_ITEM}, **detail},
    }


def account_id(realm: Realm, name: str) -> str:
    return realm.books.find("Account", "Name", name)["Id"]


def fault_of(resp: httpx.Response) -> dict[str, Any]:
    """The single Error item of a QBO fault envelope (asserting the envelope's shape)."""
    body = resp.json()
    assert set(body) == {"Fault", "time"}, body
    errors = body["Fault"]["Error"]
    assert len(errors) == 1
    assert set(errors[0]) == {"Message", "Detail", "code", "element"}
    return {**errors[0], "type": body["Fault"]["type"]}


def assert_fault(resp: httpx.Response, status: int, code: str, element: str | None = None) -> dict:
    """Assert an HTTP status and a QBO fault code (and element); returns the error item."""
    assert resp.status_code == status, resp.text
    error = fault_of(resp)
    assert error["code"] == code, error
    if element is not None:
        assert error["element"] == element, error
    return error


def open_client(base_url: str, realm_id: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base_url}/v3/company/{realm_id}",
        headers={**JSON_HEADERS, "Authorization": f"Bearer {token}"},
        timeout=10.0,
    )


def new_realm(server: EmulatorServer) -> Realm:
    books = server.emulator.create_realm()
    token = server.emulator.oauth.issue_tokens(books.realm_id)["access_token"]
    return Realm(books, token, open_client(server.url, books.realm_id, token))


def _restore(emulator: Emulator) -> None:
    for name, default in (("limits", LimitsConfig()), ("faults", FaultsConfig())):
        target = getattr(emulator.config, name)
        for f in dataclasses.fields(default):
            setattr(target, f.name, getattr(default, f.name))
    emulator.config.limits.enabled = False
    emulator.faults.reseed()


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """One emulator on a free loopback port for the whole test module."""
    srv = EmulatorServer().start()
    _restore(srv.emulator)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def emulator(server: EmulatorServer) -> Iterator[Emulator]:
    """The running emulator; limits and faults are put back after the test."""
    yield server.emulator
    _restore(server.emulator)


@pytest.fixture
def realm(server: EmulatorServer, emulator: Emulator) -> Iterator[Realm]:
    """A fresh company with a live token and a client bound to it."""
    company = new_realm(server)
    try:
        yield company
    finally:
        company.client.close()
