"""What the generator remembers about a company while it writes history into a sink.

Real: Ids, SyncTokens, totals and balances are read from the server's answers, never assumed;
a document whose SyncToken the server may have bumped behind our back (an invoice a payment was
applied to) is marked ``touched`` and never updated or voided from memory. Faked: nothing.
"""

from __future__ import annotations

import heapq
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from qb_pipeline.emulator.generator.catalog import BusinessKind, ItemSpec
from qb_pipeline.emulator.generator.names import VendorTemplate
from qb_pipeline.emulator.generator.sink import CompanySink, unwrap
from qb_pipeline.emulator.generator.truth import GroundTruth

log = logging.getLogger(__name__)

BEHAVIOURS = ("prompt", "late", "partial")


def behaviour_for(display_name: str) -> str:
    """A customer's payment behaviour, a pure function of its name (so read-back agrees)."""
    bucket = zlib.crc32(display_name.encode()) % 100
    return "prompt" if bucket < 55 else "late" if bucket < 82 else "partial"


def cents(amount: float) -> int:
    return round(amount * 100)


def dollars(amount_cents: int) -> float:
    return amount_cents / 100


@dataclass
class Party:
    """A customer or vendor the generator trades with."""

    id: str
    name: str
    currency: str = "USD"
    behaviour: str = ""
    template: VendorTemplate | None = None
    term_id: str | None = None
    term_days: int = 30
    taxable: bool = True


@dataclass
class ItemRec:
    id: str
    spec: ItemSpec
    price: float


@dataclass
class OpenDoc:
    """An invoice, bill or estimate still in play, with its balance in cents."""

    id: str
    party: Party
    total: int
    balance: int
    sync_token: str
    txn_date: date
    touched: bool = False
    lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RecentTxn:
    """A recent transaction that a later void, delete or update may pick."""

    entity: str
    id: str
    sync_token: str
    payload: dict[str, Any]
    party: Party | None = None
    planned: list[Any] = field(default_factory=list)  # expense lines with their true accounts


@dataclass
class Company:
    """The generator's view of one company: refs by handle and documents in play."""

    kind: BusinessKind
    accounts: dict[str, str] = field(default_factory=dict)  # handle -> Id
    account_names: dict[str, str] = field(default_factory=dict)  # Id -> Name
    terms: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (Id, days)
    methods: dict[str, str] = field(default_factory=dict)  # name -> Id
    classes: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    customers: list[Party] = field(default_factory=list)
    vendors: list[Party] = field(default_factory=list)
    employees: list[str] = field(default_factory=list)
    items: list[ItemRec] = field(default_factory=list)
    tax_code_id: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # lower DisplayName -> entity
    open_invoices: dict[str, OpenDoc] = field(default_factory=dict)
    open_bills: dict[str, OpenDoc] = field(default_factory=dict)
    estimates: dict[str, OpenDoc] = field(default_factory=dict)
    undeposited: list[tuple[str, int]] = field(default_factory=list)
    recent: dict[str, list[RecentTxn]] = field(default_factory=dict)
    card_charges: int = 0
    sales_tax: int = 0
    revenue: int = 0  # sales since the last payroll, in cents: payroll follows the work
    check_number: int = 1000
    protected: set[str] = field(default_factory=set)  # anomaly Ids: never edited

    def account(self, handle: str) -> dict[str, str]:
        return {"value": self.accounts[handle]}

    def unique_name(self, base: str, entity: str) -> str:
        """A DisplayName not yet used by any customer, vendor or employee (case-insensitive)."""
        name, n = base.replace(":", " "), 2
        while name.lower() in self.names:
            name, n = f"{base} {n}", n + 1
        self.names[name.lower()] = entity
        return name

    def remember(self, txn: RecentTxn, keep: int = 60) -> None:
        """Keep the last ``keep`` transactions of an entity for later edits."""
        bucket = self.recent.setdefault(txn.entity, [])
        bucket.append(txn)
        if len(bucket) > 2 * keep:
            del bucket[:keep]

    def next_check(self) -> str:
        self.check_number += 1
        return str(self.check_number)


class Writer:
    """The sink, plus the bookkeeping every write needs: counts in the truth, unwrapping."""

    def __init__(self, sink: CompanySink, truth: GroundTruth) -> None:
        self.sink = sink
        self.truth = truth
        self.last_at: datetime | None = None

    def _moment(self, at: datetime) -> datetime:
        """Changes reach the sink in time order: a follow-up never predates an earlier change."""
        if self.last_at is not None and at < self.last_at:
            at = self.last_at
        self.last_at = at
        return at

    def create(self, entity: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
        answer = unwrap(entity, self.sink.create(entity, payload, at=self._moment(at)))
        self.truth.created[entity] += 1
        return answer

    def update(self, entity: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
        answer = unwrap(entity, self.sink.update(entity, payload, at=self._moment(at)))
        self.truth.updated.append((entity, str(payload["Id"])))
        return answer

    def void(self, entity: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
        answer = unwrap(entity, self.sink.void(entity, payload, at=self._moment(at)))
        self.truth.voided.append((entity, str(payload["Id"])))
        return answer

    def delete(self, entity: str, payload: dict[str, Any], at: datetime) -> None:
        self.sink.delete(entity, payload, at=self._moment(at))
        self.truth.deleted.append((entity, str(payload["Id"])))
        if entity in ("Purchase", "Bill"):  # only expense transactions carry labels
            self.truth.drop_labels(entity, str(payload["Id"]))

    def current(self, entity: str, object_id: str) -> dict[str, Any] | None:
        """The stored object as the server has it now (for name lists the server may touch)."""
        for obj in self.sink.list(entity):
            if str(obj.get("Id")) == object_id:
                return obj
        return None


Action = Callable[..., None]


@dataclass
class Schedule:
    """Future actions by day: (ordinal, seq) keeps the order stable for a given seed."""

    heap: list[tuple[int, int, int, Action, tuple[Any, ...]]] = field(default_factory=list)
    seq: int = 0

    def add(self, day: date, minute: int, action: Action, *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (day.toordinal(), self.seq, minute, action, args))

    def due(self, day: date) -> list[tuple[int, Action, tuple[Any, ...]]]:
        """Pop every action due on or before ``day`` as (minute, action, args)."""
        out = []
        while self.heap and self.heap[0][0] <= day.toordinal():
            _, _, minute, action, args = heapq.heappop(self.heap)
            out.append((minute, action, args))
        return out
