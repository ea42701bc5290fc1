"""Transactions that move money rather than sell or buy: journal entries, deposits,
transfers, payments and bill payments (the server-computed parts of each).

Real: JournalEntry debits == credits (2300) and PostingType (2260); Deposit totals less
CashBack; Payment UnappliedAmt = TotalAmt - applied (credit memos add to what can be applied),
default deposit account Undeposited Funds; BillPayment Check/CreditCard account rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.entities import EntityType
from qb_pipeline.emulator.fields import money
from qb_pipeline.emulator.form_lines import named_ref, number_lines

if TYPE_CHECKING:
    from qb_pipeline.emulator.books import Books


def journal_entry(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    debits = credits = 0.0
    for line in obj["Line"]:
        detail = line.get("JournalEntryLineDetail")
        if line.get("DetailType") != "JournalEntryLineDetail" or not isinstance(detail, dict):
            raise exc.RequiredParam("JournalEntryLineDetail")
        if detail.get("PostingType") not in ("Debit", "Credit"):
            raise exc.FaultError(
                "2260",
                "Missing Posting Type",
                "You must select a posting type (Debit or Credit).",
                "PostingType",
            )
        if "AccountRef" not in detail:
            raise exc.RequiredParam("AccountRef")
        named_ref(books, detail, "AccountRef", "Account")
        line["Amount"] = money(line.get("Amount", 0), "Amount")
        if detail["PostingType"] == "Debit":
            debits += line["Amount"]
        else:
            credits += line["Amount"]
    if abs(debits - credits) > 0.005:
        raise exc.FaultError(
            "2300",
            "Transaction must balance",
            "Transaction must balance: Debits and credits must be equal.",
            "Line",
        )
    number_lines(obj["Line"], current, first=0)
    obj["TotalAmt"] = round(debits, 2)
    obj.setdefault("Adjustment", False)
    obj.setdefault("TxnTaxDetail", {})


def deposit(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    named_ref(books, obj, "DepositToAccountRef", "Account")
    total = 0.0
    for line in obj["Line"]:
        line["Amount"] = money(line.get("Amount", 0), "Amount")
        if "LinkedTxn" not in line:
            line.setdefault("DetailType", "DepositLineDetail")
            detail = line.setdefault("DepositLineDetail", {})
            if "AccountRef" not in detail:
                raise exc.RequiredParam("AccountRef")
            named_ref(books, detail, "AccountRef", "Account")
        total += line["Amount"]
    number_lines([x for x in obj["Line"] if "LinkedTxn" not in x], current)
    cash_back = money(obj.get("CashBack", {}).get("Amount", 0), "CashBack.Amount")
    obj["TotalAmt"] = round(total - cash_back, 2)


def transfer(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    named_ref(books, obj, "FromAccountRef", "Account")
    named_ref(books, obj, "ToAccountRef", "Account")
    obj["Amount"] = money(obj["Amount"], "Amount")


def payment(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    named_ref(books, obj, "CustomerRef", "Customer")
    obj["TotalAmt"] = money(obj["TotalAmt"], "TotalAmt")
    obj.setdefault("DepositToAccountRef", {"value": books.special_account("UndepositedFunds")})
    named_ref(books, obj, "DepositToAccountRef", "Account")
    if "PaymentMethodRef" in obj:
        named_ref(books, obj, "PaymentMethodRef", "PaymentMethod")
    applied = 0.0
    for line in obj.setdefault("Line", []):
        line["Amount"] = money(line.get("Amount", 0), "Amount")
        for link in line.get("LinkedTxn", []):
            applied += -line["Amount"] if link.get("TxnType") == "CreditMemo" else line["Amount"]
    obj["UnappliedAmt"] = round(obj["TotalAmt"] - applied, 2)
    if obj["UnappliedAmt"] < -0.005:
        raise exc.BusinessRule(
            "The amount applied to transactions is greater than the payment amount.",
            element="TotalAmt",
        )
    obj["LinkedTxn"] = [
        x for x in (current or {}).get("LinkedTxn", []) if x.get("TxnType") == "Deposit"
    ]
    obj.setdefault("ProcessPayment", False)


def bill_payment(books: Books, et: EntityType, obj: dict, current: dict | None) -> None:
    named_ref(books, obj, "VendorRef", "Vendor")
    obj["TotalAmt"] = money(obj["TotalAmt"], "TotalAmt")
    if obj["PayType"] == "Check":
        detail = obj.get("CheckPayment") or {}
        if "BankAccountRef" not in detail:
            raise exc.RequiredParam("CheckPayment.BankAccountRef")
        named_ref(books, detail, "BankAccountRef", "Account")
        detail.setdefault("PrintStatus", "NotSet")
    elif obj["PayType"] == "CreditCard":
        detail = obj.get("CreditCardPayment") or {}
        if "CCAccountRef" not in detail:
            raise exc.RequiredParam("CreditCardPayment.CCAccountRef")
        named_ref(books, detail, "CCAccountRef", "Account")
    else:
        raise exc.InvalidValue(
            "2170", "Invalid Enumeration", f"Invalid Enumeration : {obj['PayType']}", "PayType"
        )
    applied = 0.0
    for line in obj.setdefault("Line", []):
        line["Amount"] = money(line.get("Amount", 0), "Amount")
        applied += line["Amount"]
    if applied > obj["TotalAmt"] + 0.005:
        raise exc.BusinessRule("The amount applied to bills is greater than the payment amount.")
