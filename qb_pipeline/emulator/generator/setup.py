"""Set a synthetic company up: chart of accounts, terms, payment methods, classes, departments,
tax code, items, employees, vendors and customers (with jobs), as a bookkeeper would.

Real: create payloads shaped like the QBO API's (names unique across Customer/Vendor/Employee,
no ':' in names, sub-customers with ``Job``/``ParentRef``, inventory items with
``QtyOnHand``/``InvStartDate`` and their three account refs). Objects the server already seeded
(accounts, terms, payment methods, tax codes) are reused by name instead of created twice.
Faked: names, addresses, prices. Not implemented: custom fields, price levels, sub-accounts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from qb_pipeline.emulator.clock import COMPANY_TZ
from qb_pipeline.emulator.generator.catalog import (
    FOREIGN_CURRENCIES,
    PAYMENT_METHODS,
    TERMS,
    BusinessKind,
    all_accounts,
)
from qb_pipeline.emulator.generator.names import (
    COMMON_VENDORS,
    COMPANY_WORDS,
    EXTRA_VENDOR_KINDS,
    INDUSTRY_VENDORS,
    LAST_NAMES,
    STREETS,
    VendorTemplate,
    address,
    company_name_words,
    person_name,
    phone,
)
from qb_pipeline.emulator.generator.profile import SizeProfile
from qb_pipeline.emulator.generator.state import Company, ItemRec, Party, Writer, behaviour_for
from qb_pipeline.emulator.generator.truth import CustomerProfile

SINGLETON_SUBTYPES = ("UndepositedFunds", "AccountsReceivable", "AccountsPayable")
TERM_WEIGHTS = (("Net 30", 55), ("Net 15", 20), ("Due on receipt", 15), ("Net 60", 10))


class SetupClock:
    """Setup happens in the week before the history starts, a few seconds per object."""

    def __init__(self, start: date) -> None:
        first = start - timedelta(days=7)
        self.moment = datetime(first.year, first.month, first.day, 9, 0, tzinfo=COMPANY_TZ)

    def tick(self) -> datetime:
        self.moment += timedelta(seconds=23)
        return self.moment


@dataclass(frozen=True)
class Builder:
    """What every setup step needs: where to write, the seeded random source, the clock."""

    writer: Writer
    rng: random.Random
    company: Company
    clock: SetupClock


def _by_name(objects: list[dict[str, Any]], field: str = "Name") -> dict[str, dict[str, Any]]:
    return {str(o.get(field, "")).lower(): o for o in objects}


def setup_company(
    writer: Writer,
    rng: random.Random,
    kind: BusinessKind,
    size: SizeProfile,
    *,
    start: date,
    multi_currency: bool,
) -> Company:
    """Create every name list the history needs; returns the generator's view of the company."""
    company = Company(kind=kind)
    b = Builder(writer, rng, company, SetupClock(start))
    for entity in ("Customer", "Vendor", "Employee"):
        for obj in writer.sink.list(entity):
            company.names[str(obj.get("DisplayName", "")).lower()] = entity
    ensure_accounts(b)
    ensure_simple_lists(b)
    find_tax_code(writer, company)
    ensure_items(b, start, size)
    _employees(b, start, size)
    create_vendors(b, size, multi_currency)
    create_customers(b, size, multi_currency)
    return company


def ensure_accounts(b: Builder) -> None:
    writer, company, clock = b.writer, b.company, b.clock
    existing = writer.sink.list("Account")
    named = _by_name(existing)
    by_subtype = {o.get("AccountSubType"): o for o in existing if o.get("Active", True)}
    for spec in all_accounts(company.kind):
        found = named.get(spec.name.lower())
        if found is None and spec.sub_type in SINGLETON_SUBTYPES:
            found = by_subtype.get(spec.sub_type)
        if found is None:
            payload = {
                "Name": spec.name,
                "AccountType": spec.account_type,
                "AccountSubType": spec.sub_type,
            }
            found = writer.create("Account", payload, clock.tick())
        company.accounts[spec.key] = str(found["Id"])
        company.account_names[str(found["Id"])] = str(found.get("Name", spec.name))


