"""The emulator's entity catalogue: what each QBO entity is and how the API treats it.

Real: names, lower-case path segments, which entities are name lists (deactivated, never
deleted, hidden from queries when inactive), which transactions can be deleted or voided,
which CDC reports (not TaxCode/TaxRate/TaxAgency/TimeActivity). Faked: nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    NAME_LIST = "name_list"
    TRANSACTION = "transaction"
    SINGLETON = "singleton"  # CompanyInfo, Preferences: one per realm, no create/delete
    OTHER = "other"  # ExchangeRate, Attachable: neither list nor transaction


@dataclass(frozen=True)
class EntityType:
    name: str
    kind: Kind
    name_field: str | None = None  # the unique name (DisplayName / Name) of a name list
    required: tuple[str, ...] = ()
    voidable: bool = False
    cdc: bool = True
    doc_number: bool = False  # server assigns DocNumber when absent
    extra_fields: frozenset[str] = field(default_factory=frozenset)

    @property
    def path(self) -> str:
        return self.name.lower()

    @property
    def deletable(self) -> bool:
        return self.kind in (Kind.TRANSACTION, Kind.OTHER) and self.name != "ExchangeRate"


_L, _T = Kind.NAME_LIST, Kind.TRANSACTION

ENTITY_TYPES: dict[str, EntityType] = {
    e.name: e
    for e in (
        EntityType("Customer", _L, "DisplayName"),
        EntityType("Vendor", _L, "DisplayName"),
        EntityType("Employee", _L, "DisplayName"),
        EntityType("Item", _L, "Name", required=("Name",)),
        EntityType("Account", _L, "Name", required=("Name",)),
        EntityType("Class", _L, "Name", required=("Name",)),
        EntityType("Department", _L, "Name", required=("Name",)),
        EntityType("Term", _L, "Name", required=("Name",)),
        EntityType("PaymentMethod", _L, "Name", required=("Name",)),
        EntityType("TaxCode", _L, "Name", cdc=False),
        EntityType("TaxRate", _L, "Name", cdc=False),
        EntityType("TaxAgency", _L, "DisplayName", required=("DisplayName",), cdc=False),
        EntityType("Invoice", _T, required=("CustomerRef", "Line"), voidable=True, doc_number=True),
        EntityType("Payment", _T, required=("CustomerRef", "TotalAmt"), voidable=True),
        EntityType("Bill", _T, required=("VendorRef", "Line")),
        EntityType("BillPayment", _T, required=("VendorRef", "PayType", "TotalAmt"), voidable=True),
        EntityType("Purchase", _T, required=("AccountRef", "PaymentType", "Line")),
        EntityType("JournalEntry", _T, required=("Line",), doc_number=False),
        EntityType("Estimate", _T, required=("CustomerRef", "Line"), doc_number=True),
        EntityType("CreditMemo", _T, required=("CustomerRef", "Line"), doc_number=True),
        EntityType("RefundReceipt", _T, required=("Line", "DepositToAccountRef"), doc_number=True),
        EntityType("SalesReceipt", _T, required=("Line",), voidable=True, doc_number=True),
        EntityType("Deposit", _T, required=("DepositToAccountRef", "Line")),
        EntityType("Transfer", _T, required=("FromAccountRef", "ToAccountRef", "Amount")),
        EntityType("VendorCredit", _T, required=("VendorRef", "Line")),
        EntityType("PurchaseOrder", _T, required=("VendorRef", "Line"), doc_number=True),
        EntityType("RecurringTransaction", Kind.OTHER),
        EntityType("Attachable", Kind.OTHER),
        EntityType("ExchangeRate", Kind.OTHER, cdc=False),
        EntityType("CompanyInfo", Kind.SINGLETON),
        EntityType("Preferences", Kind.SINGLETON),
    )
}

BY_PATH: dict[str, EntityType] = {e.path: e for e in ENTITY_TYPES.values()}
BY_LOWER_NAME: dict[str, EntityType] = {e.name.lower(): e for e in ENTITY_TYPES.values()}

# Customer, Vendor and Employee share one DisplayName namespace (6240 across all three).
SHARED_NAME_SPACE = ("Customer", "Vendor", "Employee")

# Transactions whose lines carry sales items and get a SubTotal line.
SALES_FORMS = ("Invoice", "Estimate", "CreditMemo", "SalesReceipt", "RefundReceipt")


def entity_type(name: str) -> EntityType | None:
    """Look an entity up case-insensitively by name or path segment."""
    return BY_LOWER_NAME.get(name.lower())
