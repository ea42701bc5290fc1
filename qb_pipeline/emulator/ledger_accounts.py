"""Money helpers and the chart of accounts the ledger posts to, special accounts included.

Real: QBO's special accounts are recognised by ``AccountType`` (A/R, A/P) or ``AccountSubType``
(UndepositedFunds, GlobalTaxPayable, RetainedEarnings). Faked: when the realm lacks one, a
synthetic row is added with an Id prefixed ``emu-`` (not numeric; it exists only in reports).
With several A/R or A/P accounts, the one in the transaction's currency wins, else the lowest Id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
CENT = Decimal("0.01")
SYNTHETIC_PREFIX = "emu-"


@dataclass(frozen=True)
class SpecialAccount:
    """An account the ledger needs by role, and the synthetic row used when it is missing."""

    key: str
    name: str
    account_type: str
    sub_types: tuple[str, ...]
    classification: str
    match_by_name: bool = False


SPECIAL_ACCOUNTS: dict[str, SpecialAccount] = {
    s.key: s
    for s in (
        SpecialAccount(
            "accounts-receivable",
            "Accounts Receivable (A/R)",
            "Accounts Receivable",
            ("AccountsReceivable",),
            "Asset",
        ),
        SpecialAccount(
            "accounts-payable",
            "Accounts Payable (A/P)",
            "Accounts Payable",
            ("AccountsPayable",),
            "Liability",
        ),
        SpecialAccount(
            "undeposited-funds",
            "Undeposited Funds",
            "Other Current Asset",
            ("UndepositedFunds",),
            "Asset",
        ),
        SpecialAccount(
            "sales-tax-payable",
            "Sales Tax Payable",
            "Other Current Liability",
            ("GlobalTaxPayable", "SalesTaxPayable"),
            "Liability",
        ),
        SpecialAccount(
            "retained-earnings", "Retained Earnings", "Equity", ("RetainedEarnings",), "Equity"
        ),
        SpecialAccount(
            "uncategorized-income",
            "Uncategorized Income",
            "Income",
            ("ServiceFeeIncome",),
            "Revenue",
            match_by_name=True,
        ),
        SpecialAccount(
            "uncategorized-expense",
            "Uncategorized Expense",
            "Expense",
            ("OtherMiscellaneousServiceCost",),
            "Expense",
            match_by_name=True,
        ),
        SpecialAccount(
            "uncategorized-asset",
            "Uncategorized Asset",
            "Other Current Asset",
            ("OtherCurrentAssets",),
            "Asset",
            match_by_name=True,
        ),
        SpecialAccount(
            "discounts-given",
            "Discounts given",
            "Income",
            ("DiscountsRefundsGiven",),
            "Revenue",
        ),
    )
}


def money(value: Any) -> Decimal:
    """A QBO amount (number or string) as Decimal; missing or malformed counts as zero."""
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        logger.warning("ignoring malformed amount %r", value)
        return ZERO


def cents(value: Decimal) -> Decimal:
    """Round half up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ref_id(obj: Mapping[str, Any] | None, key: str) -> str:
    """The ``value`` of a reference field, or ""."""
    ref = (obj or {}).get(key)
    return str(ref.get("value", "")) if isinstance(ref, Mapping) else ""


def txn_date(txn: Mapping[str, Any]) -> date:
    """TxnDate, else the creation date; date.min when neither parses."""
    for text in (txn.get("TxnDate"), str((txn.get("MetaData") or {}).get("CreateTime", ""))):
        try:
            return date.fromisoformat(str(text)[:10])
        except ValueError:
            continue
    return date.min


def id_sort_key(account_id: str) -> tuple[int, str]:
    return (int(account_id), "") if account_id.isdigit() else (1 << 62, account_id)


class ChartOfAccounts:
    """The realm's accounts plus any synthetic special accounts the ledger had to invent."""

    def __init__(self, accounts: Mapping[str, Mapping[str, Any]]) -> None:
        self.accounts: dict[str, Mapping[str, Any]] = dict(accounts)
        self._cache: dict[tuple[str, str], str] = {}

    def special(self, key: str, currency: str = "") -> str:
        """Id of the special account ``key`` (matching ``currency`` when several exist)."""
        cache_key = (key, currency)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._find(SPECIAL_ACCOUNTS[key], currency)
        return self._cache[cache_key]

    def _find(self, spec: SpecialAccount, currency: str) -> str:
        found = [
            account_id
            for account_id, account in self.accounts.items()
            if self._matches(spec, account)
        ]
        found.sort(key=id_sort_key)
        if currency:
            same = [a for a in found if ref_id(self.accounts[a], "CurrencyRef") == currency]
            found = same or found
        if found:
            return found[0]
        synthetic_id = SYNTHETIC_PREFIX + spec.key
        self.accounts[synthetic_id] = {
            "Id": synthetic_id,
            "Name": spec.name,
            "FullyQualifiedName": spec.name,
            "AccountType": spec.account_type,
            "AccountSubType": spec.sub_types[0],
            "Classification": spec.classification,
            "Active": True,
        }
        return synthetic_id

    @staticmethod
    def _matches(spec: SpecialAccount, account: Mapping[str, Any]) -> bool:
        if spec.match_by_name:
            return str(account.get("Name", "")).lower() == spec.name.lower()
        if spec.key in ("accounts-receivable", "accounts-payable"):
            return account.get("AccountType") == spec.account_type
        return account.get("AccountSubType") in spec.sub_types