def ensure_simple_lists(b: Builder) -> None:
    writer, company, clock = b.writer, b.company, b.clock
    terms = _by_name(writer.sink.list("Term"))
    for name, days in TERMS:
        found = terms.get(name.lower()) or writer.create(
            "Term", {"Name": name, "Type": "STANDARD", "DueDays": days}, clock.tick()
        )
        company.terms[name] = (str(found["Id"]), days)
    methods = _by_name(writer.sink.list("PaymentMethod"))
    for name, method_type in PAYMENT_METHODS:
        found = methods.get(name.lower()) or writer.create(
            "PaymentMethod", {"Name": name, "Type": method_type}, clock.tick()
        )
        company.methods[name] = str(found["Id"])
    for entity, names, target in (
        ("Class", company.kind.classes, company.classes),
        ("Department", company.kind.departments, company.departments),
    ):
        existing = _by_name(writer.sink.list(entity))
        for name in names:
            found = existing.get(name.lower()) or writer.create(
                entity, {"Name": name}, clock.tick()
            )
            target.append(str(found["Id"]))


def find_tax_code(writer: Writer, company: Company) -> None:
    """The server seeds tax codes; use the first active taxable one as the invoices' code."""
    for obj in writer.sink.list("TaxCode"):
        if (
            obj.get("Active", True)
            and obj.get("Taxable")
            and str(obj.get("Id"))
            not in (
                "TAX",
                "NON",
            )
        ):
            company.tax_code_id = str(obj["Id"])
            return


