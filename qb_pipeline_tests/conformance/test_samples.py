"""Recorded real QBO objects replayed through the emulator: loaded, then read back unchanged.

Real: the objects in ../shared/qbo/samples (85 Airbyte records of Craig's Design and
Landscaping, 2023; Fyle's sandbox lists and Preferences, 2019) are written one file per entity,
loaded through the back door (POST /_emulator/realms/{realm}/load), then read through the API
with python-quickbooks: GET by id (``/preferences`` for Preferences, ``/exchangerate`` for
ExchangeRate, which has no Id) and a query. Every field of the recorded object must come back
with the same keys, JSON types and values, and nothing more. Each source gets its own company
(their Ids overlap). Not replayed: TimeActivity (the emulator has no such entity; skipped
with that reason); Airbyte's ``airbyte_cursor`` (not a QBO field). The tests skip when the
shared samples directory is absent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from quickbooks import QuickBooks

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.entities import entity_type
from qb_pipeline_tests.conformance.conftest import connect

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "qbo" / "samples"
AIRBYTE = "expected_records"
FYLE = "mock_qbo"
STREAMS = {
    "accounts": "Account",
    "bill_payments": "BillPayment",
    "bills": "Bill",
    "credit_memos": "CreditMemo",
    "customers": "Customer",
    "deposits": "Deposit",
    "employees": "Employee",
    "estimates": "Estimate",
    "invoices": "Invoice",
    "items": "Item",
    "journal_entries": "JournalEntry",
    "payment_methods": "PaymentMethod",
    "payments": "Payment",
    "purchase_orders": "PurchaseOrder",
    "purchases": "Purchase",
    "refund_receipts": "RefundReceipt",
    "sales_receipts": "SalesReceipt",
    "tax_agencies": "TaxAgency",
    "tax_codes": "TaxCode",
    "tax_rates": "TaxRate",
    "terms": "Term",
    "time_activities": "TimeActivity",
    "departments": "Department",
    "classes": "Class",
    "exchange_rates": "ExchangeRate",
    "preferences": "Preferences",
    "attachments": "Attachable",
}

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"recorded QBO samples not found at {SAMPLES} (shared/ absent)"
)


def read_samples() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(source, entity) -> recorded objects, as QBO sent them."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    if not SAMPLES.is_dir():
        return found
    for line in (SAMPLES / f"{AIRBYTE}.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            data = {k: v for k, v in record["data"].items() if k != "airbyte_cursor"}
            found[(AIRBYTE, STREAMS[record["stream"]])].append(data)
    for key, value in json.loads((SAMPLES / f"{FYLE}.json").read_text()).items():
        found[(FYLE, STREAMS[key])].extend(value if isinstance(value, list) else [value])
    return dict(found)


RECORDED = read_samples()


def differences(recorded: Any, got: Any, path: str = "$") -> list[str]:
    """Every place where ``got`` differs from ``recorded`` in keys, JSON type or value."""
    if type(recorded) is not type(got):
        return [f"{path}: {type(recorded).__name__} {recorded!r} -> {type(got).__name__} {got!r}"]
    if isinstance(recorded, dict):
        out = [f"{path}.{k}: missing" for k in recorded if k not in got]
        out += [f"{path}.{k}: extra {got[k]!r}" for k in got if k not in recorded]
        for key in recorded.keys() & got.keys():
            out += differences(recorded[key], got[key], f"{path}.{key}")
        return out
    if isinstance(recorded, list):
        if len(recorded) != len(got):
            return [f"{path}: {len(recorded)} items -> {len(got)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(recorded, got, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if recorded == got else [f"{path}: {recorded!r} -> {got!r}"]


def assert_as_recorded(recorded: dict[str, Any], got: dict[str, Any], label: str) -> None:
    problems = differences(recorded, got)
    assert not problems, f"{label} differs from the recording:\n" + "\n".join(problems[:20])


@pytest.fixture(scope="module")
def loaded(
    server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, QuickBooks]]:
    """source -> a python-quickbooks client of a fresh company loaded with that source."""
    clients = {}
    for source in (AIRBYTE, FYLE):
        directory = tmp_path_factory.mktemp(source)
        expected = {}
        for (origin, entity), objects in RECORDED.items():
            if origin == source and entity_type(entity) is not None:
                (directory / f"{entity}.json").write_text(json.dumps(objects))
                expected[entity] = len(objects)
        realm = httpx.post(f"{server.url}/_emulator/realms", json={}).json()["realm_id"]
        answer = httpx.post(
            f"{server.url}/_emulator/realms/{realm}/load", json={"directory": str(directory)}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"loaded": expected}
        clients[source] = connect(server, realm)
    yield clients
    for qb in clients.values():
        httpx.delete(f"{server.url}/_emulator/realms/{qb.company_id}")


def read_back(qb: QuickBooks, entity: str, recorded: dict[str, Any]) -> dict[str, Any]:
    """The object as GET returns it (each entity's own read call)."""
    base = f"{qb.api_url}/company/{qb.company_id}"
    if entity == "Preferences":
        return qb.get(f"{base}/preferences")["Preferences"]
    if entity == "ExchangeRate":
        params = {
            "sourcecurrencycode": recorded["SourceCurrencyCode"],
            "asofdate": recorded["AsOfDate"],
        }
        return qb.get(f"{base}/exchangerate", params=params)["ExchangeRate"]
    return qb.get_single_object(entity, recorded["Id"])[entity]


def query_back(qb: QuickBooks, entity: str, objects: list[dict[str, Any]]) -> list[dict]:
    """The recorded objects as a query returns them, in the recording's order."""
    if entity in ("Preferences", "ExchangeRate"):
        rows = qb.query(f"SELECT * FROM {entity} MAXRESULTS 1000")["QueryResponse"][entity]
        key = ("SourceCurrencyCode", "AsOfDate") if entity == "ExchangeRate" else ("Id",)
    else:
        ids = ", ".join(f"'{obj['Id']}'" for obj in objects)
        active = " AND Active IN (true, false)" if any("Active" in o for o in objects) else ""
        text = f"SELECT * FROM {entity} WHERE Id IN ({ids}){active} MAXRESULTS 1000"
        rows = qb.query(text)["QueryResponse"].get(entity, [])
        key = ("Id",)
    by_key = {tuple(row.get(k) for k in key): row for row in rows}
    assert len(by_key) >= len(objects)
    return [by_key.get(tuple(obj.get(k) for k in key), {}) for obj in objects]


@pytest.mark.parametrize(
    ("source", "entity"), sorted(RECORDED), ids=[f"{s}-{e}" for s, e in sorted(RECORDED)]
)
def test_recorded_objects_read_back_unchanged(
    loaded: dict[str, QuickBooks], source: str, entity: str
) -> None:
    objects = RECORDED[(source, entity)]
    if entity_type(entity) is None:
        pytest.skip(
            f"the emulator has no {entity} entity: {len(objects)} recorded "
            f"{entity} records of {source} not replayed"
        )
    qb = loaded[source]
    for recorded in objects:
        label = f"GET {entity} {recorded.get('Id', recorded.get('AsOfDate'))}"
        assert_as_recorded(recorded, read_back(qb, entity, recorded), label)
    for recorded, row in zip(objects, query_back(qb, entity, objects), strict=True):
        assert_as_recorded(recorded, row, f"query {entity} {recorded.get('Id', '')}")


def test_samples_cover_what_the_brief_names() -> None:
    airbyte = {e: len(o) for (s, e), o in RECORDED.items() if s == AIRBYTE}
    assert sum(airbyte.values()) == 85 and len(airbyte) == 22
    assert (FYLE, "Preferences") in RECORDED


def test_export_returns_the_recorded_objects(
    server: EmulatorServer, loaded: dict[str, QuickBooks], tmp_path: Path
) -> None:
    qb = loaded[FYLE]
    answer = httpx.post(
        f"{server.url}/_emulator/realms/{qb.company_id}/export", json={"directory": str(tmp_path)}
    )
    assert answer.status_code == 200, answer.text
    for (source, entity), objects in RECORDED.items():
        if source != FYLE:
            continue
        exported = json.loads((tmp_path / f"{entity}.json").read_text())["QueryResponse"][entity]
        key = ("SourceCurrencyCode", "AsOfDate") if entity == "ExchangeRate" else ("Id",)
        by_key = {tuple(row.get(k) for k in key): row for row in exported}
        for recorded in objects:
            row = by_key.get(tuple(recorded.get(k) for k in key), {})
            assert_as_recorded(recorded, row, f"exported {entity} {recorded.get('Id', '')}")
