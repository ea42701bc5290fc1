"""The sales side of a synthetic company's history: estimates, invoices, payments, credit memos,
refunds, sales receipts and bank deposits of undeposited payments.

Real: payload shapes and rules of the QBO API (``Amount == round(Qty * UnitPrice, 2)``; a
payment never applies more than the invoice's current balance, read from the server's answer;
the rest of a payment is ``UnappliedAmt``; an invoice converted from an estimate carries a
header ``LinkedTxn`` to it; deposits link payments). Faked: customers pay by behaviour profile
(prompt, late, partial) with random delays. Not implemented: applying credit memos to invoices,
discounts, shipping lines, online payments.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

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

CUSTOMER_MEMO = {"value": "Thank you for your business and have a great day!"}
HOURLY = (1, 1.5, 2, 2.5, 3, 4, 6, 8)
DEPOSIT_MAX_LINES = 30


def copy_line(line: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of a sales line (the sink may keep what it is given)."""
    detail = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in line["SalesItemLineDetail"].items()
    }
    return {**line, "SalesItemLineDetail": detail}


class Sales:
    """Builds and sends sales-side transactions; schedules the customers' payments."""

    def __init__(
        self, company: Company, writer: Writer, rng: random.Random, schedule: Schedule
    ) -> None:
        self.company, self.writer, self.rng, self.schedule = company, writer, rng, schedule

    # -- lines and headers -------------------------------------------------------------
    def lines(self, customer: Party, count: int) -> list[dict[str, Any]]:
        """Sales item lines with Amount == round(Qty * UnitPrice, 2)."""
        out = []
        for item in self.rng.sample(self.company.items, min(count, len(self.company.items))):
            unit = item.spec.unit
            qty = self._quantity(unit, item.price)
            taxable = item.spec.taxable and customer.taxable
            detail: dict[str, Any] = {
                "ItemRef": {"value": item.id},
                "Qty": qty,
                "UnitPrice": item.price,
                "TaxCodeRef": {"value": "TAX" if taxable else "NON"},
            }
            if self.company.classes and self.rng.random() < 0.5:
                detail["ClassRef"] = {"value": self.rng.choice(self.company.classes)}
            out.append(
                {
                    "Description": item.spec.name,
                    "Amount": round(qty * item.price, 2),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": detail,
                }
            )
        return out

    def _quantity(self, unit: str, price: float) -> float:
        """Hours for hourly work, one of a big-ticket item, a handful of cheap ones."""
        if unit == "hour":
            return self.rng.choice(HOURLY)
        if price >= 400:
            return 1
        return self.rng.randint(1, 3) if price >= 100 else self.rng.randint(1, 12)

    def header(self, customer: Party, day: date, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """CustomerRef, TxnDate, Line, tax code and currency of a sales form."""
        payload: dict[str, Any] = {
            "CustomerRef": {"value": customer.id},
            "TxnDate": day.isoformat(),
            "Line": lines,
        }
        taxed = any(x["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX" for x in lines)
        if taxed and self.company.tax_code_id:
            payload["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": self.company.tax_code_id}}
        if customer.currency != "USD":
            payload["CurrencyRef"] = {"value": customer.currency}
            payload["ExchangeRate"] = exchange_rate(customer.currency, day)
        if self.company.departments and self.rng.random() < 0.4:
            payload["DepartmentRef"] = {"value": self.rng.choice(self.company.departments)}
        return payload

    def customer(self) -> Party:
        return self.rng.choice(self.company.customers)

    # -- invoices and payments ----------------------------------------------------------
    def invoice(self, at: datetime, customer: Party | None = None, **extra: Any) -> OpenDoc:
        """Create an invoice and schedule how its customer pays it."""
        customer = customer or self.customer()
        day = at.date()
        lines = extra.pop("lines", None) or self.lines(
            customer, self.rng.choice((1, 1, 2, 2, 3, 4))
        )
        payload = self.header(customer, day, lines)
        payload.update(
            SalesTermRef={"value": customer.term_id},
            DueDate=(day + timedelta(days=customer.term_days)).isoformat(),
            CustomerMemo=dict(CUSTOMER_MEMO),
            **extra,
        )
        answer = self.writer.create("Invoice", payload, at)
        total = cents(float(answer.get("TotalAmt", sum(x["Amount"] for x in lines))))
        balance = cents(float(answer.get("Balance", dollars(total))))
        doc = OpenDoc(str(answer["Id"]), customer, total, balance, str(answer["SyncToken"]), day)
        self.company.sales_tax += cents(float(answer.get("TxnTaxDetail", {}).get("TotalTax", 0)))
        self.company.revenue += total
        if balance > 0:
            self.company.open_invoices[doc.id] = doc
            self.company.remember(RecentTxn("Invoice", doc.id, doc.sync_token, payload, customer))
            self._plan_payment(doc, customer.term_days)
        return doc

    def _plan_payment(self, doc: OpenDoc, term_days: int) -> None:
        rng, behaviour = self.rng, doc.party.behaviour
        if behaviour == "prompt":
            delay = rng.randint(1, max(3, int(term_days * 0.8)))
            share, overpay = None, rng.random() < 0.06
        elif behaviour == "late":
            if rng.random() < 0.07:
                return  # never paid: stays open, overdue
            delay, share, overpay = term_days + rng.randint(5, 50), None, False
        else:
            delay = max(1, term_days + rng.randint(-5, 10))
            share, overpay = rng.uniform(0.3, 0.6), False
        self.schedule.add(
            doc.txn_date + timedelta(days=delay), self._minute(), self.pay, doc.id, share, overpay
        )

    def _minute(self) -> int:
        return self.rng.randrange(8 * 60, 17 * 60)

    def pay(self, at: datetime, invoice_id: str, share: float | None, overpay: bool) -> None:
        """Apply a payment to an invoice (never more than its current balance)."""
        doc = self.company.open_invoices.get(invoice_id)
        if doc is None:
            return  # voided or paid off meanwhile
        applied = (
            doc.balance if share is None else min(doc.balance, max(1, round(doc.total * share)))
        )
        received = applied + (self.rng.randrange(1, 50) * 100 if overpay else 0)
        self.payment(at, doc.party, received, [(doc, applied)])
        if doc.balance > 0 and share is not None:
            later = at.date() + timedelta(days=self.rng.randint(14, 45))
            self.schedule.add(later, self._minute(), self.pay, doc.id, None, False)

    def payment(
        self, at: datetime, customer: Party, received: int, applications: list[tuple[OpenDoc, int]]
    ) -> str:
        """Send one Payment; lines link invoices, the remainder stays unapplied."""
        day, foreign = at.date(), customer.currency != "USD"
        method = self.rng.choice(("Check", "Check", "ACH", "Visa", "MasterCard"))
        payload: dict[str, Any] = {
            "CustomerRef": {"value": customer.id},
            "TxnDate": day.isoformat(),
            "TotalAmt": dollars(received),
            "PaymentMethodRef": {"value": self.company.methods[method]},
            "DepositToAccountRef": self.company.account("checking" if foreign else "undeposited"),
            "Line": [
                {"Amount": dollars(amount), "LinkedTxn": [{"TxnId": doc.id, "TxnType": "Invoice"}]}
                for doc, amount in applications
            ],
        }
        if method == "Check":
            payload["PaymentRefNum"] = str(self.rng.randrange(1000, 99999))
        if foreign:
            payload["CurrencyRef"] = {"value": customer.currency}
            payload["ExchangeRate"] = exchange_rate(customer.currency, day)
        answer = self.writer.create("Payment", payload, at)
        for doc, amount in applications:
            doc.balance -= amount
            doc.touched = True
            if doc.balance <= 0:
                self.company.open_invoices.pop(doc.id, None)
        if not foreign:
            self.company.undeposited.append((str(answer["Id"]), received))
        return str(answer["Id"])

    # -- estimates ---------------------------------------------------------------------
    def estimate(self, at: datetime) -> None:
        """An estimate; later accepted (and invoiced), rejected, or left pending."""
        customer = self.customer()
        lines = self.lines(customer, self.rng.choice((2, 3, 4)))
        payload = self.header(customer, at.date(), lines)
        payload.update(TxnStatus="Pending", CustomerMemo=dict(CUSTOMER_MEMO))
        payload["ExpirationDate"] = (at.date() + timedelta(days=30)).isoformat()
        answer = self.writer.create("Estimate", payload, at)
        doc = OpenDoc(
            str(answer["Id"]), customer, 0, 0, str(answer["SyncToken"]), at.date(), lines=lines
        )
        self.company.estimates[doc.id] = doc
        fate = self.rng.random()
        later = at.date() + timedelta(days=self.rng.randint(2, 21))
        if fate < 0.62:
            self.schedule.add(later, self._minute(), self.accept_estimate, doc.id)
        elif fate < 0.85:
            self.schedule.add(later, self._minute(), self.set_estimate_status, doc.id, "Rejected")

    def set_estimate_status(self, at: datetime, estimate_id: str, status: str) -> None:
        doc = self.company.estimates.get(estimate_id)
        if doc is None:
            return
        payload = {"Id": doc.id, "SyncToken": doc.sync_token, "sparse": True, "TxnStatus": status}
        doc.sync_token = str(self.writer.update("Estimate", payload, at)["SyncToken"])
        if status == "Rejected":
            self.company.estimates.pop(estimate_id, None)

    def accept_estimate(self, at: datetime, estimate_id: str) -> None:
        """Mark an estimate accepted (sometimes) and convert it into a linked invoice."""
        doc = self.company.estimates.get(estimate_id)
        if doc is None:
            return
        if self.rng.random() < 0.5:
            self.set_estimate_status(at, estimate_id, "Accepted")
        self.company.estimates.pop(estimate_id, None)
        linked = [{"TxnId": doc.id, "TxnType": "Estimate"}]
        lines = [copy_line(line) for line in doc.lines]
        self.invoice(at + timedelta(minutes=5), doc.party, lines=lines, LinkedTxn=linked)

    # -- credit memos, refunds, sales receipts, deposits ---------------------------------
    def credit_memo(self, at: datetime) -> None:
        customer = self.customer()
        payload = self.header(customer, at.date(), self.lines(customer, 1))
        payload["PrivateNote"] = "Credit for unsatisfactory work"
        self.writer.create("CreditMemo", payload, at)

    def refund(self, at: datetime) -> None:
        customer = self.customer()
        payload = self.header(customer, at.date(), self.lines(customer, 1))
        payload.update(
            DepositToAccountRef=self.company.account("checking"),
            PaymentMethodRef={"value": self.company.methods["Check"]},
            PrivateNote="Refund - customer returned goods",
        )
        self.writer.create("RefundReceipt", payload, at)

    def sales_receipt(self, at: datetime) -> None:
        customer = self.customer()
        payload = self.header(customer, at.date(), self.lines(customer, self.rng.choice((1, 2))))
        method = self.rng.choice(("Cash", "Visa", "MasterCard", "American Express", "Check"))
        payload.update(
            PaymentMethodRef={"value": self.company.methods[method]},
            DepositToAccountRef=self.company.account("checking"),
            CustomerMemo=dict(CUSTOMER_MEMO),
        )
        answer = self.writer.create("SalesReceipt", payload, at)
        self.company.revenue += cents(float(answer.get("TotalAmt", 0)))
        self.company.sales_tax += cents(float(answer.get("TxnTaxDetail", {}).get("TotalTax", 0)))
        self.company.remember(
            RecentTxn("SalesReceipt", str(answer["Id"]), str(answer["SyncToken"]), payload)
        )

    def deposit_payments(self, at: datetime) -> None:
        """Deposit undeposited payments into checking, at most 30 per deposit slip."""
        while self.company.undeposited:
            batch = self.company.undeposited[:DEPOSIT_MAX_LINES]
            del self.company.undeposited[:DEPOSIT_MAX_LINES]
            payload = {
                "DepositToAccountRef": self.company.account("checking"),
                "TxnDate": at.date().isoformat(),
                "Line": [
                    {
                        "Amount": dollars(amount),
                        "LinkedTxn": [{"TxnId": pid, "TxnType": "Payment", "TxnLineId": "0"}],
                    }
                    for pid, amount in batch
                ],
            }
            self.writer.create("Deposit", payload, at)
            at += timedelta(minutes=3)

    def plain_deposit(self, at: datetime, account: str, to: str, amount: int, memo: str) -> None:
        """A deposit not linked to payments (interest, owner's money)."""
        payload = {
            "DepositToAccountRef": self.company.account(to),
            "TxnDate": at.date().isoformat(),
            "PrivateNote": memo,
            "Line": [
                {
                    "Amount": dollars(amount),
                    "DetailType": "DepositLineDetail",
                    "DepositLineDetail": {"AccountRef": self.company.account(account)},
                    "Description": memo,
                }
            ],
        }
        self.writer.create("Deposit", payload, at)
