"""The spending side of a synthetic company's history: purchases, bills, bill payments and
journal entries (payroll, card payments, depreciation, loan payments, sales tax).

Real: payload shapes of the QBO API (``AccountBasedExpenseLineDetail`` lines, Purchase
``PaymentType``/``AccountRef``/``EntityRef``, BillPayment by check or card linking bills,
balanced JournalEntry lines). Faked: the expense account of a line follows from vendor and
memo (Shell + "fuel for truck" -> Fuel), except for ~5-10% noise where the bookkeeper picked
a wrong account; the ground truth keeps the true one. Not implemented: item-based expense
lines, vendor credits, purchase orders, billable expenses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from qb_pipeline.emulator.generator.catalog import NOISE_ACCOUNT_KEYS
from qb_pipeline.emulator.generator.profile import exchange_rate
from qb_pipeline.emulator.generator.state import (
    Company,
    OpenDoc,
    Party,
    RecentTxn,
    Schedule,
    Writer,
    cents,
    dollars,
)
from qb_pipeline.emulator.generator.truth import ExpenseLabel

PURCHASE_ACCOUNT = {"CreditCard": "visa", "Check": "checking", "Cash": "petty_cash"}


@dataclass(frozen=True)
class ExpenseLine:
    """One planned expense line: memo, true and posted account handles, amount in cents."""

    memo: str
    true_key: str
    posted_key: str
    amount: int


class Spending:
    """Builds and sends spending-side transactions; records the true category of each line."""

    def __init__(
        self,
        company: Company,
        writer: Writer,
        rng: random.Random,
        schedule: Schedule,
        noise: float,
    ) -> None:
        self.company, self.writer, self.rng, self.schedule = company, writer, rng, schedule
        self.noise = noise
        self.purchase_vendors = [v for v in company.vendors if v.template.mode == "purchase"]
        self.bill_vendors = [v for v in company.vendors if v.template.mode == "bill"]
        self.recurring = [v for v in company.vendors if v.template.mode == "recurring"]

    # -- lines and truth -------------------------------------------------------------------
    def plan_lines(self, vendor: Party, count: int, scale: float = 1.0) -> list[ExpenseLine]:
        """Lines for a vendor: memo and true account from its template, amount near its norm."""
        out = []
        for _ in range(count):
            memo, true_key = self.rng.choice(vendor.template.uses)
            posted = true_key
            if self.rng.random() < self.noise:
                posted = self.rng.choice([k for k in NOISE_ACCOUNT_KEYS if k != true_key])
            amount = vendor.template.typical * scale * self.rng.lognormvariate(0, 0.35) / count
            out.append(ExpenseLine(memo, true_key, posted, max(100, cents(amount))))
        return out

    def expense_lines(self, planned: list[ExpenseLine]) -> list[dict[str, Any]]:
        return [
            {
                "Amount": dollars(x.amount),
                "Description": x.memo,
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": self.company.account(x.posted_key),
                    "BillableStatus": "NotBillable",
                    "TaxCodeRef": {"value": "NON"},
                },
            }
            for x in planned
        ]

    def label(self, entity: str, txn_id: str, vendor: Party, planned: list[ExpenseLine]) -> None:
        names, accounts = self.company.account_names, self.company.accounts
        for index, x in enumerate(planned):
            true_id, posted_id = accounts[x.true_key], accounts[x.posted_key]
            self.writer.truth.expense_labels.append(
                ExpenseLabel(
                    entity,
                    txn_id,
                    index,
                    vendor.id,
                    vendor.name,
                    x.memo,
                    dollars(x.amount),
                    true_id,
                    names[true_id],
                    posted_id,
                    names[posted_id],
                )
            )

    # -- purchases -------------------------------------------------------------------------
    def purchase(
        self, at: datetime, vendor: Party | None = None, planned: list[ExpenseLine] | None = None
    ) -> str:
        """An expense paid on the spot by card, check or cash; returns its Id."""
        vendor = vendor or self.rng.choice(self.purchase_vendors)
        planned = planned or self.plan_lines(vendor, 1 if self.rng.random() < 0.85 else 2)
        payment_type = vendor.template.payment_type
        payload: dict[str, Any] = {
            "AccountRef": self.company.account(PURCHASE_ACCOUNT[payment_type]),
            "PaymentType": payment_type,
            "EntityRef": {"value": vendor.id, "type": "Vendor"},
            "TxnDate": at.date().isoformat(),
            "PrivateNote": planned[0].memo,
            "Line": self.expense_lines(planned),
        }
        if payment_type == "Check":
            payload["DocNumber"] = self.company.next_check()
        if self.company.departments and self.rng.random() < 0.3:
            payload["DepartmentRef"] = {"value": self.rng.choice(self.company.departments)}
        answer = self.writer.create("Purchase", payload, at)
        txn_id = str(answer["Id"])
        self.label("Purchase", txn_id, vendor, planned)
        if payment_type == "CreditCard":
            self.company.card_charges += sum(x.amount for x in planned)
        recent = RecentTxn("Purchase", txn_id, str(answer["SyncToken"]), payload, vendor, planned)
        self.company.remember(recent)
        return txn_id

    # -- bills and bill payments -----------------------------------------------------------
    def bill(
        self,
        at: datetime,
        vendor: Party | None = None,
        planned: list[ExpenseLine] | None = None,
        pay: bool = True,
    ) -> OpenDoc:
        """A vendor bill due by the vendor's terms; its payment is scheduled near the due date."""
        vendor = vendor or self.rng.choice(self.bill_vendors)
        planned = planned or self.plan_lines(vendor, self.rng.choice((1, 1, 1, 2, 3)))
        day = at.date()
        due = day + timedelta(days=vendor.term_days)
        payload: dict[str, Any] = {
            "VendorRef": {"value": vendor.id},
            "TxnDate": day.isoformat(),
            "DueDate": due.isoformat(),
            "Line": self.expense_lines(planned),
            "PrivateNote": planned[0].memo,
        }
        if vendor.term_id:
            payload["SalesTermRef"] = {"value": vendor.term_id}
        if vendor.currency != "USD":
            payload["CurrencyRef"] = {"value": vendor.currency}
            payload["ExchangeRate"] = exchange_rate(vendor.currency, day)
        answer = self.writer.create("Bill", payload, at)
        total = cents(float(answer.get("TotalAmt", dollars(sum(x.amount for x in planned)))))
        balance = cents(float(answer.get("Balance", dollars(total))))
        doc = OpenDoc(str(answer["Id"]), vendor, total, balance, str(answer["SyncToken"]), day)
        self.label("Bill", doc.id, vendor, planned)
        if balance > 0:
            self.company.open_bills[doc.id] = doc
            if pay:
                self._plan_bill_payment(doc, due)
        return doc

    def _plan_bill_payment(self, doc: OpenDoc, due: date) -> None:
        if self.rng.random() < 0.15:
            when = due + timedelta(days=self.rng.randint(3, 25))
        else:
            when = max(
                doc.txn_date + timedelta(days=1), due - timedelta(days=self.rng.randint(0, 6))
            )
        self.schedule.add(when, self.rng.randrange(9 * 60, 16 * 60), self.pay_bill, doc.id)

    def pay_bill(self, at: datetime, bill_id: str) -> str | None:
        """Pay a bill's current balance by check (sometimes by card); returns the payment Id."""
        doc = self.company.open_bills.pop(bill_id, None)
        if doc is None or doc.balance <= 0:
            return None
        day = at.date()
        payload: dict[str, Any] = {
            "VendorRef": {"value": doc.party.id},
            "TxnDate": day.isoformat(),
            "TotalAmt": dollars(doc.balance),
            "Line": [
                {
                    "Amount": dollars(doc.balance),
                    "LinkedTxn": [{"TxnId": doc.id, "TxnType": "Bill"}],
                }
            ],
        }
        if doc.party.currency == "USD" and self.rng.random() < 0.1:
            payload["PayType"] = "CreditCard"
            payload["CreditCardPayment"] = {"CCAccountRef": self.company.account("visa")}
            self.company.card_charges += doc.balance
        else:
            payload["PayType"] = "Check"
            payload["CheckPayment"] = {"BankAccountRef": self.company.account("checking")}
            payload["DocNumber"] = self.company.next_check()
        if doc.party.currency != "USD":
            payload["CurrencyRef"] = {"value": doc.party.currency}
            payload["ExchangeRate"] = exchange_rate(doc.party.currency, day)
        answer = self.writer.create("BillPayment", payload, at)
        doc.balance = 0
        return str(answer["Id"])

    def recurring_bills(self, at: datetime) -> None:
        """Monthly bills (rent, utilities, ...) on each vendor's billing day."""
        for index, vendor in enumerate(self.recurring):
            if at.day == 1 + (index * 5) % 27:
                self.bill(at + timedelta(minutes=7 * index), vendor, self.plan_lines(vendor, 1))

    # -- journal entries -------------------------------------------------------------------
    def journal(
        self, at: datetime, memo: str, debits: list[tuple[str, int]], credits: list[tuple[str, int]]
    ) -> str:
        """A balanced journal entry; amounts in cents by account handle."""
        if sum(a for _, a in debits) != sum(a for _, a in credits):
            raise ValueError(f"unbalanced journal entry {memo!r}")
        lines = [
            {
                "Description": memo,
                "Amount": dollars(amount),
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": {
                    "PostingType": posting,
                    "AccountRef": self.company.account(handle),
                },
            }
            for posting, side in (("Debit", debits), ("Credit", credits))
            for handle, amount in side
        ]
        payload = {"TxnDate": at.date().isoformat(), "PrivateNote": memo, "Line": lines}
        answer = self.writer.create("JournalEntry", payload, at)
        self.company.remember(
            RecentTxn("JournalEntry", str(answer["Id"]), str(answer["SyncToken"]), payload)
        )
        return str(answer["Id"])

    def payroll(self, at: datetime) -> None:
        """Wages follow the work: about a third of the sales since the last payroll."""
        floor = len(self.company.employees) * 400_00
        gross = max(floor, round(self.company.revenue * self.rng.uniform(0.3, 0.36)))
        self.company.revenue = 0
        employer_tax = round(gross * 0.0765)
        net = round(gross * 0.78)
        liabilities = gross - net + employer_tax
        self.journal(
            at,
            "Payroll",
            [("wages", gross), ("payroll_taxes", employer_tax)],
            [("checking", net), ("payroll_liab", liabilities)],
        )

    def card_payment(self, at: datetime) -> None:
        if self.company.card_charges > 0:
            amount, self.company.card_charges = self.company.card_charges, 0
            self.journal(at, "Visa card payment", [("visa", amount)], [("checking", amount)])

    def sales_tax_payment(self, at: datetime) -> None:
        if self.company.sales_tax > 0:
            amount, self.company.sales_tax = self.company.sales_tax, 0
            self.journal(
                at, "Sales tax remittance", [("sales_tax", amount)], [("checking", amount)]
            )
