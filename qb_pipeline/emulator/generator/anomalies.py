"""Planted anomalies: the needles the pipeline's anomaly detection should find.

Kinds: a duplicate bill or purchase (same vendor and amount a few days apart), an unusual
amount (about 10x the vendor's norm), odd timing (entered at 3am on a weekend), a year-end
journal entry in the last hour of the year, and a brand-new vendor paid a large sum at once.
Real: the transactions are ordinary QBO payloads; nothing marks them in the books. Faked: the
ground truth records each one (entity, Id, kind, reason). Not implemented: fraud patterns
spanning many transactions (round-tripping, split purchases).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from qb_pipeline.emulator.generator.names import COMPANY_WORDS, VendorTemplate, address, phone
from qb_pipeline.emulator.generator.sales import Sales
from qb_pipeline.emulator.generator.spending import ExpenseLine, Spending
from qb_pipeline.emulator.generator.state import Company, Party, Schedule, Writer, cents, dollars
from qb_pipeline.emulator.generator.truth import Anomaly

ANOMALY_KINDS = (
    "duplicate_bill",
    "duplicate_purchase",
    "unusual_amount",
    "odd_timing",
    "year_end",
    "new_vendor_large_payment",
)
Event = tuple[int, Any, tuple[Any, ...]]


def plan_anomalies(
    rng: random.Random, start: date, days: int, per_kind: int
) -> dict[int, list[str]]:
    """Which anomaly kinds to plant on which day (by ordinal), spread over the history."""
    every = [start + timedelta(days=i) for i in range(min(30, days // 4), days)]
    pools = {
        "duplicate_bill": every[:-7],  # the copy follows days later, still inside the history
        "duplicate_purchase": every[:-7],
        "odd_timing": [d for d in every if d.weekday() >= 5],
        "year_end": [d for d in every if d.month == 12 and d.day == 31],
    }
    plan: dict[int, list[str]] = {}
    for kind in ANOMALY_KINDS:
        pool = pools.get(kind, every)
        for _ in range(per_kind if pool else 0):
            plan.setdefault(rng.choice(pool).toordinal(), []).append(kind)
    return plan


class Planter:
    """Plants anomalies through the ordinary sales and spending builders."""

    def __init__(
        self,
        company: Company,
        writer: Writer,
        rng: random.Random,
        schedule: Schedule,
        *,
        sales: Sales,
        spending: Spending,
    ) -> None:
        self.company, self.writer, self.rng, self.schedule = company, writer, rng, schedule
        self.sales, self.spending = sales, spending

    def events(self, kinds: list[str]) -> list[Event]:
        """The day's anomaly events as (minute, action, args)."""
        out: list[Event] = []
        for kind in kinds:
            minute = self.rng.randrange(9 * 60, 16 * 60)
            if kind == "odd_timing":
                minute = 3 * 60 + self.rng.randrange(60)
            elif kind == "year_end":
                minute = 23 * 60 + self.rng.randrange(55)
            out.append((minute, getattr(self, kind), ()))
        return out

    def _record(self, entity: str, txn_id: str, kind: str, reason: str, *related: str) -> None:
        self.company.protected.add(txn_id)
        self.writer.truth.anomalies.append(Anomaly(entity, txn_id, kind, reason, related))

    def duplicate_bill(self, at: datetime) -> None:
        vendor = self.rng.choice(self.spending.bill_vendors)
        planned = self.spending.plan_lines(vendor, 1)
        original = self.spending.bill(at, vendor, planned)
        self.company.protected.add(original.id)
        later = at.date() + timedelta(days=self.rng.randint(2, 6))
        self.schedule.add(
            later, at.hour * 60 + 30, self._copy_bill, vendor, planned, original.id, at.date()
        )

    def _copy_bill(
        self, at: datetime, vendor: Party, planned: list[ExpenseLine], first: str, on: date
    ) -> None:
        doc = self.spending.bill(at, vendor, planned)
        amount = dollars(sum(x.amount for x in planned))
        reason = (
            f"same vendor {vendor.name} and amount {amount:.2f} as Bill {first} "
            f"{(at.date() - on).days} days earlier"
        )
        self._record("Bill", doc.id, "duplicate_bill", reason, first)

    def duplicate_purchase(self, at: datetime) -> None:
        vendor = self.rng.choice(self.spending.purchase_vendors)
        planned = self.spending.plan_lines(vendor, 1)
        original = self.spending.purchase(at, vendor, planned)
        self.company.protected.add(original)
        later = at.date() + timedelta(days=self.rng.randint(1, 4))
        self.schedule.add(
            later, at.hour * 60 + 10, self._copy_purchase, vendor, planned, original, at.date()
        )

    def _copy_purchase(
        self, at: datetime, vendor: Party, planned: list[ExpenseLine], first: str, on: date
    ) -> None:
        txn_id = self.spending.purchase(at, vendor, planned)
        amount = dollars(sum(x.amount for x in planned))
        reason = (
            f"same vendor {vendor.name} and amount {amount:.2f} as Purchase {first} "
            f"{(at.date() - on).days} days earlier"
        )
        self._record("Purchase", txn_id, "duplicate_purchase", reason, first)

    def unusual_amount(self, at: datetime) -> None:
        vendor = self.rng.choice(self.spending.purchase_vendors + self.spending.bill_vendors)
        memo, key = self.rng.choice(vendor.template.uses)
        typical = vendor.template.typical
        amount = cents(typical * 10 * self.rng.uniform(1.0, 1.4))
        planned = [ExpenseLine(memo, key, key, amount)]
        if vendor.template.mode == "purchase":
            entity, txn_id = "Purchase", self.spending.purchase(at, vendor, planned)
        else:
            entity, txn_id = "Bill", self.spending.bill(at, vendor, planned).id
        reason = (
            f"amount {dollars(amount):.2f} is {dollars(amount) / typical:.1f}x "
            f"{vendor.name}'s typical {typical:.2f}"
        )
        self._record(entity, txn_id, "unusual_amount", reason)

    def odd_timing(self, at: datetime) -> None:
        txn_id = self.spending.purchase(at)
        reason = f"entered on a {at.strftime('%A')} at {at.strftime('%H:%M')}"
        self._record("Purchase", txn_id, "odd_timing", reason)

    def year_end(self, at: datetime) -> None:
        amount = self.rng.randrange(15, 45) * 1000_00
        txn_id = self.spending.journal(
            at, "Year-end adjustment", [("uncategorized", amount)], [("checking", amount)]
        )
        reason = (
            f"manual journal entry of {dollars(amount):.2f} posted {at.date()} at "
            f"{at.strftime('%H:%M')}, the last hour of the fiscal year"
        )
        self._record("JournalEntry", txn_id, "year_end", reason)

    def new_vendor_large_payment(self, at: datetime) -> None:
        word = self.rng.choice(COMPANY_WORDS)
        name = self.company.unique_name(f"{word} Advisory Partners", "Vendor")
        payload = {
            "DisplayName": name,
            "CompanyName": name,
            "Vendor1099": False,
            "PrimaryPhone": {"FreeFormNumber": phone(self.rng)},
            "BillAddr": address(self.rng),
        }
        vendor_id = str(self.writer.create("Vendor", payload, at)["Id"])
        amount = cents(self.rng.uniform(8_000, 25_000))
        template = VendorTemplate(
            name, "bill", (("consulting retainer", "legal"),), dollars(amount)
        )
        vendor = Party(vendor_id, name, template=template, term_days=0)
        planned = [ExpenseLine("consulting retainer", "legal", "legal", amount)]
        bill = self.spending.bill(at + timedelta(minutes=4), vendor, planned, pay=False)
        self.company.protected.add(bill.id)
        paid = self.spending.pay_bill(at + timedelta(minutes=50), bill.id)
        if paid is None:
            return
        reason = f"first payment to new vendor {name} is {dollars(amount):.2f}, made the same day"
        self._record("BillPayment", paid, "new_vendor_large_payment", reason, vendor_id, bill.id)
