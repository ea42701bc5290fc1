"""Read an existing company back through the sink, so more days of business can follow.

Real: everything comes from ``sink.list`` (accounts, terms, lists, open invoices and bills,
pending estimates, undeposited payments), with Ids and SyncTokens as the server has them.
Faked: what the books cannot say is re-derived: a customer's payment behaviour from its name
(the same function the generator used), a vendor's spending pattern from its name's template.
Accounts, terms and items a foreign company lacks are created. Not implemented: reading back
the ground truth of earlier runs.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from qb_pipeline.emulator.generator.catalog import BUSINESS_KINDS, BusinessKind, kind_for_seed
from qb_pipeline.emulator.generator.names import (
    COMMON_VENDORS,
    EXTRA_VENDOR_KINDS,
    INDUSTRY_VENDORS,
    VendorTemplate,
)
from qb_pipeline.emulator.generator.profile import SIZES
from qb_pipeline.emulator.generator.setup import (
    Builder,
    SetupClock,
    create_customers,
    create_vendors,
    ensure_accounts,
    ensure_items,
    ensure_simple_lists,
    find_tax_code,
)
from qb_pipeline.emulator.generator.state import (
    Company,
    OpenDoc,
    Party,
    Writer,
    behaviour_for,
    cents,
)

DELETED = " (deleted)"


def detect_kind(items: list[dict[str, Any]], seed: int) -> BusinessKind:
    """The kind of business whose item names the company uses most."""
    names = {str(i.get("Name", "")).lower() for i in items}
    scores = [sum(s.name.lower() in names for s in kind.items) for kind in BUSINESS_KINDS]
    best = max(scores)
    return BUSINESS_KINDS[scores.index(best)] if best else kind_for_seed(seed)


def _template_for(name: str, kind: BusinessKind) -> VendorTemplate | None:
    for template in COMMON_VENDORS + INDUSTRY_VENDORS[kind.key]:
        if template.name.lower() == name.lower():
            return template
    for pattern, mode, uses, typical, is_1099 in EXTRA_VENDOR_KINDS:
        if name.endswith(pattern.replace("{w}", "")):
            return VendorTemplate(name, mode, uses, typical, is_1099=is_1099)
    return None


def load_company(writer: Writer, rng: random.Random, seed: int, not_before: datetime) -> Company:
    """The generator's view of a company already in the sink (missing basics are created)."""
    sink = writer.sink
    kind = detect_kind(sink.list("Item"), seed)
    first_day = not_before.date()
    company, clock = Company(kind=kind), SetupClock(first_day)
    clock.moment = not_before
    b = Builder(writer, rng, company, clock)
    ensure_accounts(b)
    ensure_simple_lists(b)
    find_tax_code(writer, company)
    ensure_items(b, first_day, SIZES["tiny"])
    days_by_term = dict(company.terms.values())
    for entity in ("Customer", "Vendor", "Employee"):
        for obj in sink.list(entity):
            company.names[str(obj.get("DisplayName", "")).lower()] = entity
    _load_parties(writer, company, days_by_term)
    _ensure_parties(b)
    _load_documents(writer, company)
    return company


def _ensure_parties(b: Builder) -> None:
    """A company the generator did not build may lack customers or vendors of some kind."""
    base, company = SIZES["tiny"], b.company
    if not company.customers:
        create_customers(b, replace(base, customers=10), False)
    modes = {p.template.mode for p in company.vendors if p.template is not None}
    if not {"purchase", "bill", "recurring"} <= modes:
        create_vendors(b, replace(base, extra_vendors=0), False)


def _party(obj: dict[str, Any], days_by_term: dict[str, int], term_field: str) -> Party:
    term_id = str(obj.get(term_field, {}).get("value", "")) or None
    return Party(
        str(obj["Id"]),
        str(obj["DisplayName"]),
        str(obj.get("CurrencyRef", {}).get("value", "USD")),
        term_id=term_id,
        term_days=days_by_term.get(term_id or "", 30),
        taxable=bool(obj.get("Taxable", True)),
    )


