"""Tests of the synthetic company generator against an in-memory fake of the books.

Real: the rules the fake enforces are QBO's (refs to existing objects, DisplayName unique
across Customer/Vendor/Employee, Amount == round(Qty * UnitPrice, 2), payments never applied
beyond an invoice's balance, balanced journal entries, SyncToken checks on update/void/delete).
Faked: the fake computes totals minimally (8% tax on TAX lines) and bumps the SyncToken of
invoices that payments touch, as the real server does. Not covered here: the real Books.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qb_pipeline.emulator.generator import (
    ANOMALY_KINDS,
    SIZES,
    TRANSACTION_ENTITIES,
    GroundTruth,
    company_name,
    generate_company,
    simulate_days,
)
from qb_pipeline.emulator.generator.sink import unwrap

PACIFIC = ZoneInfo("America/Los_Angeles")
END = date(2025, 6, 30)
REF_ENTITY = {
    "CustomerRef": "Customer",
    "ParentRef": "Customer",
    "VendorRef": "Vendor",
    "ItemRef": "Item",
    "AccountRef": "Account",
    "DepositToAccountRef": "Account",
    "BankAccountRef": "Account",
    "CCAccountRef": "Account",
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "AssetAccountRef": "Account",
    "SalesTermRef": "Term",
    "TermRef": "Term",
    "PaymentMethodRef": "PaymentMethod",
    "ClassRef": "Class",
    "DepartmentRef": "Department",
    "TxnTaxCodeRef": "TaxCode",
}
SALES_FORMS = ("Invoice", "Estimate", "CreditMemo", "SalesReceipt", "RefundReceipt")
PEOPLE = ("Customer", "Vendor", "Employee")


class BooksRuleError(AssertionError):
    """The generator sent something the real server would reject."""


class FakeBooks:
    """Assigns Ids, computes totals and balances, enforces the rules the generator must obey."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.log: list[tuple[str, str, str, str]] = []  # (op, entity, payload JSON, at)
        self.created_at: dict[tuple[str, str], datetime] = {}
        self.next_id = 1
        self._store("TaxCode", {"Name": "California", "Taxable": True, "Active": True})

    def _store(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj["Id"], obj["SyncToken"] = str(self.next_id), "0"
        self.next_id += 1
        self.objects.setdefault(entity, {})[obj["Id"]] = obj
        return obj

    def _record(self, op: str, entity: str, payload: dict[str, Any], at: datetime | None) -> None:
        if at is None or at.tzinfo is None:
            raise BooksRuleError(f"{op} {entity} without an aware 'at'")
        self.log.append((op, entity, json.dumps(payload, sort_keys=True), at.isoformat()))

    def get(self, entity: str, object_id: str) -> dict[str, Any]:
        found = self.objects.get(entity, {}).get(str(object_id))
        if found is None:
            raise BooksRuleError(f"{entity} {object_id} does not exist")
        return found

    def _check_refs(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self._check_refs(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in REF_ENTITY:
                    self.get(REF_ENTITY[key], value["value"])
                elif key == "EntityRef":
                    self.get(value["type"], value["value"])
                elif key == "TaxCodeRef" and value["value"] not in ("TAX", "NON"):
                    raise BooksRuleError(f"line tax code {value}")
                else:
                    self._check_refs(value)

    def _check_name(self, entity: str, obj: dict[str, Any]) -> None:
        name = obj.get("DisplayName") or obj.get("Name") or ""
        if not name or ":" in name:
            raise BooksRuleError(f"bad {entity} name {name!r}")
        if entity in PEOPLE:
            for other in PEOPLE:
                for existing in self.objects.get(other, {}).values():
                    if existing["DisplayName"].lower() == name.lower():
                        raise BooksRuleError(f"6240 duplicate name {name!r}")

    def create(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        self._record("create", entity, payload, at)
        obj = copy.deepcopy(payload)
        self._check_refs(obj)
        if entity in PEOPLE or "Name" in obj:
            self._check_name(entity, obj)
        handler = getattr(self, f"_create_{entity.lower()}", None)
        if handler is not None:
            handler(obj)
        stored = self._store(entity, obj)
        self.created_at[(entity, stored["Id"])] = at
        return copy.deepcopy(stored)

    def _sales_totals(self, obj: dict[str, Any]) -> None:
        subtotal = taxable = 0.0
        for line in obj["Line"]:
            detail = line["SalesItemLineDetail"]
            if line["Amount"] != round(detail["Qty"] * detail["UnitPrice"], 2):
                raise BooksRuleError(f"6070 amount {line}")
            subtotal += line["Amount"]
            taxable += line["Amount"] if detail["TaxCodeRef"]["value"] == "TAX" else 0
        tax = round(taxable * 0.08, 2)
        obj["TxnTaxDetail"] = {**obj.get("TxnTaxDetail", {}), "TotalTax": tax}
        obj["TotalAmt"] = round(subtotal + tax, 2)
        obj["Balance"] = obj["TotalAmt"] if obj.get("_kind") == "Invoice" else 0

    def _create_invoice(self, obj: dict[str, Any]) -> None:
        obj["_kind"] = "Invoice"
        self._sales_totals(obj)
        del obj["_kind"]
        for link in obj.get("LinkedTxn", []):
            estimate = self.get("Estimate", link["TxnId"])
            estimate["TxnStatus"] = "Closed"
            estimate["SyncToken"] = str(int(estimate["SyncToken"]) + 1)

    _create_estimate = _create_creditmemo = _create_salesreceipt = _create_refundreceipt = (
        _sales_totals
    )

    def _apply(self, obj: dict[str, Any], target: str) -> None:
        applied = 0.0
        for line in obj["Line"]:
            (link,) = line["LinkedTxn"]
            doc = self.get(target, link["TxnId"])
            if line["Amount"] <= 0 or line["Amount"] > doc["Balance"] + 1e-9:
                raise BooksRuleError(f"over-applied {line['Amount']} to {target} {doc}")
            doc["Balance"] = round(doc["Balance"] - line["Amount"], 2)
            doc["SyncToken"] = str(int(doc["SyncToken"]) + 1)
            applied += line["Amount"]
        if applied > obj["TotalAmt"] + 1e-9:
            raise BooksRuleError("6000 applied more than received")
        obj["UnappliedAmt"] = round(obj["TotalAmt"] - applied, 2)

    def _create_payment(self, obj: dict[str, Any]) -> None:
        self._apply(obj, "Invoice")

    def _create_billpayment(self, obj: dict[str, Any]) -> None:
        self._apply(obj, "Bill")

    def _create_bill(self, obj: dict[str, Any]) -> None:
        obj["TotalAmt"] = obj["Balance"] = round(sum(x["Amount"] for x in obj["Line"]), 2)

    def _create_purchase(self, obj: dict[str, Any]) -> None:
        obj["TotalAmt"] = round(sum(x["Amount"] for x in obj["Line"]), 2)

    def _create_journalentry(self, obj: dict[str, Any]) -> None:
        sides = Counter()
        for line in obj["Line"]:
            sides[line["JournalEntryLineDetail"]["PostingType"]] += round(line["Amount"] * 100)
        if sides["Debit"] != sides["Credit"]:
            raise BooksRuleError("2300 debits != credits")

    def _create_deposit(self, obj: dict[str, Any]) -> None:
        for line in obj["Line"]:
            for link in line.get("LinkedTxn", []):
                payment = self.get("Payment", link["TxnId"])
                if any(x["TxnType"] == "Deposit" for x in payment.get("LinkedTxn", [])):
                    raise BooksRuleError(f"payment {link['TxnId']} deposited twice")
                payment.setdefault("LinkedTxn", []).append({"TxnType": "Deposit"})
                payment["SyncToken"] = str(int(payment["SyncToken"]) + 1)
        obj["TotalAmt"] = round(sum(x["Amount"] for x in obj["Line"]), 2)

    def _current(self, entity: str, payload: dict[str, Any]) -> dict[str, Any]:
        obj = self.get(entity, payload["Id"])
        if str(payload["SyncToken"]) != obj["SyncToken"]:
            raise BooksRuleError(f"5010 stale {entity} {payload['Id']}")
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        return obj

    def update(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        self._record("update", entity, payload, at)
        if payload.get("sparse") is not True:
            raise BooksRuleError("generator updates must be sparse")
        self._check_refs(payload)
        obj = self._current(entity, payload)
        obj.update({k: copy.deepcopy(v) for k, v in payload.items() if k not in ("SyncToken",)})
        if entity == "Purchase":
            self._create_purchase(obj)
        return copy.deepcopy(obj)

    def void(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        self._record("void", entity, payload, at)
        obj = self._current(entity, payload)
        if entity == "Invoice" and obj["Balance"] != obj["TotalAmt"]:
            raise BooksRuleError("voided an invoice with payments applied")
        obj.update(TotalAmt=0, Balance=0, PrivateNote="Voided")
        return copy.deepcopy(obj)

    def delete(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        self._record("delete", entity, payload, at)
        self._current(entity, payload)
        del self.objects[entity][payload["Id"]]
        return {"status": "Deleted", "Id": payload["Id"]}

    def list(self, entity: str) -> list[dict]:
        return [copy.deepcopy(o) for o in self.objects.get(entity, {}).values()]

    def payloads(self, entity: str, op: str = "create") -> list[dict[str, Any]]:
        return [json.loads(p) for o, e, p, _ in self.log if (o, e) == (op, entity)]


def _generate(**kwargs: Any) -> tuple[FakeBooks, GroundTruth]:
    books = FakeBooks()
    truth = generate_company(books, end=END, **kwargs)
    return books, truth


@pytest.fixture(scope="module")
def tiny() -> tuple[FakeBooks, GroundTruth]:
    return _generate(size="tiny", seed=3)


@pytest.fixture(scope="module")
def demo() -> tuple[FakeBooks, GroundTruth]:
    return _generate(size="demo", seed=1, multi_currency=True)


def _transactions_in(books: FakeBooks) -> int:
    return sum(
        1 for op, entity, _, _ in books.log if op == "create" and entity in TRANSACTION_ENTITIES
    )


def test_same_seed_gives_the_same_payload_sequence(tiny: tuple[FakeBooks, GroundTruth]) -> None:
    again, truth = _generate(size="tiny", seed=3)
    assert again.log == tiny[0].log
    assert truth.to_dict() == tiny[1].to_dict()
    other, _ = _generate(size="tiny", seed=4)
    assert other.log != tiny[0].log


def test_tiny_and_demo_sizes(tiny, demo) -> None:
    assert 150 <= tiny[1].transaction_count <= 260
    assert 4_000 <= demo[1].transaction_count <= 6_000
    for books, truth in (tiny, demo):
        assert _transactions_in(books) == truth.transaction_count
    assert SIZES["bench"].transactions >= 100_000


def test_history_spans_the_profile_and_ends_at_end(tiny, demo) -> None:
    for (books, truth), months in ((tiny, 12), (demo, 24)):
        dates = [
            json.loads(p)["TxnDate"]
            for o, e, p, _ in books.log
            if o == "create" and e in TRANSACTION_ENTITIES
        ]
        assert max(dates) <= END.isoformat()
        assert min(dates) == truth.start
        assert (END - date.fromisoformat(truth.start)).days >= months * 30
        stamps = [at for *_, at in books.log]
        assert stamps == sorted(stamps, key=datetime.fromisoformat)


def test_every_entity_type_and_edit_appears(tiny, demo) -> None:
    for books, truth in (tiny, demo):
        for entity in (
            *TRANSACTION_ENTITIES,
            "Account",
            "Term",
            "PaymentMethod",
            "Class",
            "Department",
            "Customer",
            "Vendor",
            "Employee",
            "Item",
        ):
            assert truth.created[entity] > 0, entity
        ops = Counter(op for op, *_ in books.log)
        assert ops["void"] >= 1 and ops["delete"] >= 1 and ops["update"] >= 1
        assert len(truth.voided) == ops["void"] and len(truth.deleted) == ops["delete"]
    items = tiny[0].payloads("Item")
    assert {i["Type"] for i in items} == {"Service", "NonInventory", "Inventory"}
    assert all(i["Sku"] for i in items)
    vendors = demo[0].payloads("Vendor")
    assert any(v["Vendor1099"] for v in vendors) and not all(v["Vendor1099"] for v in vendors)
    customers = demo[0].payloads("Customer")
    assert any(c.get("Job") and c["ParentRef"]["value"] for c in customers)
    assert 35 <= tiny[1].created["Account"] <= 60


def test_display_names_never_collide(demo) -> None:
    books, _ = demo
    names = [o["DisplayName"].lower() for e in PEOPLE for o in books.objects[e].values()]
    assert len(names) == len(set(names))
    assert not any(":" in n for n in names)


def test_sales_lines_are_consistent(demo) -> None:
    books, _ = demo
    checked = 0
    for entity in SALES_FORMS:
        for payload in books.payloads(entity):
            for line in payload["Line"]:
                detail = line["SalesItemLineDetail"]
                assert line["Amount"] == round(detail["Qty"] * detail["UnitPrice"], 2)
                checked += 1
    assert checked > 3_000


def test_payments_never_over_apply_and_some_are_unapplied(demo) -> None:
    books, _ = demo
    invoices = books.objects["Invoice"].values()
    assert all(inv["Balance"] >= 0 for inv in invoices)
    assert any(0 < inv["Balance"] < inv["TotalAmt"] for inv in invoices)  # partially paid
    payments = books.objects["Payment"].values()
    assert any(p["UnappliedAmt"] > 0 for p in payments)
    for payment in books.payloads("Payment"):
        assert sum(x["Amount"] for x in payment["Line"]) <= payment["TotalAmt"] + 1e-9
    assert all(b["Balance"] >= 0 for b in books.objects["Bill"].values())


def test_estimates_convert_into_linked_invoices(demo) -> None:
    books, _ = demo
    linked = [p for p in books.payloads("Invoice") if p.get("LinkedTxn")]
    assert linked
    for invoice in linked:
        (link,) = invoice["LinkedTxn"]
        assert link["TxnType"] == "Estimate"
        assert books.get("Estimate", link["TxnId"])["TxnStatus"] == "Closed"
    statuses = Counter(p["TxnStatus"] for p in books.payloads("Estimate", "update"))
    assert statuses["Rejected"] > 0 and statuses["Accepted"] > 0


def test_expense_labels_match_payloads(demo) -> None:
    books, truth = demo
    assert truth.expense_labels
    for label in truth.expense_labels:
        stored = books.get(label.entity, label.txn_id)
        line = stored["Line"][label.line_index]
        assert line["Amount"] == label.amount
        assert line["Description"] == label.memo
        assert (
            line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == label.posted_account_id
        )
        party = stored.get("EntityRef") or stored["VendorRef"]
        assert party["value"] == label.vendor_id
    noisy = sum(x.noisy for x in truth.expense_labels) / len(truth.expense_labels)
    assert 0.02 <= noisy <= 0.12
    fuel = [x for x in truth.expense_labels if x.vendor_name == "Shell"]
    assert fuel and all(x.true_account_name == "Fuel" for x in fuel)


def test_anomalies_are_recorded_and_consistent(tiny, demo) -> None:
    for books, truth in (tiny, demo):
        assert {a.kind for a in truth.anomalies} == set(ANOMALY_KINDS)
        for anomaly in truth.anomalies:
            stored = books.get(anomaly.entity, anomaly.txn_id)
            at = books.created_at[(anomaly.entity, anomaly.txn_id)]
            if anomaly.kind.startswith("duplicate"):
                (first_id,) = anomaly.related_ids
                first = books.get(anomaly.entity, first_id)
                assert first["TotalAmt"] == stored["TotalAmt"]
                assert (first.get("VendorRef") or first["EntityRef"]) == (
                    stored.get("VendorRef") or stored["EntityRef"]
                )
                assert (
                    1
                    <= (
                        date.fromisoformat(stored["TxnDate"]) - date.fromisoformat(first["TxnDate"])
                    ).days
                    <= 6
                )
            elif anomaly.kind == "odd_timing":
                assert at.weekday() >= 5 and at.hour == 3
            elif anomaly.kind == "year_end":
                assert stored["TxnDate"].endswith("-12-31") and at.hour == 23
            elif anomaly.kind == "unusual_amount":
                assert "x " in anomaly.reason and float(anomaly.reason.split("is ")[1][:4]) >= 9.9
            elif anomaly.kind == "new_vendor_large_payment":
                vendor_id, bill_id = anomaly.related_ids
                assert stored["VendorRef"]["value"] == vendor_id and stored["TotalAmt"] >= 8_000
                assert books.get("Bill", bill_id)["VendorRef"]["value"] == vendor_id
                paid = [
                    p
                    for p in books.objects["BillPayment"].values()
                    if p["VendorRef"]["value"] == vendor_id
                ]
                assert [p["Id"] for p in paid] == [anomaly.txn_id]
                vendor_born = books.created_at[("Vendor", vendor_id)]
                assert at.date() == vendor_born.date()


def test_sink_answers_may_come_in_an_envelope() -> None:
    assert unwrap("Invoice", {"Invoice": {"Id": "7"}, "time": "x"}) == {"Id": "7"}
    assert unwrap("Invoice", {"Id": "7"}) == {"Id": "7"}


def test_customer_profiles_cover_every_behaviour(demo) -> None:
    _, truth = demo
    behaviours = Counter(p.behaviour for p in truth.customer_profiles)
    assert set(behaviours) == {"prompt", "late", "partial"}
    assert len(truth.customer_profiles) == truth.created["Customer"]


def test_multi_currency_realm(demo) -> None:
    books, truth = demo
    foreign = [c for c in books.payloads("Customer") if "CurrencyRef" in c]
    assert {c["CurrencyRef"]["value"] for c in foreign} <= {"EUR", "GBP", "CAD"} and foreign
    invoices = [i for i in books.payloads("Invoice") if "CurrencyRef" in i]
    assert invoices and all(0.5 < i["ExchangeRate"] < 2 for i in invoices)
    assert any("CurrencyRef" in b for b in books.payloads("Bill"))
    assert {p.currency for p in truth.customer_profiles} > {"USD"}


def test_truth_round_trips_through_json(tiny, tmp_path) -> None:
    _, truth = tiny
    path = tmp_path / "truth.json"
    truth.to_json(path)
    again = GroundTruth.from_json(path)
    assert again.to_dict() == truth.to_dict()
    assert again.anomalies == truth.anomalies
    assert again.label(truth.expense_labels[0].entity, truth.expense_labels[0].txn_id, 0)


def test_simulate_days_continues_a_company() -> None:
    books, _ = _generate(size="tiny", seed=5)
    before = len(books.log)
    start = datetime(2025, 7, 1, 9, 30, tzinfo=PACIFIC)
    truth = simulate_days(books, days=45, seed=9, start=start)
    added = books.log[before:]
    assert truth.transaction_count > 10
    assert all(datetime.fromisoformat(at) >= start for *_, at in added)
    dates = [
        json.loads(p)["TxnDate"]
        for o, e, p, _ in added
        if o == "create" and e in TRANSACTION_ENTITIES
    ]
    assert min(dates) >= "2025-07-01" and max(dates) <= "2025-08-14"
    assert truth.created["Customer"] == 0 and truth.created["Account"] == 0
    twin, _ = _generate(size="tiny", seed=5)
    simulate_days(twin, days=45, seed=9, start=start)
    assert twin.log == books.log


def test_company_names_are_deterministic() -> None:
    assert company_name(2, 0) == company_name(2, 0)
    assert len({company_name(2, i) for i in range(6)}) > 1
    assert company_name(0, 0) != company_name(1, 0)


def test_timestamps_are_in_the_past_of_end(tiny) -> None:
    books, _ = tiny
    last = datetime(END.year, END.month, END.day, tzinfo=PACIFIC) + timedelta(days=1)
    assert all(datetime.fromisoformat(at) < last for *_, at in books.log)