def ensure_items(b: Builder, start: date, size: SizeProfile) -> None:
    writer, company, clock = b.writer, b.company, b.clock
    stock = max(300, size.transactions // 2)
    existing = _by_name(writer.sink.list("Item"))
    for spec in company.kind.items:
        payload: dict[str, Any] = {
            "Name": spec.name,
            "Type": spec.item_type,
            "Sku": spec.sku,
            "Description": spec.name,
            "UnitPrice": spec.price,
            "Taxable": spec.taxable,
            "IncomeAccountRef": company.account(spec.income_key),
        }
        if spec.item_type != "Service":
            payload["PurchaseCost"] = spec.cost
            payload["ExpenseAccountRef"] = company.account("cogs")
        if spec.item_type == "Inventory":
            payload["AssetAccountRef"] = company.account("inventory")
            payload["TrackQtyOnHand"] = True
            payload["QtyOnHand"] = stock
            payload["InvStartDate"] = (start - timedelta(days=7)).isoformat()
        found = existing.get(spec.name.lower()) or writer.create("Item", payload, clock.tick())
        company.items.append(
            ItemRec(str(found["Id"]), spec, float(found.get("UnitPrice", spec.price)))
        )


def _employees(b: Builder, start: date, size: SizeProfile) -> None:
    writer, rng, company, clock = b.writer, b.rng, b.company, b.clock
    for _ in range(size.employees):
        given, family = person_name(rng)
        name = company.unique_name(f"{given} {family}", "Employee")
        hired = start - timedelta(days=rng.randrange(30, 2000))
        payload = {
            "GivenName": given,
            "FamilyName": family,
            "DisplayName": name,
            "PrimaryPhone": {"FreeFormNumber": phone(rng)},
            "HiredDate": hired.isoformat(),
            "BillableTime": False,
        }
        company.employees.append(str(writer.create("Employee", payload, clock.tick())["Id"]))


def vendor_templates(
    kind: BusinessKind, size: SizeProfile, rng: random.Random
) -> list[VendorTemplate]:
    """The vendors a company of this kind and size trades with."""
    recurring = [t for t in COMMON_VENDORS if t.mode == "recurring"][: size.recurring_bills]
    others = [t for t in COMMON_VENDORS if t.mode != "recurring"]
    templates = recurring + others + list(INDUSTRY_VENDORS[kind.key])
    for i in range(size.extra_vendors):
        pattern, mode, uses, typical, is_1099 = EXTRA_VENDOR_KINDS[i % len(EXTRA_VENDOR_KINDS)]
        word = rng.choice(COMPANY_WORDS + LAST_NAMES)
        templates.append(
            VendorTemplate(
                pattern.format(w=word), mode, uses, typical * rng.uniform(0.6, 1.6), is_1099=is_1099
            )
        )
    return templates


def create_vendors(b: Builder, size: SizeProfile, multi_currency: bool) -> None:
    writer, rng, company, clock = b.writer, b.rng, b.company, b.clock
    for template in vendor_templates(company.kind, size, rng):
        name = company.unique_name(template.name, "Vendor")
        currency = "USD"
        if multi_currency and template.mode == "bill" and rng.random() < 0.2:
            currency = rng.choice(FOREIGN_CURRENCIES)[0]
        term_id, term_days = company.terms[template.term]
        payload: dict[str, Any] = {
            "DisplayName": name,
            "CompanyName": name,
            "Vendor1099": template.is_1099,
            "PrimaryPhone": {"FreeFormNumber": phone(rng)},
            "BillAddr": address(rng),
            "TermRef": {"value": term_id},
        }
        if currency != "USD":
            payload["CurrencyRef"] = {"value": currency}
        found = writer.create("Vendor", payload, clock.tick())
        company.vendors.append(
            Party(
                str(found["Id"]),
                name,
                currency,
                template=template,
                term_id=term_id,
                term_days=term_days,
            )
        )


def _customer_payload(rng: random.Random, company: Company) -> dict[str, Any]:
    term = rng.choices([t for t, _ in TERM_WEIGHTS], [w for _, w in TERM_WEIGHTS])[0]
    if rng.random() < 0.6:
        given, family = person_name(rng)
        name = company.unique_name(f"{given} {family}", "Customer")
        payload: dict[str, Any] = {"DisplayName": name, "GivenName": given, "FamilyName": family}
    else:
        name = company.unique_name(company_name_words(rng), "Customer")
        payload = {"DisplayName": name, "CompanyName": name}
    where = address(rng)
    email = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
    payload.update(
        PrimaryEmailAddr={"Address": f"{email}@example.com"},
        PrimaryPhone={"FreeFormNumber": phone(rng)},
        BillAddr=where,
        ShipAddr=dict(where),
        SalesTermRef={"value": company.terms[term][0]},
        Taxable=rng.random() < 0.8,
        PreferredDeliveryMethod="Email",
    )
    return payload


def create_customers(b: Builder, size: SizeProfile, multi_currency: bool) -> None:
    rng, company = b.rng, b.company
    days_by_term = dict(company.terms.values())
    for _ in range(size.customers):
        payload = _customer_payload(rng, company)
        if multi_currency and rng.random() < 0.15:
            payload["CurrencyRef"] = {"value": rng.choice(FOREIGN_CURRENCIES)[0]}
        parent = _add_customer(b, payload, days_by_term, None)
        if "CompanyName" in payload and rng.random() < 0.25:
            for _ in range(rng.randint(1, 3)):
                street = f"{rng.randrange(100, 9999)} {rng.choice(STREETS)}"
                job = {
                    "DisplayName": company.unique_name(street, "Customer"),
                    "CompanyName": parent.name,
                    "Job": True,
                    "BillWithParent": False,
                    "ParentRef": {"value": parent.id},
                    "SalesTermRef": payload["SalesTermRef"],
                    "Taxable": payload["Taxable"],
                }
                if "CurrencyRef" in payload:
                    job["CurrencyRef"] = payload["CurrencyRef"]
                _add_customer(b, job, days_by_term, parent)


def _add_customer(
    b: Builder, payload: dict[str, Any], days_by_term: dict[str, int], parent: Party | None
) -> Party:
    writer, company, clock = b.writer, b.company, b.clock
    found = writer.create("Customer", payload, clock.tick())
    name = payload["DisplayName"]
    term_id = payload["SalesTermRef"]["value"]
    party = Party(
        str(found["Id"]),
        name,
        payload.get("CurrencyRef", {}).get("value", "USD"),
        behaviour=behaviour_for(parent.name if parent else name),
        term_id=term_id,
        term_days=days_by_term[term_id],
        taxable=payload["Taxable"],
    )
    company.customers.append(party)
    writer.truth.customer_profiles.append(
        CustomerProfile(party.id, name, party.behaviour, party.currency)
    )
    return party
