"""The client's entity catalogue: what each QBO entity is and how the API treats it.

Name lists (Customer, Account, ...) are deactivated, never deleted, and hidden from queries when
inactive unless the WHERE mentions ``Active``; transactions can be deleted, and four of them
voided. CDC serves every entity except TaxCode, TaxRate, TaxAgency and TimeActivity
(API_FACTS 1.11, 1.12, 1.14). This is the client's own copy: it never imports the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NAME_LIST = "name_list"
    TRANSACTION = "transaction"
    SINGLETON = "singleton"  # CompanyInfo, Preferences: one per realm
    OTHER = "other"  # neither list nor transaction (Attachable, ExchangeRate, ...)


@dataclass(frozen=True)
class Entity:
    """One QBO entity: its name, endpoint path segment and what the API allows on it."""

    name: str
    kind: Kind
    cdc: bool = True
    voidable: bool = False
    deletable: bool = False
    response_key: str = ""  # the JSON key of the object when it differs from ``name``

    @property
    def path(self) -> str:
        """The endpoint path segment under /v3/company/{realmId}/ (lower-cased name)."""
        return self.name.lower()

    @property
    def key(self) -> str:
        """The key QBO wraps the object in (``{"Invoice": {...}}``)."""
        return self.response_key or self.name

    @property
    def is_name_list(self) -> bool:
        return self.kind == Kind.NAME_LIST

    @property
    def is_transaction(self) -> bool:
        return self.kind == Kind.TRANSACTION


def _lists(*names: str, cdc: bool = True) -> list[Entity]:
    return [Entity(name, Kind.NAME_LIST, cdc=cdc) for name in names]


def _transactions(*names: str, voidable: bool = False, cdc: bool = True) -> list[Entity]:
    return [
        Entity(name, Kind.TRANSACTION, cdc=cdc, voidable=voidable, deletable=True) for name in names
    ]


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        *_lists("Customer", "Vendor", "Employee", "Item", "Account", "Class", "Department", "Term"),
        *_lists("PaymentMethod", "Budget"),
        *_lists("TaxCode", "TaxRate", cdc=False),
        Entity("TaxAgency", Kind.OTHER, cdc=False),
        Entity("CompanyCurrency", Kind.OTHER),
        *_transactions("Invoice", "Payment", "SalesReceipt", "BillPayment", voidable=True),
        *_transactions("Bill", "Purchase", "JournalEntry", "Estimate", "CreditMemo"),
        *_transactions("RefundReceipt", "Deposit", "Transfer", "VendorCredit", "PurchaseOrder"),
        *_transactions("TimeActivity", cdc=False),
        Entity(
            "CreditCardPayment",
            Kind.TRANSACTION,
            deletable=True,
            response_key="CreditCardPaymentTxn",
        ),
        Entity("Attachable", Kind.OTHER, deletable=True),
        Entity("RecurringTransaction", Kind.OTHER, deletable=True),
        Entity("ExchangeRate", Kind.OTHER, cdc=False),
        Entity("CompanyInfo", Kind.SINGLETON),
        Entity("Preferences", Kind.SINGLETON),
    )
}

_BY_LOWER: dict[str, Entity] = {
    **{e.name.lower(): e for e in ENTITIES.values()},
    **{e.key.lower(): e for e in ENTITIES.values()},
}

# Entities whose void is ``operation=void``; the others void by a sparse update with
# ``include=void`` (python-quickbooks' VoidMixin, API_FACTS 1.12).
VOID_BY_OPERATION = frozenset({"Invoice"})

# Sales forms QBO renders as PDF and can e-mail (``/{entity}/{id}/pdf`` and ``/send``).
SALES_FORMS = frozenset({"Invoice", "Estimate", "SalesReceipt", "CreditMemo", "RefundReceipt"})


class UnknownEntityError(ValueError):
    """An entity name the catalogue does not know."""


def entity(name: str) -> Entity:
    """The catalogue entry for ``name`` (case-insensitive; the response key also works)."""
    found = _BY_LOWER.get(name.strip().lower())
    if found is None:
        raise UnknownEntityError(f"unknown QBO entity {name!r}")
    return found


def cdc_entities() -> tuple[str, ...]:
    """Every entity change data capture can report, in catalogue order."""
    return tuple(e.name for e in ENTITIES.values() if e.cdc)
