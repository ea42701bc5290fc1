"""The emulator's general ledger: every posting transaction as balanced debit/credit lines.

Real (as QBO posts, accrual basis, home currency): Invoice Dr A/R / Cr income per item line,
discount lines Dr their discount account, Cr sales tax payable for ``TxnTaxDetail.TotalTax``;
Payment Dr deposit account (default Undeposited Funds) / Cr A/R for ``TotalAmt`` (unapplied
amounts stay as A/R credits); CreditMemo and RefundReceipt reverse Invoice and SalesReceipt;
Bill Cr A/P / Dr line accounts (item lines: the item's expense account, inventory items their
asset account); BillPayment Dr A/P / Cr bank or card; VendorCredit reverses Bill; Purchase
Dr lines / Cr its account (``Credit: true`` reverses); JournalEntry lines as posted; Deposit Dr
its account, Cr line accounts or Undeposited Funds for linked payments, CashBack Dr; Transfer;
CreditCardPayment. Inventory items sold post Dr COGS / Cr inventory at ``Qty * PurchaseCost``.
Foreign-currency amounts are converted with the transaction's ``ExchangeRate``.

Faked: special accounts are found by ``AccountType``/``AccountSubType`` (A/R and A/P matching
the transaction currency when several exist); when the chart lacks one (A/R, A/P, Undeposited
Funds, Sales Tax Payable, Retained Earnings, Uncategorized Income/Expense, Discounts given) a
synthetic account row is added with an Id prefixed ``emu-`` (not numeric: it exists only in
reports). Cents lost converting currencies, or a ``TotalAmt`` that disagrees with its lines, are
put on the largest non-control line so every transaction balances (real QBO posts FX rounding
to an exchange gain/loss account). Not implemented: realised FX gains on payments, cash-basis
postings, tax on purchases (lands on the largest expense line), per-agency tax liabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from qb_pipeline.emulator.ledger_accounts import (
    ZERO,
    ChartOfAccounts,
    cents,
    id_sort_key,
    money,
    ref_id,
    txn_date,
)

logger = logging.getLogger(__name__)

Objects = Mapping[str, Mapping[str, dict]]
Items = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Posting:
    """One ledger line in home currency; exactly one of debit and credit is non-zero."""

    txn_type: str
    txn_id: str
    txn_date: date
    account_id: str
    debit: Decimal
    credit: Decimal
    customer_id: str = ""
    vendor_id: str = ""

    @property
    def net(self) -> Decimal:
        """Debit minus credit."""
        return self.debit - self.credit


@dataclass
class TxnPoster:
    """Collects one transaction's entries (transaction currency) and emits balanced postings."""

    txn_type: str
    txn: Mapping[str, Any]
    customer_id: str = ""
    vendor_id: str = ""
    entries: list[tuple[str, Decimal, bool]] = field(default_factory=list)

    def debit(self, account_id: str, amount: Decimal, *, control: bool = False) -> None:
        self.entries.append((account_id, amount, control))

    def credit(self, account_id: str, amount: Decimal, *, control: bool = False) -> None:
        self.entries.append((account_id, -amount, control))

    def postings(self) -> list[Posting]:
        """Home-currency postings; any rounding residue lands on the largest non-control line."""
        rate = money(self.txn.get("ExchangeRate")) or Decimal(1)
        home = [
            [account, cents(amount * rate), control] for account, amount, control in self.entries
        ]
        residue = sum((entry[1] for entry in home), ZERO)
        if residue and home:
            adjustable = [e for e in home if not e[2]] or home
            target = max(adjustable, key=lambda e: abs(e[1]))
            target[1] -= residue
            logger.debug(
                "%s %s: %s residue put on %s", self.txn_type, self.txn.get("Id"), residue, target[0]
            )
        when, txn_id = txn_date(self.txn), str(self.txn.get("Id", ""))
        return [
            Posting(
                self.txn_type,
                txn_id,
                when,
                account,
                amount if amount > 0 else ZERO,
                -amount if amount < 0 else ZERO,
                self.customer_id,
                self.vendor_id,
            )
            for account, amount, _ in home
            if amount
        ]


