"""The bookkeeper's corrections: a few voids, deletes and sparse updates over time.

Real: void and delete send ``{"Id", "SyncToken"}``; updates are sparse (``"sparse": true``)
and carry the SyncToken the server last returned. A transaction the server may have changed
behind our back (an invoice with a payment applied) is never edited from memory; name-list
objects are re-read through the sink before an update. Faked: the reasons (a mistaken
purchase, extended terms, a re-categorised expense, a price rise). Not implemented: full
(non-sparse) updates, deactivation of name-list objects.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from qb_pipeline.emulator.generator.names import phone
from qb_pipeline.emulator.generator.sales import Sales
from qb_pipeline.emulator.generator.spending import ExpenseLine, Spending
from qb_pipeline.emulator.generator.state import Company, RecentTxn, Writer, dollars


class Maintenance:
    """Picks recent transactions and corrects them, rotating through kinds of correction."""

    def __init__(
        self, company: Company, writer: Writer, rng: random.Random, sales: Sales, spending: Spending
    ) -> None:
        self.company, self.writer, self.rng = company, writer, rng
        self.sales, self.spending = sales, spending
        self.turns = {"void": 0, "delete": 0, "update": 0}

    def _turn(self, name: str, choices: int) -> int:
        self.turns[name] += 1
        return self.turns[name] % choices

    def _take(self, entity: str, usable: Any) -> RecentTxn | None:
        """The newest remembered transaction of ``entity`` that ``usable`` accepts; forgotten."""
        bucket = self.company.recent.get(entity, [])
        for index in range(len(bucket) - 1, -1, -1):
            txn = bucket[index]
            if txn.id not in self.company.protected and usable(txn):
                del bucket[index]
                return txn
        return None

    # -- voids -------------------------------------------------------------------------
    def void(self, at: datetime) -> None:
        """Void an untouched open invoice, or a sales receipt."""
        if self._turn("void", 2) == 0:
            txn = self._take("Invoice", self._untouched_invoice(at.date()))
            if txn is not None:
                self.company.open_invoices.pop(txn.id, None)
                self.writer.void("Invoice", {"Id": txn.id, "SyncToken": txn.sync_token}, at)
                return
        txn = self._take("SalesReceipt", lambda t: True)
        if txn is not None:
            self.writer.void("SalesReceipt", {"Id": txn.id, "SyncToken": txn.sync_token}, at)

    def _untouched_invoice(self, today: date) -> Any:
        def usable(txn: RecentTxn) -> bool:
            doc = self.company.open_invoices.get(txn.id)
            return doc is not None and not doc.touched and doc.txn_date < today

        return usable

    # -- deletes -----------------------------------------------------------------------
    def delete(self, at: datetime) -> None:
        """Delete a purchase entered by mistake, or an estimate that went nowhere."""
        if self._turn("delete", 2) == 0:
            txn = self._take("Purchase", lambda t: True)
            if txn is not None:
                self.writer.delete("Purchase", {"Id": txn.id, "SyncToken": txn.sync_token}, at)
                return
        for estimate_id, doc in self.company.estimates.items():
            if doc.txn_date < at.date():
                del self.company.estimates[estimate_id]
                self.writer.delete("Estimate", {"Id": doc.id, "SyncToken": doc.sync_token}, at)
                return

    # -- sparse updates ----------------------------------------------------------------
    def update(self, at: datetime) -> None:
        """One sparse update: re-categorise an expense, extend terms, new phone, new price."""
        [self._recategorise, self._extend_terms, self._customer_phone, self._item_price][
            self._turn("update", 4)
        ](at)

    def _recategorise(self, at: datetime) -> None:
        txn = self._take("Purchase", lambda t: any(x.posted_key != x.true_key for x in t.planned))
        if txn is None or txn.party is None:
            return
        fixed = [ExpenseLine(x.memo, x.true_key, x.true_key, x.amount) for x in txn.planned]
        payload = {
            "Id": txn.id,
            "SyncToken": txn.sync_token,
            "sparse": True,
            "Line": self.spending.expense_lines(fixed),
        }
        self.writer.update("Purchase", payload, at)
        before = len(self.writer.truth.expense_labels)
        self.spending.label("Purchase", txn.id, txn.party, fixed)
        labels = self.writer.truth.expense_labels[before:]
        del self.writer.truth.expense_labels[before:]
        self.writer.truth.replace_labels("Purchase", txn.id, labels)

    def _extend_terms(self, at: datetime) -> None:
        txn = self._take("Invoice", self._untouched_invoice(at.date()))
        if txn is None:
            return
        doc = self.company.open_invoices[txn.id]
        due = doc.txn_date + timedelta(days=doc.party.term_days + 30)
        payload = {
            "Id": txn.id,
            "SyncToken": txn.sync_token,
            "sparse": True,
            "DueDate": due.isoformat(),
            "PrivateNote": "Customer asked for 30 more days",
        }
        doc.sync_token = str(self.writer.update("Invoice", payload, at)["SyncToken"])

    def _customer_phone(self, at: datetime) -> None:
        customer = self.rng.choice(self.company.customers)
        current = self.writer.current("Customer", customer.id)
        if current is None:
            return
        payload = {
            "Id": customer.id,
            "SyncToken": str(current["SyncToken"]),
            "sparse": True,
            "PrimaryPhone": {"FreeFormNumber": phone(self.rng)},
        }
        self.writer.update("Customer", payload, at)

    def _item_price(self, at: datetime) -> None:
        item = self.rng.choice(self.company.items)
        current = self.writer.current("Item", item.id)
        if current is None:
            return
        price = dollars(round(item.price * 105))
        payload = {
            "Id": item.id,
            "SyncToken": str(current["SyncToken"]),
            "sparse": True,
            "UnitPrice": price,
        }
        self.writer.update("Item", payload, at)
        item.price = price