def _load_parties(writer: Writer, company: Company, days_by_term: dict[str, int]) -> None:
    customers = [c for c in writer.sink.list("Customer") if c.get("Active", True)]
    names = {str(c["Id"]): str(c["DisplayName"]) for c in customers}
    for obj in customers:
        party = _party(obj, days_by_term, "SalesTermRef")
        parent = names.get(str(obj.get("ParentRef", {}).get("value", "")), party.name)
        party.behaviour = behaviour_for(parent)
        company.customers.append(party)
    for obj in writer.sink.list("Vendor"):
        name = str(obj.get("DisplayName", "")).removesuffix(DELETED)
        template = _template_for(name, company.kind)
        if obj.get("Active", True) and template is not None:
            party = _party(obj, days_by_term, "TermRef")
            party.template = template
            company.vendors.append(party)
    company.employees = [
        str(e["Id"]) for e in writer.sink.list("Employee") if e.get("Active", True)
    ]


def _load_documents(writer: Writer, company: Company) -> None:
    parties = {p.id: p for p in company.customers}
    for obj in writer.sink.list("Invoice"):
        party = parties.get(str(obj.get("CustomerRef", {}).get("value")))
        if party is not None and float(obj.get("Balance", 0)) > 0:
            company.open_invoices[str(obj["Id"])] = _doc(obj, party, touched=True)
    for obj in writer.sink.list("Estimate"):
        party = parties.get(str(obj.get("CustomerRef", {}).get("value")))
        if party is not None and obj.get("TxnStatus", "Pending") == "Pending":
            doc = _doc(obj, party, touched=False)
            doc.lines = [
                _clean_line(x)
                for x in obj.get("Line", [])
                if x.get("DetailType") == "SalesItemLineDetail"
            ]
            if doc.lines:
                company.estimates[doc.id] = doc
    vendors = {p.id: p for p in company.vendors}
    for obj in writer.sink.list("Bill"):
        party = vendors.get(str(obj.get("VendorRef", {}).get("value")))
        if party is not None and float(obj.get("Balance", 0)) > 0:
            company.open_bills[str(obj["Id"])] = _doc(obj, party, touched=True)
    undeposited = company.accounts["undeposited"]
    for obj in writer.sink.list("Payment"):
        deposited = any(x.get("TxnType") == "Deposit" for x in obj.get("LinkedTxn", []))
        target = str(obj.get("DepositToAccountRef", {}).get("value", undeposited))
        if not deposited and target == undeposited and float(obj.get("TotalAmt", 0)) > 0:
            company.undeposited.append((str(obj["Id"]), cents(float(obj["TotalAmt"]))))


def _doc(obj: dict[str, Any], party: Party, touched: bool) -> OpenDoc:
    return OpenDoc(
        str(obj["Id"]),
        party,
        cents(float(obj.get("TotalAmt", 0))),
        cents(float(obj.get("Balance", 0))),
        str(obj.get("SyncToken", "0")),
        date.fromisoformat(str(obj["TxnDate"])),
        touched=touched,
    )


def _clean_line(line: dict[str, Any]) -> dict[str, Any]:
    detail = line["SalesItemLineDetail"]
    clean = {key: detail[key] for key in ("Qty", "UnitPrice", "TaxCodeRef") if key in detail}
    clean["ItemRef"] = {"value": str(detail["ItemRef"]["value"])}
    return {
        "Description": line.get("Description", ""),
        "Amount": line["Amount"],
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": clean,
    }


def invoice_rate(writer: Writer, mean_weight: float) -> float:
    """Invoices per unit of day weight, from the company's own invoice history."""
    dates = sorted(str(o["TxnDate"]) for o in writer.sink.list("Invoice") if o.get("TxnDate"))
    if len(dates) < 2:
        return 1.0
    span = (date.fromisoformat(dates[-1]) - date.fromisoformat(dates[0])).days + 1
    return len(dates) / span / mean_weight


def random_for(seed: int, first_day: date) -> random.Random:
    return random.Random(f"simulate:{seed}:{first_day.isoformat()}")
