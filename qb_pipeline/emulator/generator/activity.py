"""A company's business over time: day by day, the sales, spending, month-end routines,
planted anomalies and the occasional void, delete and sparse update, in time order.

Real: each change is sent with the moment it happens (``at``) in company time, so the server
stamps ``MetaData`` in the past; transactions are dated the day they happen. Faked: volumes
follow a growth trend, a yearly season and a weekday shape; counts per day are drawn by
carrying fractions forward (deterministic, no Poisson noise). Not implemented: time activity,
transfers, vendor credits, purchase orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from qb_pipeline.emulator.clock import COMPANY_TZ
from qb_pipeline.emulator.generator.anomalies import Planter
from qb_pipeline.emulator.generator.maintenance import Maintenance
from qb_pipeline.emulator.generator.profile import Volume
from qb_pipeline.emulator.generator.sales import Sales
from qb_pipeline.emulator.generator.spending import Spending
from qb_pipeline.emulator.generator.state import Company, Schedule, Writer

# Transactions of each kind per invoice drawn (estimates convert to more invoices later).
MIX = {
    "invoice": 1.0,
    "estimate": 0.25,
    "sales_receipt": 0.3,
    "credit_memo": 0.04,
    "refund": 0.02,
    "purchase": 1.1,
    "bill": 0.35,
}
# All transactions an invoice drags along: payments, bill payments, converted estimates...
TRANSACTIONS_PER_INVOICE = 4.6
DEPOSIT_EARLY = 25
LOAN_PAYMENT = (
    "Equipment loan payment",
    [("loan", 610_00), ("interest", 135_00)],
    [("checking", 745_00)],
)
DEPRECIATION = (
    "Monthly depreciation",
    [("depreciation", 850_00)],
    [("accum_depr", 850_00)],
)  # undeposited payments that trigger a deposit before Friday


@dataclass(frozen=True)
class Rates:
    """Daily rates: sales and spending per unit of day weight; edits per day."""

    invoices: float
    voids: float
    deletes: float
    updates: float
    routines: tuple[str, ...]
    noise: float
    minimum: float = 0.0  # expected count of every kind over the run, however small the company


def last_day_of_month(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


class Simulation:
    """Runs days of business against a sink through the sales and spending builders."""

    def __init__(
        self,
        company: Company,
        writer: Writer,
        rng: random.Random,
        volume: Volume,
        *,
        rates: Rates,
        anomaly_plan: dict[int, list[str]],
    ) -> None:
        self.company, self.writer, self.rng = company, writer, rng
        self.volume, self.rates, self.anomaly_plan = volume, rates, anomaly_plan
        self.schedule = Schedule()
        self.not_before: datetime | None = None  # no change earlier than this (read-back runs)
        self.sales = Sales(company, writer, rng, self.schedule)
        self.spending = Spending(company, writer, rng, self.schedule, rates.noise)
        self.planter = Planter(
            company, writer, rng, self.schedule, sales=self.sales, spending=self.spending
        )
        self.maintenance = Maintenance(company, writer, rng, self.sales, self.spending)
        self.carry = {name: rng.random() for name in (*MIX, "void", "delete", "update")}
        floor = rates.minimum / volume.total_weight()
        self.kind_rates = {name: max(share * rates.invoices, floor) for name, share in MIX.items()}
        self.makers = {
            "invoice": self.sales.invoice,
            "estimate": self.sales.estimate,
            "sales_receipt": self.sales.sales_receipt,
            "credit_memo": self.sales.credit_memo,
            "refund": self.sales.refund,
            "purchase": self.spending.purchase,
            "bill": self.spending.bill,
        }

    def run(self, start: date, days: int) -> None:
        """Simulate ``days`` days from ``start``."""
        for offset in range(days):
            self.day(start + timedelta(days=offset), offset >= min(10, days // 3))

    def _count(self, name: str, expected: float) -> int:
        total = self.carry[name] + expected
        whole = int(total)
        self.carry[name] = total - whole
        return whole

    def at(self, day: date, minute: int) -> datetime:
        minute = min(minute, 24 * 60 - 1)
        moment = datetime(
            day.year,
            day.month,
            day.day,
            minute // 60,
            minute % 60,
            self.rng.randrange(60),
            tzinfo=COMPANY_TZ,
        )
        if self.not_before is not None and moment < self.not_before:
            return self.not_before
        return moment

    def day(self, day: date, edits: bool) -> None:
        """One day of business, every change in time order."""
        weight = self.volume.weight(day)
        events: list[tuple[int, Any, tuple[Any, ...]]] = []
        for name, rate in self.kind_rates.items():
            for _ in range(self._count(name, rate * weight)):
                start, end = (8 * 60, 18 * 60) if day.weekday() < 5 else (9 * 60, 14 * 60)
                events.append((self.rng.randrange(start, end), self.makers[name], ()))
        events.extend(self.schedule.due(day))
        events.extend(self._routines(day))
        events.extend(self.planter.events(self.anomaly_plan.get(day.toordinal(), [])))
        if edits:
            events.extend(self._edits())
        events.sort(key=lambda event: event[0])
        for minute, action, args in events:
            action(self.at(day, minute), *args)
        undeposited = len(self.company.undeposited)
        if undeposited and (day.weekday() == 4 or undeposited >= DEPOSIT_EARLY):
            self.sales.deposit_payments(self.at(day, 17 * 60 + 30))

    def _edits(self) -> list[tuple[int, Any, tuple[Any, ...]]]:
        out = []
        for name, rate, action in (
            ("void", self.rates.voids, self.maintenance.void),
            ("delete", self.rates.deletes, self.maintenance.delete),
            ("update", self.rates.updates, self.maintenance.update),
        ):
            out.extend(
                (self.rng.randrange(8 * 60, 18 * 60), action, ())
                for _ in range(self._count(name, rate))
            )
        return out

    def _routines(self, day: date) -> list[tuple[int, Any, tuple[Any, ...]]]:
        """Month-based routines: recurring bills, payroll, card and loan payments, taxes."""
        routines, spending = self.rates.routines, self.spending
        out: list[tuple[int, Any, tuple[Any, ...]]] = [(8 * 60 + 30, spending.recurring_bills, ())]
        month_end = last_day_of_month(day)
        if "payroll" in routines and self.company.employees:
            twice = len(self.company.employees) >= 8
            if month_end or (twice and day.day == 15):
                out.append((15 * 60, spending.payroll, ()))
        if "card_payment" in routines and day.day == 25:
            out.append((10 * 60, spending.card_payment, ()))
        if "loan_payment" in routines and day.day == 5:
            out.append((10 * 60 + 15, self._journal, LOAN_PAYMENT))
        if "depreciation" in routines and month_end:
            out.append((16 * 60 + 30, self._journal, DEPRECIATION))
        if "sales_tax" in routines and day.day == 20 and day.month in (1, 4, 7, 10):
            out.append((11 * 60, spending.sales_tax_payment, ()))
        if "interest" in routines and month_end:
            interest = ("interest_income", "savings", 500 + self.rng.randrange(4000), "Interest")
            out.append((16 * 60 + 45, self.sales.plain_deposit, interest))
        return out

    def _journal(
        self, at: datetime, memo: str, debits: list[tuple[str, int]], credits: list[tuple[str, int]]
    ) -> None:
        self.spending.journal(at, memo, debits, credits)

    def resume(self, first: date) -> None:
        """Plan the fate of documents already open when a read-back run starts on ``first``."""
        rng, schedule = self.rng, self.schedule
        for doc in self.company.open_invoices.values():
            if rng.random() < 0.6:
                later = first + timedelta(days=rng.randint(0, 30))
                schedule.add(
                    later, rng.randrange(9 * 60, 17 * 60), self.sales.pay, doc.id, None, False
                )
        for doc in self.company.open_bills.values():
            due = doc.txn_date + timedelta(days=doc.party.term_days)
            later = max(due, first + timedelta(days=rng.randint(0, 10)))
            schedule.add(later, rng.randrange(9 * 60, 16 * 60), self.spending.pay_bill, doc.id)
        for doc in self.company.estimates.values():
            later = first + timedelta(days=rng.randint(0, 14))
            schedule.add(later, rng.randrange(9 * 60, 17 * 60), self.sales.accept_estimate, doc.id)

    def opening_balances(self, day: date) -> None:
        """The opening balance entry every new QBO company starts with."""
        self.spending.journal(
            self.at(day, 8 * 60),
            "Opening Balance",
            [("checking", 25_000_00), ("vehicles", 38_000_00), ("equipment", 12_000_00)],
            [("loan", 30_000_00), ("obe", 45_000_00)],
        )
