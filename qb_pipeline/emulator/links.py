"""Side effects between objects: applications, LinkedTxn both ways, party balances.

Real (API_FACTS 3.5-3.10, 11 item 11): a payment line reduces the invoice's Balance and adds
LinkedTxn on both sides; a credit memo applied in a payment reduces its RemainingCredit; bill
payments do the same to bills (LinkedTxn type BillPaymentCheck / BillPaymentCreditCard);
depositing a payment links the deposit to it; an invoice made from an estimate closes the
estimate. Customer Balance (open invoices - unapplied payments - remaining credits) and Vendor
Balance follow every change, bumping LastUpdatedTime but not SyncToken; an invoice whose
balance a payment changes is bumped like an update. Every effect is validated before any is
applied, and ``apply(sign=-1)`` undoes exactly what ``apply(sign=+1)`` did.
Not implemented: vendor credits applied in bill payments, refunds against credit memos.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.fields import ref_id
from qb_pipeline.emulator.ledger import POSTING_RULES
from qb_pipeline.emulator.ledger_accounts import ChartOfAccounts

if TYPE_CHECKING:
    from qb_pipeline.emulator.books import Books

PARTY_SIGN = {
    "Invoice": 1,
    "Payment": -1,
    "CreditMemo": -1,
    "Bill": 1,
    "BillPayment": -1,
    "VendorCredit": -1,
}


def line_links(obj: dict) -> list[tuple[str, str, float]]:
    """(TxnType, TxnId, Amount) for every link on the object's lines."""
    out = []
    for line in obj.get("Line", []):
        for link in line.get("LinkedTxn", []):
            out.append(
                (str(link.get("TxnType")), str(link.get("TxnId")), float(line.get("Amount", 0)))
            )
    return out


def validate(books: Books, entity: str, obj: dict) -> None:
    """Raise the fault QBO gives before anything is changed."""
    if entity in ("Payment", "BillPayment"):
        wanted: dict[tuple[str, str], float] = defaultdict(float)
        for txn_type, txn_id, amount in line_links(obj):
            target = {"BillPaymentCheck": "Bill"}.get(txn_type, txn_type)
            if target not in ("Invoice", "CreditMemo", "Bill"):
                raise exc.FaultError(
                    "620",
                    "Txn ID Cannot Be Linked",
                    f"Transaction type {txn_type} cannot be linked to a {entity}.",
                    "LinkedTxn",
                )
            wanted[(target, txn_id)] += amount
        for (target, txn_id), amount in wanted.items():
            linked = books.objects[target].get(txn_id)
            if linked is None:
                raise exc.ObjectNotFound(target, txn_id)
            _check_party(entity, obj, target, linked)
            open_amount = linked.get("RemainingCredit", linked.get("Balance", 0))
            if amount > float(open_amount) + 0.005:
                raise exc.BusinessRule(
                    f"The amount applied ({amount:.2f}) is greater than the open balance "
                    f"({float(open_amount):.2f}) of {target} {txn_id}.",
                    element="Line.Amount",
                )
    elif entity == "Deposit":
        for txn_type, txn_id, _amount in line_links(obj):
            linked = books.objects.get(txn_type, {}).get(txn_id)
            if linked is None:
                raise exc.ObjectNotFound(txn_type, txn_id)
            if any(x.get("TxnType") == "Deposit" for x in linked.get("LinkedTxn", [])):
                raise exc.BusinessRule(f"{txn_type} {txn_id} has already been deposited.")
    elif entity == "Invoice":
        for estimate_id in _estimate_ids(obj):
            if estimate_id not in books.objects["Estimate"]:
                raise exc.ObjectNotFound("Estimate", estimate_id)


def _check_party(entity: str, obj: dict, target: str, linked: dict) -> None:
    field = "CustomerRef" if entity == "Payment" else "VendorRef"
    if ref_id(obj, field) != ref_id(linked, field):
        raise exc.BusinessRule(
            f"The {target} {linked['Id']} belongs to another {field[:-3].lower()}.",
            element="LinkedTxn",
        )


def _estimate_ids(obj: dict) -> set[str]:
    ids = {str(x["TxnId"]) for x in obj.get("LinkedTxn", []) if x.get("TxnType") == "Estimate"}
    for line in obj.get("Line", []):
        ids |= {
            str(x["TxnId"]) for x in line.get("LinkedTxn", []) if x.get("TxnType") == "Estimate"
        }
    return ids