def flat_lines(txn: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The transaction's lines with GroupLineDetail bundles expanded."""
    for line in txn.get("Line") or []:
        if not isinstance(line, Mapping):
            continue
        group = line.get("GroupLineDetail")
        if line.get("DetailType") == "GroupLineDetail" and isinstance(group, Mapping):
            yield from (sub for sub in group.get("Line") or [] if isinstance(sub, Mapping))
        else:
            yield line


def postings(objects: Mapping[str, Mapping[str, dict]]) -> list[Posting]:
    """Every posting of every transaction in the realm, ordered by date, type and Id."""
    return list(build_ledger(objects)[0])


def build_ledger(objects: Objects) -> tuple[tuple[Posting, ...], ChartOfAccounts]:
    """Postings plus the chart of accounts they refer to (synthetic special accounts included)."""
    chart = ChartOfAccounts(objects.get("Account") or {})
    items = objects.get("Item") or {}
    result: list[Posting] = []
    for txn_type, rule in POSTING_RULES.items():
        for txn in (objects.get(txn_type) or {}).values():
            result.extend(rule(txn, chart, items).postings())
    result.sort(key=lambda p: (p.txn_date, p.txn_type, id_sort_key(p.txn_id)))
    return tuple(result), chart


def _currency(txn: Mapping[str, Any]) -> str:
    return ref_id(txn, "CurrencyRef")


def _item_account(items: Items, item_id: str, purchase: bool) -> str:
    item = items.get(item_id) or {}
    if not purchase:
        return ref_id(item, "IncomeAccountRef")
    if item.get("Type") == "Inventory" and ref_id(item, "AssetAccountRef"):
        return ref_id(item, "AssetAccountRef")
    return ref_id(item, "ExpenseAccountRef")


def _post_cogs(poster: TxnPoster, items: Items, detail: Mapping[str, Any], sign: int) -> None:
    """Inventory sold: Dr COGS / Cr inventory asset at Qty x PurchaseCost (sign -1 reverses)."""
    item = items.get(ref_id(detail, "ItemRef")) or {}
    cogs, asset = ref_id(item, "ExpenseAccountRef"), ref_id(item, "AssetAccountRef")
    cost = money(detail.get("Qty")) * money(item.get("PurchaseCost"))
    if item.get("Type") != "Inventory" or not (cogs and asset and cost):
        return
    poster.debit(cogs, sign * cost)
    poster.credit(asset, sign * cost)


def _post_sale(
    txn: Mapping[str, Any],
    chart: ChartOfAccounts,
    items: Items,
    *,
    txn_type: str,
    debit_account: str,
    sign: int,
) -> TxnPoster:
    """Invoice-shaped sale: Dr ``debit_account`` TotalAmt, Cr income, discounts, tax."""
    poster = TxnPoster(txn_type, txn, customer_id=ref_id(txn, "CustomerRef"))
    poster.debit(debit_account, sign * money(txn.get("TotalAmt")), control=True)
    for line in flat_lines(txn):
        amount, kind = money(line.get("Amount")), line.get("DetailType")
        if kind == "SalesItemLineDetail":
            detail = line.get(kind) or {}
            income = _item_account(items, ref_id(detail, "ItemRef"), purchase=False)
            poster.credit(income or chart.special("uncategorized-income"), sign * amount)
            _post_cogs(poster, items, detail, sign)
        elif kind == "DiscountLineDetail":
            account = ref_id(line.get(kind), "DiscountAccountRef")
            poster.debit(account or chart.special("discounts-given"), sign * amount)
    tax = money((txn.get("TxnTaxDetail") or {}).get("TotalTax"))
    poster.credit(chart.special("sales-tax-payable"), sign * tax)
    return poster


def _deposit_account(txn: Mapping[str, Any], chart: ChartOfAccounts) -> str:
    return ref_id(txn, "DepositToAccountRef") or chart.special("undeposited-funds")


def _ar(txn: Mapping[str, Any], chart: ChartOfAccounts) -> str:
    return ref_id(txn, "ARAccountRef") or chart.special("accounts-receivable", _currency(txn))


def _ap(txn: Mapping[str, Any], chart: ChartOfAccounts) -> str:
    return ref_id(txn, "APAccountRef") or chart.special("accounts-payable", _currency(txn))


def _invoice(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    account = _ar(txn, chart)
    return _post_sale(txn, chart, items, txn_type="Invoice", debit_account=account, sign=1)


def _credit_memo(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    account = _ar(txn, chart)
    return _post_sale(txn, chart, items, txn_type="CreditMemo", debit_account=account, sign=-1)


def _sales_receipt(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    account = _deposit_account(txn, chart)
    return _post_sale(txn, chart, items, txn_type="SalesReceipt", debit_account=account, sign=1)


def _refund_receipt(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    account = _deposit_account(txn, chart)
    return _post_sale(txn, chart, items, txn_type="RefundReceipt", debit_account=account, sign=-1)


def _payment(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    poster = TxnPoster("Payment", txn, customer_id=ref_id(txn, "CustomerRef"))
    total = money(txn.get("TotalAmt"))
    poster.debit(_deposit_account(txn, chart), total, control=True)
    poster.credit(_ar(txn, chart), total, control=True)
    return poster


def _post_purchase_lines(
    poster: TxnPoster, chart: ChartOfAccounts, items: Items, sign: int
) -> None:
    """Expense lines of a Bill/Purchase/VendorCredit: Dr each line's account (sign -1: Cr)."""
    for line in flat_lines(poster.txn):
        amount, kind = money(line.get("Amount")), line.get("DetailType")
        detail = line.get(kind) if isinstance(line.get(kind), Mapping) else {}
        if kind == "AccountBasedExpenseLineDetail":
            account = ref_id(detail, "AccountRef")
        elif kind == "ItemBasedExpenseLineDetail":
            account = _item_account(items, ref_id(detail, "ItemRef"), purchase=True)
        else:
            continue
        poster.debit(account or chart.special("uncategorized-expense"), sign * amount)


def _bill_like(
    txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items, txn_type: str, sign: int
) -> TxnPoster:
    poster = TxnPoster(txn_type, txn, vendor_id=ref_id(txn, "VendorRef"))
    poster.credit(_ap(txn, chart), sign * money(txn.get("TotalAmt")), control=True)
    _post_purchase_lines(poster, chart, items, sign)
    return poster


def _bill(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    return _bill_like(txn, chart, items, "Bill", 1)


def _vendor_credit(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    return _bill_like(txn, chart, items, "VendorCredit", -1)


def _bill_payment(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    poster = TxnPoster("BillPayment", txn, vendor_id=ref_id(txn, "VendorRef"))
    total = money(txn.get("TotalAmt"))
    source = ref_id(txn.get("CheckPayment"), "BankAccountRef") or ref_id(
        txn.get("CreditCardPayment"), "CCAccountRef"
    )
    poster.debit(_ap(txn, chart), total, control=True)
    poster.credit(source or chart.special("uncategorized-asset"), total, control=True)
    return poster


def _purchase(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    entity = txn.get("EntityRef") if isinstance(txn.get("EntityRef"), Mapping) else {}
    entity_id, entity_type = str(entity.get("value", "")), entity.get("type")
    poster = TxnPoster(
        "Purchase",
        txn,
        customer_id=entity_id if entity_type == "Customer" else "",
        vendor_id=entity_id if entity_type == "Vendor" else "",
    )
    sign = -1 if txn.get("Credit") is True else 1
    paid_from = ref_id(txn, "AccountRef") or chart.special("uncategorized-expense")
    poster.credit(paid_from, sign * money(txn.get("TotalAmt")), control=True)
    _post_purchase_lines(poster, chart, items, sign)
    return poster


def _journal_entry(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    poster = TxnPoster("JournalEntry", txn)
    for line in flat_lines(txn):
        detail = line.get("JournalEntryLineDetail") or {}
        account = ref_id(detail, "AccountRef")
        if not account:
            continue
        entity = detail.get("Entity") or {}
        entity_id = ref_id(entity, "EntityRef")
        if entity.get("Type") == "Customer" and not poster.customer_id:
            poster.customer_id = entity_id
        if entity.get("Type") == "Vendor" and not poster.vendor_id:
            poster.vendor_id = entity_id
        amount = money(line.get("Amount"))
        sign = -1 if detail.get("PostingType") == "Credit" else 1
        poster.debit(account, sign * amount)
    return poster


def _deposit(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    poster = TxnPoster("Deposit", txn)
    poster.debit(_deposit_account(txn, chart), money(txn.get("TotalAmt")), control=True)
    for line in flat_lines(txn):
        if line.get("LinkedTxn"):
            account = chart.special("undeposited-funds")
        else:
            account = ref_id(line.get("DepositLineDetail"), "AccountRef")
        poster.credit(account or chart.special("uncategorized-income"), money(line.get("Amount")))
    cash_back = txn.get("CashBack") if isinstance(txn.get("CashBack"), Mapping) else {}
    if ref_id(cash_back, "AccountRef"):
        poster.debit(ref_id(cash_back, "AccountRef"), money(cash_back.get("Amount")))
    return poster


def _transfer(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    poster = TxnPoster("Transfer", txn)
    amount = money(txn.get("Amount"))
    fallback = chart.special("uncategorized-asset")
    poster.debit(ref_id(txn, "ToAccountRef") or fallback, amount, control=True)
    poster.credit(ref_id(txn, "FromAccountRef") or fallback, amount, control=True)
    return poster


def _card_payment(txn: Mapping[str, Any], chart: ChartOfAccounts, items: Items) -> TxnPoster:
    poster = TxnPoster("CreditCardPayment", txn)
    amount = money(txn.get("Amount"))
    fallback = chart.special("uncategorized-asset")
    poster.debit(ref_id(txn, "CreditCardAccountRef") or fallback, amount, control=True)
    poster.credit(ref_id(txn, "BankAccountRef") or fallback, amount, control=True)
    return poster


PostingRule = Callable[[Mapping[str, Any], ChartOfAccounts, Items], TxnPoster]

POSTING_RULES: dict[str, PostingRule] = {
    "Invoice": _invoice,
    "CreditMemo": _credit_memo,
    "SalesReceipt": _sales_receipt,
    "RefundReceipt": _refund_receipt,
    "Payment": _payment,
    "Bill": _bill,
    "VendorCredit": _vendor_credit,
    "BillPayment": _bill_payment,
    "Purchase": _purchase,
    "JournalEntry": _journal_entry,
    "Deposit": _deposit,
    "Transfer": _transfer,
    "CreditCardPaymentTxn": _card_payment,
}
"""Posting transaction types; Estimate and PurchaseOrder are non-posting and absent."""
