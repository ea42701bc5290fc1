"""Ground truth of a synthetic company: what the books do not say but the generator knows.

Real: nothing here is served by the QBO API; it is written apart from the books (a JSON file)
so the pipeline's models can be scored against it. It holds the true expense category of every
purchase and bill line (the posted account carries ~5-10% noise), the planted anomalies and the
customers' payment behaviour. Not implemented: truth for objects created outside the generator.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TRANSACTION_ENTITIES = (
    "Invoice",
    "Payment",
    "Estimate",
    "CreditMemo",
    "RefundReceipt",
    "SalesReceipt",
    "Deposit",
    "Bill",
    "BillPayment",
    "Purchase",
    "JournalEntry",
)


@dataclass(frozen=True)
class ExpenseLabel:
    """The true category of one expense line (``line_index`` counts from 0 in the payload)."""

    entity: str
    txn_id: str
    line_index: int
    vendor_id: str
    vendor_name: str
    memo: str
    amount: float
    true_account_id: str
    true_account_name: str
    posted_account_id: str
    posted_account_name: str

    @property
    def noisy(self) -> bool:
        return self.true_account_id != self.posted_account_id


@dataclass(frozen=True)
class Anomaly:
    """A planted anomaly: which transaction, what kind, and why it is anomalous."""

    entity: str
    txn_id: str
    kind: str  # one of generator.ANOMALY_KINDS
    reason: str
    related_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerProfile:
    """How a customer pays: prompt, late or partial."""

    customer_id: str
    display_name: str
    behaviour: str
    currency: str = "USD"


@dataclass
class GroundTruth:
    """Everything the generator planted, keyed by the Ids the server assigned."""

    company_name: str = ""
    business: str = ""
    seed: int = 0
    size: str = ""
    multi_currency: bool = False
    start: str = ""
    end: str = ""
    expense_labels: list[ExpenseLabel] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    customer_profiles: list[CustomerProfile] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    voided: list[tuple[str, str]] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)

    @property
    def transaction_count(self) -> int:
        """Transactions created (voided and deleted ones included)."""
        return sum(self.created[name] for name in TRANSACTION_ENTITIES)

    def label(self, entity: str, txn_id: str, line_index: int) -> ExpenseLabel | None:
        """The label of one expense line, or None."""
        for item in self.expense_labels:
            if (item.entity, item.txn_id, item.line_index) == (entity, txn_id, line_index):
                return item
        return None

    def replace_labels(self, entity: str, txn_id: str, labels: list[ExpenseLabel]) -> None:
        """Swap the labels of one transaction (searched from the newest: edits are recent)."""
        rows, key = self.expense_labels, (entity, txn_id)
        end = len(rows)
        while end > 0 and (rows[end - 1].entity, rows[end - 1].txn_id) != key:
            end -= 1
        begin = end
        while begin > 0 and (rows[begin - 1].entity, rows[begin - 1].txn_id) == key:
            begin -= 1
        if end == 0:
            rows.extend(labels)
        else:
            rows[begin:end] = labels

    def drop_labels(self, entity: str, txn_id: str) -> None:
        """Forget the labels of a deleted transaction."""
        self.replace_labels(entity, txn_id, [])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = dict(sorted(self.created.items()))
        return data

    def to_json(self, path: str | Path) -> None:
        """Write the truth as one JSON document."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundTruth:
        return cls(
            company_name=data["company_name"],
            business=data["business"],
            seed=data["seed"],
            size=data["size"],
            multi_currency=data["multi_currency"],
            start=data["start"],
            end=data["end"],
            expense_labels=[ExpenseLabel(**x) for x in data["expense_labels"]],
            anomalies=[
                Anomaly(**{**x, "related_ids": tuple(x["related_ids"])}) for x in data["anomalies"]
            ],
            customer_profiles=[CustomerProfile(**x) for x in data["customer_profiles"]],
            created=Counter(data["created"]),
            voided=[tuple(x) for x in data["voided"]],
            deleted=[tuple(x) for x in data["deleted"]],
            updated=[tuple(x) for x in data["updated"]],
        )

    @classmethod
    def from_json(cls, path: str | Path) -> GroundTruth:
        """Read what ``to_json`` wrote."""
        return cls.from_dict(json.loads(Path(path).read_text()))