def apply(books: Books, entity: str, obj: dict, sign: int) -> None:
    """Add (+1) or remove (-1) the object's effects on other objects."""
    _party_balance(books, entity, obj, sign)
    _account_balances(books, entity, obj, sign)
    if entity in ("Payment", "BillPayment"):
        link_type = entity if entity == "Payment" else _bill_payment_link_type(obj)
        for txn_type, txn_id, amount in line_links(obj):
            target = "Bill" if txn_type == "BillPaymentCheck" else txn_type
            _apply_amount(books, target, txn_id, sign * amount, obj["Id"], link_type, sign)
    elif entity == "Deposit":
        for txn_type, txn_id, _amount in line_links(obj):
            linked = books.objects.get(txn_type, {}).get(txn_id)
            if linked is not None:
                _link(books, txn_type, linked, obj["Id"], "Deposit", sign)
    elif entity == "Invoice":
        for estimate_id in _estimate_ids(obj):
            estimate = books.objects["Estimate"].get(estimate_id)
            if estimate is not None:
                _link(books, "Estimate", estimate, obj["Id"], "Invoice", sign)
                estimate["TxnStatus"] = "Closed" if sign > 0 else "Accepted"


def _bill_payment_link_type(obj: dict) -> str:
    return "BillPaymentCreditCard" if obj.get("PayType") == "CreditCard" else "BillPaymentCheck"


def _apply_amount(
    books: Books, target: str, txn_id: str, amount: float, source_id: str, link_type: str, sign: int
) -> None:
    linked = books.objects[target].get(txn_id)
    if linked is None:  # deleted meanwhile: nothing to restore
        return
    books.add_applied(target, txn_id, amount)
    if target == "CreditMemo":
        linked["RemainingCredit"] = round(float(linked["RemainingCredit"]) - amount, 2)
        linked["Balance"] = linked["RemainingCredit"]
    else:
        linked["Balance"] = round(float(linked["Balance"]) - amount, 2)
    _link(books, target, linked, source_id, link_type, sign)


def _link(
    books: Books, entity: str, linked: dict, source_id: str, link_type: str, sign: int
) -> None:
    links = linked.setdefault("LinkedTxn", [])
    entry = {"TxnId": source_id, "TxnType": link_type}
    if sign > 0 and entry not in links:
        links.append(entry)
    elif sign < 0 and entry in links:
        links.remove(entry)
    books.touch(entity, linked["Id"], bump=True)


def _party_balance(books: Books, entity: str, obj: dict, sign: int) -> None:
    factor = PARTY_SIGN.get(entity)
    if factor is None:
        return
    party = "Vendor" if entity in ("Bill", "BillPayment", "VendorCredit") else "Customer"
    _adjust_party(books, party, obj, sign * factor * float(obj.get("TotalAmt", 0)))


def _adjust_party(books: Books, party: str, obj: dict, delta: float) -> None:
    party_id = ref_id(obj, f"{party}Ref")
    record = books.objects[party].get(party_id or "")
    if record is None or not delta:
        return
    record["Balance"] = round(float(record.get("Balance", 0)) + delta, 2)
    books.touch(party, record["Id"], bump=False)
    while party == "Customer" and record is not None:
        record["BalanceWithJobs"] = round(float(record.get("BalanceWithJobs", 0)) + delta, 2)
        books.touch(party, record["Id"], bump=False)
        record = books.objects["Customer"].get(ref_id(record, "ParentRef") or "")


BALANCE_SHEET = ("Asset", "Liability", "Equity")


def _account_balances(books: Books, entity: str, obj: dict, sign: int) -> None:
    """Balance-sheet accounts' CurrentBalance follows the transaction's postings."""
    rule = POSTING_RULES.get(entity)
    if rule is None:
        return
    accounts = books.objects["Account"]
    poster = rule(obj, ChartOfAccounts(accounts), books.objects["Item"])
    for posting in poster.postings():
        account = accounts.get(posting.account_id)
        if account is None or account.get("Classification") not in BALANCE_SHEET:
            continue
        net = float(posting.debit - posting.credit)
        delta = net if account["Classification"] == "Asset" else -net
        balance = round(float(account.get("CurrentBalance", 0)) + sign * delta, 2)
        account["CurrentBalance"] = balance
        account["CurrentBalanceWithSubAccounts"] = balance
        books.touch("Account", account["Id"], bump=False)
